"""Both sandboxes (GP SBA with real NTLM, BILL v3) on loopback, configured from command-line options.

Shared by the `run_sandbox` and `demo` commands. A development tool (connectors.devtools): the sandboxes
stand in for GP and BILL and are not in the wheel."""

from __future__ import annotations

from typing import Any

from sandbox.bill import server as bill_server
from sandbox.gp import server as gp_server

GP_PORT = 8701
BILL_PORT = 8702


def start_both(options: dict[str, Any]) -> tuple[Any, Any]:
    """Both sandboxes in background threads, configured from command options (shared with `demo`)."""
    gp = gp_server.start_gp_sandbox(
        host=options["host"],
        port=options["gp_port"],
        seed=options["seed"],
        latency_ms=options["latency_ms"],
        fault_rate=options["fault_rate"],
        user=options["gp_user"],
        password=options["gp_password"],
    )
    bill = bill_server.start_bill_sandbox(
        host=options["host"],
        port=options["bill_port"],
        seed=options["seed"],
        user=options["bill_user"],
        password=options["bill_password"],
        org_id=options["bill_org"],
        dev_key=options["bill_dev_key"],
        session_ttl=options["session_ttl"],
        latency_ms=options["latency_ms"],
        allow_http_webhooks=options["allow_http_webhooks"],
        payment_webhooks=not options["no_payment_webhooks"],
    )
    return gp, bill


def add_sandbox_arguments(parser: Any) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--gp-port", type=int, default=GP_PORT)
    parser.add_argument("--bill-port", type=int, default=BILL_PORT)
    parser.add_argument("--seed", default="demo", choices=["small", "demo", "bench"])
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.0, help="Share of GP requests that fail (0–1).")
    parser.add_argument("--gp-user", default=gp_server.DEFAULT_USER)
    parser.add_argument("--gp-password", default=gp_server.DEFAULT_PASSWORD)
    parser.add_argument("--bill-user", default=bill_server.DEFAULT_USER)
    parser.add_argument("--bill-password", default=bill_server.DEFAULT_PASSWORD)
    parser.add_argument("--bill-org", default=bill_server.DEFAULT_ORG)
    parser.add_argument("--bill-dev-key", default=bill_server.DEFAULT_DEV_KEY)
    parser.add_argument(
        "--allow-http-webhooks",
        action="store_true",
        help="Development only: BILL sandbox delivers webhooks to http:// URLs (BILL: https only).",
    )
    parser.add_argument(
        "--no-payment-webhooks",
        action="store_true",
        help="BILL sandbox refuses payment event subscriptions (BILL offers them to select partners).",
    )
    parser.add_argument(
        "--session-ttl",
        type=float,
        default=bill_server.DEFAULT_SESSION_TTL,
        help="BILL session idle timeout in seconds (BILL: 35 minutes).",
    )


def describe(gp: Any, bill: Any, options: dict[str, Any]) -> list[str]:
    return [
        f"GP SBA sandbox:  {gp.company_url()}",
        f"  Windows account {options['gp_user']} / {options['gp_password']} (NTLM or Basic)",
        f"BILL v3 sandbox: {bill.api_url}  (webhook API {bill.events_url})",
        f"  user {options['bill_user']} / {options['bill_password']}, org {options['bill_org']}, "
        f"devKey {options['bill_dev_key']}",
    ]

"""`python -m sandbox.bill [--port 8765] [--seed small] ...`: run the BILL sandbox and print how to reach
it."""

from __future__ import annotations

import argparse
import signal
import threading

from . import server
from .seed import SEEDS


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sandbox.bill", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--seed", choices=SEEDS, default="small")
    p.add_argument("--bill-user", default=server.DEFAULT_USER)
    p.add_argument("--bill-password", default=server.DEFAULT_PASSWORD)
    p.add_argument("--bill-org", default=server.DEFAULT_ORG)
    p.add_argument("--bill-dev-key", default=server.DEFAULT_DEV_KEY)
    p.add_argument("--session-ttl", type=float, default=server.DEFAULT_SESSION_TTL, help="idle seconds")
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--per-item-ms", type=float, default=0, help="extra latency per item written")
    p.add_argument("--hourly-budget", type=int, default=20000)
    p.add_argument("--rate-limit-status", type=int, default=429, help="HTTP status of BDC_1322/BDC_1144")
    p.add_argument("--duplicate-invoice-check", action="store_true", help="refuse duplicates with BDC_1171")
    p.add_argument(
        "--shuffle-bulk-answers",
        action="store_true",
        help="answer bulk creates in another order than the request (BILL documents no order)",
    )
    p.add_argument("--webhook-retry-scale", type=float, default=1.0)
    p.add_argument(
        "--allow-http-webhooks",
        action="store_true",
        help="development only: deliver to http:// notification URLs (BILL requires https)",
    )
    p.add_argument(
        "--no-payment-webhooks",
        action="store_true",
        help="refuse payment event subscriptions, as BILL does for orgs that are not select partners",
    )
    p.add_argument(
        "--patch-merges-nested",
        action="store_true",
        help="merge nested objects given in a vendor PATCH (default: replace them, as BILL may)",
    )
    p.add_argument("--hourly-logins", type=int, default=200, help="sign-ins per developer key per hour")
    p.add_argument("--verbose", action="store_true")
    return p


def describe(sb: server.BillSandbox) -> str:
    c = sb.credentials
    return "\n".join(
        [
            f"BILL sandbox (seed {sb.seed})",
            f"  API base URL          {sb.api_url}",
            f"  webhook API base URL  {sb.events_url}",
            f"  control API           {sb.control_url}/stats",
            f"  user name             {c.username}",
            f"  password              {c.password}",
            f"  organization ID       {c.org_id}",
            f"  developer key         {c.dev_key}",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    a = build_parser().parse_args(argv)
    sb = server.start_bill_sandbox(
        host=a.host,
        port=a.port,
        seed=a.seed,
        user=a.bill_user,
        password=a.bill_password,
        org_id=a.bill_org,
        dev_key=a.bill_dev_key,
        session_ttl=a.session_ttl,
        latency_ms=a.latency_ms,
        per_item_ms=a.per_item_ms,
        hourly_budget=a.hourly_budget,
        rate_limit_status=a.rate_limit_status,
        duplicate_invoice_check=a.duplicate_invoice_check,
        shuffle_bulk_answers=a.shuffle_bulk_answers,
        webhook_retry_scale=a.webhook_retry_scale,
        allow_http_webhooks=a.allow_http_webhooks,
        payment_webhooks=not a.no_payment_webhooks,
        patch_merges_nested=a.patch_merges_nested,
        hourly_logins=a.hourly_logins,
        verbose=a.verbose,
    )
    print(describe(sb), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()


if __name__ == "__main__":
    main()

"""The `/_sandbox/` control API: what tests, the demo and benchmarks use to steer the sandbox.

GET  stats                      request counts by path/status, max in flight per org, logins, webhooks
POST stats/reset
POST latency                    {"ms", "per_item_ms"}
GET|POST|DELETE faults          {"kind", "count", "methods", "path_contains", "status", "hold_seconds",
                                 "delay_seconds" (commit_late)}
POST sessions/expire            every session becomes invalid now (BDC_1109 on next use)
POST hold                       {"slots", "seconds"}: another integration uses in-flight slots
POST pay                        {"bills": [{"billId", "amount"?, "vendorCredits"?: [{"id", "amount"}]}],
                                 "status"?, "processDate"?, "disbursementType"?, "fundingType"?
                                 (BANK_ACCOUNT|CARD_ACCOUNT|WALLET|AP_CARD)}
POST payments/{id}/status       {"status": PAID|CANCELLED|VOID|FAILED, "reason"?}
POST payments/{id}/single-status {"singleStatus": DISBURSEMENT_FAILED_ACTION_NEEDED|FUNDS_ESCHEATED|VOIDED|…}
POST void                       {"paymentId", "reason"?}
POST config                     duplicate_invoice_check, shuffle_bulk_answers, rate_limit_status,
                                hourly_budget,
                                concurrency_limit, session_ttl, trusted_sessions, webhook_retry_scale,
                                allow_http_webhooks, payment_webhooks (false: this org is refused
                                payment events), patch_merges_nested, hourly_logins
GET  webhooks/{subscriptionId}/key   the subscription's security key (sandbox only)
POST webhooks/emit              {"eventType", "payload"}: deliver a body of any shape to the subscribers
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .app import Answer, Request
from .wire import ApiError, bad_request

if TYPE_CHECKING:
    from .server import BillSandbox

CONFIG_TARGETS = {
    "duplicate_invoice_check": ("store", "duplicate_invoice_check", bool),
    "shuffle_bulk_answers": ("store", "shuffle_bulk_answers", bool),
    "rate_limit_status": ("limits", "status", int),
    "hourly_budget": ("limits", "hourly_budget", int),
    "concurrency_limit": ("limits", "concurrency", int),
    "session_ttl": ("sessions", "ttl", float),
    "trusted_sessions": ("app", "trusted_sessions", bool),
    "webhook_retry_scale": ("hub", "retry_scale", float),
    "allow_http_webhooks": ("hub", "allow_http", bool),
    "payment_webhooks": ("hub", "payment_webhooks", bool),
    "patch_merges_nested": ("store", "patch_merges_nested", bool),
    "hourly_logins": ("sessions", "hourly_logins", int),
}


def stats(sb: BillSandbox) -> dict[str, Any]:
    orgs = sb.app.limits.snapshot()
    sessions = sb.app.sessions
    return {
        "requests": sb.running.server.stats.snapshot(),
        "orgs": orgs,
        "max_in_flight": {org: data["max_in_flight"] for org, data in orgs.items()},
        "logins": sessions.logins,
        "login_failures": dict(sessions.login_failures),
        "logins_this_hour_by_dev_key": sessions.logins_this_hour(),
        "webhooks": sb.app.hub.stats(),
        "faults_pending": sb.app.faults.describe(),
    }


def reset_stats(sb: BillSandbox) -> None:
    sb.running.server.stats.reset()
    sb.app.limits.reset()
    sb.app.sessions.logins = 0
    sb.app.sessions.login_failures.clear()


def configure(sb: BillSandbox, options: dict[str, Any]) -> dict[str, Any]:
    owners = {
        "store": sb.app.store,
        "limits": sb.app.limits,
        "sessions": sb.app.sessions,
        "app": sb.app,
        "hub": sb.app.hub,
    }
    for name, value in options.items():
        if name not in CONFIG_TARGETS:
            raise bad_request(f"unknown setting {name!r}; use one of {', '.join(CONFIG_TARGETS)}")
        owner, attr, kind = CONFIG_TARGETS[name]
        setattr(owners[owner], attr, kind(value))
    return {name: getattr(owners[o], attr) for name, (o, attr, _) in CONFIG_TARGETS.items()}


def _dispatch(sb: BillSandbox, req: Request) -> Any:
    path, method = req.path.removeprefix("/_sandbox/").rstrip("/"), req.method
    body = req.json() if req.body else {}
    if not isinstance(body, dict):
        raise bad_request("The control API takes a JSON object.")
    if (method, path) == ("GET", "stats"):
        return stats(sb)
    if (method, path) == ("POST", "stats/reset"):
        return reset_stats(sb)
    if (method, path) == ("POST", "latency"):
        return sb.set_latency(float(body.get("ms", 0)), float(body.get("per_item_ms", 0)))
    if path == "faults":
        if method == "POST":
            try:
                sb.add_fault(body.pop("kind", ""), **body)
            except (TypeError, ValueError) as exc:
                raise bad_request(str(exc)) from None
        elif method == "DELETE":
            sb.clear_faults()
        return sb.app.faults.describe()
    if (method, path) == ("POST", "sessions/expire"):
        return {"expired": sb.expire_sessions()}
    if (method, path) == ("POST", "hold"):
        return sb.hold_slots(int(body.get("slots", 1)), float(body.get("seconds", 1)))
    if (method, path) == ("POST", "pay"):
        options = {
            k: body[v]
            for k, v in (
                ("process_date", "processDate"),
                ("funding_account_id", "fundingAccountId"),
                ("transaction_number", "transactionNumber"),
                ("disbursement_type", "disbursementType"),
                ("funding_type", "fundingType"),
            )
            if v in body
        }
        return sb.pay_bills(
            body.get("bills") or [], status=str(body.get("status", "PAID")).upper(), **options
        )
    m = re.fullmatch(r"payments/([^/]+)/status", path)
    if method == "POST" and m:
        return sb.set_payment_status(m.group(1), str(body.get("status", "")), str(body.get("reason", "")))
    m = re.fullmatch(r"payments/([^/]+)/single-status", path)
    if method == "POST" and m:
        return sb.set_single_status(
            m.group(1), str(body.get("singleStatus", "")), str(body.get("reason", ""))
        )
    if (method, path) == ("POST", "void"):
        return sb.void_payment(str(body.get("paymentId", "")), str(body.get("reason", "voided in sandbox")))
    if (method, path) == ("POST", "config"):
        return configure(sb, body)
    if (method, path) == ("POST", "webhooks/emit"):
        payload = body.get("payload")
        if not isinstance(payload, dict):
            raise bad_request("payload: must be an object (the event body without its metadata)")
        return {"eventIds": sb.app.hub.emit_raw(str(body.get("eventType", "")), payload)}
    m = re.fullmatch(r"webhooks/([^/]+)/key", path)
    if method == "GET" and m:
        return {"securityKey": sb.security_key(m.group(1))}
    raise ApiError(404, "BDC_1121", f"No control endpoint {method} /_sandbox/{path}.")


def handle(sb: BillSandbox, req: Request) -> Answer:
    try:
        result = _dispatch(sb, req)
    except ApiError as exc:
        return Answer(exc.status, exc.body())
    except KeyError as exc:
        return Answer(404, ApiError(404, "BDC_1002", f"not found: {exc}").body())
    return Answer(200, result if result is not None else {"ok": True})

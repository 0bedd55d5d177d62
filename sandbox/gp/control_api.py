"""`/_sandbox/…`: the control API (not part of GP). No auth: the sandbox listens on loopback.

GET  /_sandbox/                      what this sandbox is (tenant, companies, accounts, endpoints)
GET  /_sandbox/stats                 request counts by path and status, applied payments, faults
POST /_sandbox/stats/reset           zero the counts
POST /_sandbox/reset                 {"seed"?}: fresh data; faults, latency, locks, clock and counts cleared
POST /_sandbox/latency               {"ms": 200}
POST /_sandbox/faults                {"kinds": ["5xx","timeout","reset","lock"], "rate": 0.2, "count"?,
                                      "methods"?, "path_contains"?, "timeout_seconds"?};
                                     DELETE /_sandbox/faults clears
POST /_sandbox/variant               {"stamps": "day", "lists": "bare"|"value", "vendor_status": "IsActive",
                                      "distribution_types": "integers", "skip": "ignored",
                                      "payment_numbers": "gp_assigns", "vendor_addresses": "separate"}:
                                      differ from Part B (reset undoes)
POST /_sandbox/clock                 {"now": "2026-01-01T00:00:00Z"} | {"advance_seconds": 60} | {}
                                     (real time)
POST /_sandbox/vendors               insert a vendor (Part B fields)
PATCH /_sandbox/vendors/{id}         change fields, bump ModifiedDate
POST /_sandbox/invoices              insert an invoice (Open and approved unless TransactionState says)
PATCH /_sandbox/invoices/{voucher}   change any field (posted too), bump ModifiedDate
POST /_sandbox/invoices/{voucher}/void | /post
POST /_sandbox/invoices/{voucher}/apply  {"amount", "document"?, "kind": "check"|"credit"}: a clerk pays
                                         it in GP
POST /_sandbox/locks                 {"resource": "PayablesInvoices", "key": "…", "locked": true}
POST /_sandbox/users                 {"account": "CORP\\\\other", "password": "…", "companies": [] | null}
Every call takes `?company=` (default: the first company).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .store import GPFault

if TYPE_CHECKING:
    from .handler import GPHandler


def handle(h: GPHandler) -> None:
    try:
        result = _dispatch(h)
    except GPFault as fault:
        return h.send_error_json(fault.status, fault.code, fault.message)
    except (ValueError, TypeError, KeyError) as exc:
        return h.send_error_json(400, "InvalidRequest", f"{type(exc).__name__}: {exc}")
    h.send_payload(200, result)


def _dispatch(h: GPHandler) -> Any:
    app, method = h.app, h.command
    parts = [unquote(p) for p in h.url.path.split("/")[2:] if p]
    body = h.json_body(parse_float=Decimal) if h.body else {}
    company_name = h.query.get("company") or None
    company = app.company(company_name)
    match (method, parts):
        case ("GET", []):
            return {
                "tenant": app.tenant,
                "companies": app.company_names,
                "seed": app.seed,
                "accounts": sorted(app.users),
                "endpoints": __doc__,
            }
        case ("GET", ["stats"]):
            return app.stats(company_name)
        case ("POST", ["stats", "reset"]):
            app.server.stats.reset()  # type: ignore[union-attr]
        case ("POST", ["reset"]):
            app.reset(body.get("seed"))
        case ("POST", ["latency"]):
            app.set_latency(body.get("ms", 0))
        case ("POST", ["faults"]):
            app.set_faults(**body)
        case ("DELETE", ["faults"]):
            app.clear_faults()
        case ("POST", ["variant"]):
            return {"variant": app.set_variant(**body)}
        case ("POST", ["clock"]):
            return {"now": company.set_clock(body.get("now"), body.get("advance_seconds", 0))}
        case ("POST", ["vendors"]):
            return {"Payload": company.create_vendor(body)}
        case ("PATCH", ["vendors", key]):
            return {"Payload": company.change("Vendors", key, body)}
        case ("POST", ["invoices"]):
            return {"Payload": company.insert_invoice(body)}
        case ("PATCH", ["invoices", key]):
            return {"Payload": company.change("PayablesInvoices", key, body)}
        case ("POST", ["invoices", key, "void"]):
            return {"Payload": company.void_invoice(key)}
        case ("POST", ["invoices", key, "apply"]):
            return {
                "Payload": company.apply_outside(
                    key, body["amount"], str(body.get("document") or ""), str(body.get("kind") or "check")
                )
            }
        case ("POST", ["invoices", key, "post"]):
            return {"Payload": company.post_invoice(key)}
        case ("POST", ["locks"]):
            company.set_lock(body["resource"], body["key"], body.get("locked", True))
        case ("POST", ["users"]):
            app.add_user(body["account"], body["password"], body.get("companies"))
        case _:
            raise GPFault(
                404, "NotFound", f"No control endpoint {method} {h.url.path}; GET /_sandbox/ lists them."
            )
    return {"ok": True}

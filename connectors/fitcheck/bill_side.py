"""The BILL half of the fit check: sign in and read (never create) the org, its chart of accounts,
funding accounts, vendors and webhook catalog; and how many calls are left this hour."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from connectors.bill.client import BillClient
from connectors.bill.gate import gate_for, key_of
from connectors.bill.http import BillError
from connectors.bill.webhooks import PAYMENT_EVENTS
from mappings.matching import Account, Party

from .problems import BLOCKER, WARNING, Problems


@dataclass
class BillFacts:
    report: dict[str, Any] = field(default_factory=dict)
    parties: list[Party] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    readable: bool = False


def check_bill(conn: Any, problems: Problems) -> BillFacts:
    facts = BillFacts()
    client = BillClient.for_connection(conn)
    try:
        session = client.session_info()
        facts.report["org"] = {
            "organization_id": session.get("organizationId") or conn.organization_id,
            "user_id": session.get("userId", ""),
            "user": conn.username,
        }
        vendors = [v for v in client.iter_vendors() if not v.archived]
        facts.parties = [
            Party(v.id, v.name, v.email, v.tax_id, v.address.line1, v.address.zip_code) for v in vendors
        ]
        chart = [a for a in client.iter_chart_of_accounts() if not a.archived]
        facts.accounts = [Account(a.id, a.name, a.number or "") for a in chart]
        funding = [f for f in client.iter_funding_accounts() if not f.archived]
    except BillError as exc:
        problems.add(
            "BILL", BLOCKER, "BILL sign-in and reads", exc.message, "Fix the BILL connection, then run again."
        )
        facts.report["org"] = {"organization_id": conn.organization_id, "error": exc.message}
        return facts
    facts.readable = True
    facts.report.update(
        {
            "chart_of_accounts": len(chart),
            "funding_accounts": len(funding),
            "vendors": len(vendors),
            "webhooks": _webhooks(client, problems),
            "calls": _calls(conn),
        }
    )
    if not chart:
        problems.add(
            "BILL",
            BLOCKER,
            "Chart of accounts",
            "The BILL organization has no chart of accounts entries: bill lines cannot be classified.",
            "Add accounts in BILL, or let the connector offer GP's.",
        )
    if not funding:
        problems.add(
            "BILL",
            WARNING,
            "Funding accounts",
            "The BILL organization has no bank account to pay from.",
            "Add one in BILL before paying bills.",
        )
    return facts


def _webhooks(client: BillClient, problems: Problems) -> dict[str, Any]:
    """Read the event catalog and the subscriptions (reading only: a subscription is never made here)."""
    try:
        catalog = client.call("events_catalog", "GET", "/v3/events/catalog", api="connect-events") or []
        subscriptions = (
            client.call("list_subscriptions", "GET", "/v3/subscriptions", api="connect-events") or {}
        )
    except BillError as exc:
        problems.add(
            "BILL",
            WARNING,
            "Webhooks",
            f"BILL's webhook API did not answer: {exc.message}",
            "Payments are still found by polling; ask BILL to enable webhooks for this developer key.",
        )
        return {"allowed": False, "error": exc.message}
    types = sorted(str(e.get("type")) for e in catalog if isinstance(e, dict))
    payments = [t for t in PAYMENT_EVENTS if t in types]
    if not payments:
        problems.add(
            "BILL",
            WARNING,
            "Webhooks",
            "BILL offers no payment events to this key.",
            "Payments are still found by polling, a little later.",
        )
    existing = subscriptions.get("results", []) if isinstance(subscriptions, dict) else subscriptions
    return {
        "allowed": True,
        "event_types": types,
        "payment_events": payments,
        "subscriptions": len(existing or []),
    }


def _calls(conn: Any) -> dict[str, int]:
    budget = settings.BILL_HOURLY_BUDGET
    # BILL's hour is per developer key, shared by every org that uses it (connectors/bill/gate.py).
    used = sum(gate_for(timeout_seconds=float(conn.timeout_seconds)).used_this_hour(key_of(conn)).values())
    return {
        "hourly_budget": budget,
        "used_this_hour": used,
        "left_this_hour": max(0, budget - used),
        "in_flight_limit": settings.BILL_CONCURRENCY_LIMIT,
    }

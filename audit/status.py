"""What the per-tenant dashboard shows, read from the database only (a page view never calls GP or BILL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Sum
from django.utils import timezone

from connectors.bill.gate import gate_for, key_of
from connectors.models import Tenant
from connectors.relay.status import agent_rows
from mappings.models import (
    CheckbookMapping,
    ClassificationMapping,
    GLAccountMapping,
    MappingState,
    VendorMapping,
)

from . import activity, totals
from .models import AlertDigest, Job, PollCursor, State, SyncRecord, WebhookEvent, WebhookRejection, this_hour
from .words import flow_words


def flow_rows(tenant: Tenant, now: Any = None) -> list[dict[str, Any]]:
    """Each polling flow: when it last succeeded, how far behind that is, and its last error."""
    now = now or timezone.now()
    late_after = timedelta(minutes=2 * tenant.poll_interval_minutes + 5)
    rows = []
    for cursor in PollCursor.objects.filter(tenant=tenant).order_by("flow"):
        lag = now - cursor.last_success_at if cursor.last_success_at else None
        failing = bool(cursor.last_error) and (
            cursor.last_success_at is None or (cursor.last_started_at or now) > cursor.last_success_at
        )
        rows.append(
            {
                "flow": flow_words(cursor.flow),
                "last_success_at": cursor.last_success_at,
                "lag_minutes": int(lag.total_seconds() // 60) if lag is not None else None,
                "late": lag is None or lag > late_after,
                "error": cursor.last_error if failing else "",
                "summary": cursor.last_summary,
            }
        )
    return rows


def bill_calls_this_hour(tenant: Tenant) -> dict[str, Any]:
    """Requests counted by the BILL gate this clock hour against the developer key's budget: all orgs
    using the key (BILL's limit is per key) and this tenant's org among them."""
    budget = settings.BILL_HOURLY_BUDGET
    conn = getattr(tenant, "bill_connection", None) if _has_bill(tenant) else None
    if conn is None:
        return {"used": None, "budget": budget}

    try:
        key = key_of(conn)
        by_org = gate_for().used_this_hour(key)
    except Exception:  # Redis unreachable: the dashboard still renders, without this figure
        return {"used": None, "budget": budget}
    used = sum(by_org.values())
    percent = round(100 * used / budget) if budget else None
    return {
        "used": used,
        "budget": budget,
        "percent": percent,
        "bar": min(100, max(1 if used else 0, percent or 0)),
        "busy": bool(percent and percent >= 80),
        "this_org": by_org.get(conn.organization_id, 0),
        "orgs_sharing_key": len(key.orgs),
    }


def _has_gp(tenant: Tenant) -> bool:
    try:
        tenant.gp_connection  # noqa: B018
    except Exception:
        return False
    return True


def _has_bill(tenant: Tenant) -> bool:
    try:
        tenant.bill_connection  # noqa: B018
    except Exception:
        return False
    return True


REFUSAL_REASONS = {
    "bad_signature": "bad signature",
    "too_large": "body too large",
    "wrong_org": "another BILL organization",
    "bad_body": "not a BILL event",
    "unknown_tenant": "no such tenant",
}


def webhook_status(tenant: Tenant) -> dict[str, Any]:
    """The subscriptions as we last stored them, what arrived in the last day and what was refused
    in the last 24 clock hours, by reason (no secrets)."""
    since = timezone.now() - timedelta(days=1)
    conn = tenant.bill_connection if _has_bill(tenant) else None
    events = WebhookEvent.objects.filter(tenant=tenant)
    by_state = dict(events.filter(received_at__gte=since).values_list("state").annotate(n=Count("pk")))
    refused = (
        WebhookRejection.objects.filter(tenant=tenant, hour__gte=this_hour() - timedelta(hours=23))
        .values_list("reason")
        .annotate(n=Sum("count"))
        .order_by("reason")
    )
    return {
        "configured": conn is not None,
        "subscribed": bool(conn and conn.webhook_subscription_id),
        "subscription_id": conn.webhook_subscription_id if conn else "",
        "payment_subscription_id": conn.payment_subscription_id if conn else "",
        "payments_refused": conn.payment_webhooks_refused if conn else "",
        "last_received_at": events.aggregate(last=Max("received_at"))["last"],
        "last_day": [
            (str(dict(WebhookEvent.STATES).get(state, state)).lower(), n)
            for state, n in sorted(by_state.items())
        ],
        "refused_last_day": [(REFUSAL_REASONS.get(reason, reason), n) for reason, n in refused],
    }


def recent_problems(tenant: Tenant, limit: int = 10) -> list[SyncRecord]:
    """The newest records that need a person (index: state, updated_at)."""
    return list(SyncRecord.objects.needing_attention().filter(tenant=tenant).order_by("-updated_at")[:limit])


def mappings_to_review(tenant: Tenant) -> dict[str, int]:
    from django.db.models import Count

    counts = {
        name: model.objects.filter(tenant=tenant, state=MappingState.SUGGESTED).count()
        for name, model in (
            ("vendors", VendorMapping),
            ("accounts", GLAccountMapping),
            ("checkbooks", CheckbookMapping),
        )
    }
    # Segment values: one grouped query for the three kinds.
    by_kind = dict(
        ClassificationMapping.objects.filter(tenant=tenant, state=MappingState.SUGGESTED)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    counts.update(
        {
            name: by_kind.get(kind, 0)
            for name, kind in (("departments", "department"), ("locations", "location"), ("classes", "class"))
        }
    )
    return counts


def first_run(tenant: Tenant, states: list[Any]) -> bool:
    """Nothing mapped yet and nothing synced: the dashboard leads the way instead of showing zeros."""

    if any(t.state == State.SYNCED for t in states):
        return False
    return not (
        VendorMapping.objects.filter(tenant=tenant, state=MappingState.APPROVED).exists()
        or GLAccountMapping.objects.filter(tenant=tenant, state=MappingState.APPROVED).exists()
    )


def tenant_status(tenant: Tenant) -> dict[str, Any]:

    states = totals.by_state(SyncRecord.objects.filter(tenant=tenant))
    return {
        "tenant": tenant,
        "flows": flow_rows(tenant),
        "money_by_state": totals.as_rows(states),
        "chart": activity.chart(activity.by_day(tenant)),
        "first_run": first_run(tenant, states),
        "has_gp": _has_gp(tenant),
        "has_bill": _has_bill(tenant),
        "bill_calls": bill_calls_this_hour(tenant),
        "webhook": webhook_status(tenant),
        "problems": recent_problems(tenant),
        "to_review": mappings_to_review(tenant),
        "jobs": list(Job.objects.filter(tenant=tenant).select_related("user")[:5]),
        "last_digest": AlertDigest.objects.filter(tenant=tenant).first(),
        "gp_agents": agent_rows(tenant),
    }

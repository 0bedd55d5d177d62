"""The needs-attention digest: one e-mail per tenant listing what newly needs a person.

A record is reported once per problem: a retry that fails the same way sends nothing new. The
latest `AlertDigest` is the watermark (only records changed since it are looked at) and an
`AlertMark` remembers the state each record was reported in; the mark goes when the record
recovers, so a later problem with the same record is reported again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from . import words
from .models import ATTENTION_STATES, AlertDigest, AlertMark, SyncRecord

if TYPE_CHECKING:  # the ledger core imports nothing of connectors at run time (docs/layers.md)
    from connectors.models import Tenant

log = logging.getLogger(__name__)
MAX_LISTED = 50


def recipients(tenant: Tenant) -> list[str]:
    return [e.strip() for e in tenant.alert_emails.replace(";", ",").split(",") if e.strip()]


def new_problems(tenant: Tenant, since: Any = None) -> list[SyncRecord]:
    """Records needing attention that no digest has reported in their current state."""
    AlertMark.objects.filter(record__tenant=tenant).exclude(record__state__in=ATTENTION_STATES).delete()
    candidates = SyncRecord.objects.filter(tenant=tenant, state__in=ATTENTION_STATES).select_related(
        "alert_mark"
    )
    if since is not None:
        candidates = candidates.filter(updated_at__gte=since)
    out = []
    for record in candidates.order_by("kind", "updated_at"):
        mark = _mark(record)
        if mark is None or mark.state != record.state:
            out.append(record)
    return out


def send_digest(tenant: Tenant, base_url: str = "") -> AlertDigest | None:
    """Send the tenant's digest if anything new needs attention; None when there is nothing to say."""
    to = recipients(tenant)
    if not to:
        return None
    started = timezone.now()
    last = AlertDigest.objects.filter(tenant=tenant).first()
    records = new_problems(tenant, since=last.started_at if last else None)
    if not records:
        return None
    by_state: dict[str, list[SyncRecord]] = defaultdict(list)
    for record in records:
        by_state[record.get_state_display()].append(record)
    base = (base_url or getattr(settings, "SITE_URL", "")).rstrip("/")
    if not base:
        log.warning("SITE_URL is not set: the digest's links are paths, not clickable addresses")
    summary = words.records_sentence(records)
    context = {
        "tenant": tenant,
        "count": len(records),
        "groups": dict(by_state),
        "limit": MAX_LISTED,
        "base": base,
        "summary": summary,
    }
    subject = f"[ml-connector] {tenant.name}: {summary} — need attention"
    body = render_to_string("ml/alert_digest.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    with transaction.atomic():
        for record in records:
            AlertMark.objects.update_or_create(record=record, defaults={"state": record.state})
        digest = AlertDigest.objects.create(
            tenant=tenant, started_at=started, records=len(records), recipients=", ".join(to)[:500]
        )
    log.info("sent needs-attention digest for %s: %d record(s)", tenant.slug, len(records))
    return digest


def alert_now(
    record: SyncRecord, subject: str, reason: str, fix: str, details: dict[str, str], base_url: str = ""
) -> bool:
    """An alert that cannot wait for the digest (a double-payment risk): one e-mail now, to the tenant's
    alert contacts. The record is marked as reported so the next digest does not repeat it."""
    tenant = record.tenant
    to = recipients(tenant)
    if not to:
        log.warning("no alert contacts for %s: urgent alert not sent: %s", tenant.slug, subject)
        return False
    base = (base_url or getattr(settings, "SITE_URL", "")).rstrip("/")
    lines = [f"{tenant.name}: {reason}", "", f"What to do: {fix}", ""]
    lines += [f"  {key.replace('_', ' ')}: {value}" for key, value in details.items()]
    if base:
        lines += ["", f"Record: {base}/admin/audit/syncrecord/{record.pk}/change/"]
    try:
        send_mail(
            f"[ml-connector] URGENT {tenant.name}: {subject}",
            "\n".join(lines),
            settings.DEFAULT_FROM_EMAIL,
            to,
        )
    except Exception:  # mail down: the record stays flagged and the digest reports it
        log.exception("urgent alert for %s record %s could not be sent", tenant.slug, record.pk)
        return False
    AlertMark.objects.update_or_create(record=record, defaults={"state": record.state})
    log.warning("urgent alert sent for %s record %s: %s", tenant.slug, record.pk, subject)
    return True


def send_digests() -> int:
    """Every active tenant's digest (the scheduled task); returns how many e-mails went out."""
    tenants = apps.get_model("connectors", "Tenant").objects.filter(is_active=True)
    return sum(1 for tenant in tenants if send_digest(tenant))


def _mark(record: SyncRecord) -> AlertMark | None:
    try:
        return record.alert_mark
    except AlertMark.DoesNotExist:
        return None

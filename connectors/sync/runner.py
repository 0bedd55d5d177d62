"""Run a tenant's flows in order, one run per (tenant, flow) at a time, and retry what is due."""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from audit.models import Kind, State, SyncRecord, Trigger
from connectors.models import Tenant

from .context import SyncContext
from .locks import flow_lock

log = logging.getLogger(__name__)

GP_TO_BILL = ("vendors", "gl_accounts", "bills", "retries")


def run_gp_to_bill(tenant: Tenant, *, trigger: str = Trigger.SCHEDULE, user: Any = None, full: bool = False,
                   ctx: SyncContext | None = None) -> dict[str, Any]:
    """Vendors first (bills need them mapped), then accounts, then bills, then due retries."""
    from .bills import sync_bills
    from .gl_accounts import sync_gl_accounts
    from .vendors import sync_vendors

    ctx = ctx or SyncContext.for_tenant(tenant, trigger=trigger, user=user)
    with flow_lock(f"{tenant.pk}:gp_to_bill") as held:
        if not held:
            log.info("GP → BILL run for %s skipped: another run is in progress", tenant.slug)
            return {"skipped": "another run is in progress"}
        sync_vendors(ctx, full=full)
        sync_gl_accounts(ctx)
        sync_bills(ctx, full=full)
        retry_due(ctx)
    return dict(ctx.tally)


def run_bill_to_gp(tenant: Tenant, *, trigger: str = Trigger.SCHEDULE, user: Any = None, full: bool = False,
                   ctx: SyncContext | None = None) -> dict[str, Any]:
    """The polling safety net behind webhooks: BILL payments and vendor changes into GP."""
    from .payments import sync_payments
    from .vendors_back import sync_bill_vendors

    ctx = ctx or SyncContext.for_tenant(tenant, trigger=trigger, user=user)
    with flow_lock(f"{tenant.pk}:bill_to_gp") as held:
        if not held:
            log.info("BILL → GP run for %s skipped: another run is in progress", tenant.slug)
            return {"skipped": "another run is in progress"}
        sync_payments(ctx, full=full)
        sync_bill_vendors(ctx, full=full)
    return dict(ctx.tally)


def retry_due(ctx: SyncContext, limit: int = 500) -> int:
    """Replay records whose retry time has come, and rows left `sending` by a dead worker."""
    from audit.ledger import stuck_sending

    from .replay import replay_record

    now = timezone.now()
    due = list(
        SyncRecord.objects.filter(tenant=ctx.tenant, state__in=[State.FAILED, State.IN_DOUBT], next_retry_at__lte=now)
        .exclude(kind=Kind.GP_PAYMENT)[:limit]
    ) + list(stuck_sending().filter(tenant=ctx.tenant).exclude(kind=Kind.GP_PAYMENT)[:limit])
    for record in due:
        replay_record(record, trigger=Trigger.SCHEDULE, ctx=ctx)
    return len(due)

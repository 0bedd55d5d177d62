"""Run a tenant's flows in order, one run per (tenant, flow) at a time, and retry what is due."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from audit.models import Kind, SyncRecord, Trigger
from connectors.models import Tenant

from .bill_to_gp.payments import sync_payments
from .bill_to_gp.vendors_back import sync_bill_vendors
from .context import SyncContext
from .gp_to_bill.bills import sync_bills
from .gp_to_bill.classifications import sync_classifications
from .gp_to_bill.gl_accounts import sync_gl_accounts
from .gp_to_bill.vendors import sync_vendors
from .locks import flow_lock
from .replay import replay_record

log = logging.getLogger(__name__)


def _run(
    tenant: Tenant,
    direction: str,
    label: str,
    steps: Callable[[SyncContext], None],
    *,
    trigger: str,
    user: Any,
    ctx: SyncContext | None,
) -> dict[str, Any]:
    """One direction under its lock: a second run of the same (tenant, direction) is skipped."""
    ctx = ctx or SyncContext.for_tenant(tenant, trigger=trigger, user=user)
    with flow_lock(f"{tenant.pk}:{direction}") as held:
        if not held:
            log.info("%s run for %s skipped: another run is in progress", label, tenant.slug)
            return {"skipped": "another run is in progress"}
        steps(ctx)
    return dict(ctx.tally)


def run_gp_to_bill(
    tenant: Tenant,
    *,
    trigger: str = Trigger.SCHEDULE,
    user: Any = None,
    full: bool = False,
    ctx: SyncContext | None = None,
) -> dict[str, Any]:
    """Vendors first (bills need them mapped), then accounts and segment classifications, then bills, then
    due retries."""

    def steps(c: SyncContext) -> None:
        sync_vendors(c, full=full)
        sync_gl_accounts(c)
        sync_classifications(c)
        sync_bills(c, full=full)
        retry_due(c)

    return _run(tenant, "gp_to_bill", "GP → BILL", steps, trigger=trigger, user=user, ctx=ctx)


def run_bill_to_gp(
    tenant: Tenant,
    *,
    trigger: str = Trigger.SCHEDULE,
    user: Any = None,
    full: bool = False,
    ctx: SyncContext | None = None,
) -> dict[str, Any]:
    """The polling safety net behind webhooks: BILL payments and vendor changes into GP."""

    def steps(c: SyncContext) -> None:
        sync_payments(c, full=full)
        sync_bill_vendors(c, full=full)

    return _run(tenant, "bill_to_gp", "BILL → GP", steps, trigger=trigger, user=user, ctx=ctx)


def retry_due(ctx: SyncContext, limit: int = 500) -> int:
    """Replay records whose retry time has come, and rows left `sending` by a dead worker."""
    # An in_doubt row with no retry time (a create that timed out) is due now: it is only looked up.
    rows = SyncRecord.objects.filter(tenant=ctx.tenant).exclude(kind=Kind.GP_PAYMENT)
    due = list(rows.due_for_retry()[:limit]) + list(rows.stuck_sending()[:limit])
    for record in due:
        replay_record(record, trigger=Trigger.SCHEDULE, ctx=ctx)
    return len(due)

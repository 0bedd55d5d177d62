"""One django-q2 schedule per tenant and flow, created idempotently (Schedule.name is not unique)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from connectors.models import Tenant


def schedule_name(tenant: Tenant, flow: str) -> str:
    return f"ml-connector:{tenant.slug}:{flow}"


# A scheduled run's success is not stored as a django-q2 task result: an idle poll every five minutes
# per tenant would otherwise insert (and prune) a row each time. What screens show of a run (its last
# success, its summary) is on the poll cursor; failures are still stored (django-q2 "Failed tasks").
NO_SUCCESS_RESULT = "q_options={'save': False}"
# The scheduler passes each poll the time it was due (django-q2's `intended_date_kwarg`), so that a poll
# queued behind a later one of the same tenant is skipped (connectors.tasks.sync_tenant).
DUE_KWARG = "due"
SYNC_TASK = "connectors.tasks.sync_tenant"


def ensure_schedules(tenant: Tenant) -> list[Schedule]:
    """Create or update the tenant's schedules to its poll interval; remove them when inactive."""
    flows = {
        "sync": (SYNC_TASK, tenant.poll_interval_minutes),
        "webhook_watchdog": ("connectors.tasks.webhook_watchdog", 15),
        "alert_digest": ("audit.tasks.send_alert_digest", 15),
    }
    out = []
    for flow, (func, minutes) in flows.items():
        name = schedule_name(tenant, flow)
        existing = Schedule.objects.filter(name=name).order_by("pk")
        if not tenant.is_active:
            existing.delete()
            continue
        schedule = existing.first()
        for extra in existing[1:]:
            extra.delete()
        if schedule is None:
            schedule = Schedule(name=name)
        schedule.func = func
        schedule.args = repr((tenant.pk,))
        schedule.kwargs = NO_SUCCESS_RESULT
        schedule.schedule_type = Schedule.MINUTES
        schedule.minutes = minutes
        schedule.repeats = -1
        schedule.intended_date_kwarg = DUE_KWARG if func == SYNC_TASK else None
        schedule.save()
        out.append(schedule)
    return out


def pass_due_times() -> int:
    """Schedules made before polls were told their due time get it (after every migrate)."""
    return (
        Schedule.objects.filter(func=SYNC_TASK)
        .exclude(intended_date_kwarg=DUE_KWARG)
        .update(intended_date_kwarg=DUE_KWARG)
    )


RETENTION_SCHEDULE = "ml-connector:retention"


def ensure_global_schedules() -> Schedule:
    """The one schedule not tied to a tenant: the daily retention prune (idempotent, after every migrate)."""
    existing = Schedule.objects.filter(name=RETENTION_SCHEDULE).order_by("pk")
    schedule = existing.first()
    for extra in existing[1:]:
        extra.delete()
    if schedule is None:
        # First run at 03:00 (TIME_ZONE) tomorrow: a prune belongs to the quiet hours, not to set-up.
        tomorrow = timezone.localtime() + timedelta(days=1)
        schedule = Schedule(name=RETENTION_SCHEDULE, next_run=tomorrow.replace(hour=3, minute=0, second=0))
    schedule.func = "audit.tasks.prune_retention"
    schedule.schedule_type = Schedule.DAILY
    schedule.repeats = -1
    schedule.save()
    return schedule

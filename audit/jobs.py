"""Long actions started from the admin run as tasks and report progress on a `Job` row.

A person starts one (bulk replay, initial load, sync now, preview, drift report) and lands on the
job page, which reads the row while a worker fills it in. The work itself is the same function the
flows, tests and commands call; this module only counts and records.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from connectors.models import Tenant
from connectors.queue import LONG, enqueue

# Modules, not their functions: tests replace `replay_many`, `preview`, `drift_report` on them.
from connectors.sync import drift, preview, replay, runner
from connectors.sync.errors import explain
from connectors.tenancy import scope, sees_all, tenants_for

from .models import Job, SyncRecord, Trigger

log = logging.getLogger(__name__)
REPLAY_CHUNK = 20
# A job neither finished nor started this long after it was queued lost its worker: it no longer
# stands in for a new replay of its records (a person's Replay would otherwise wait forever).
LOST_AFTER = timedelta(hours=1)


def start(
    kind: str, *, user: Any = None, tenant: Tenant | None = None, record_ids: Iterable[int] = ()
) -> Job:
    """Create the job row and queue it on the long queue; the caller redirects to the job page."""
    ids = [int(i) for i in record_ids]
    job = Job.objects.create(
        kind=kind,
        tenant=tenant,
        user=user if getattr(user, "pk", None) else None,
        record_ids=ids,
        total=len(ids),
    )
    enqueue("audit.tasks.run_job", job.pk, queue=LONG)  # minutes to hours: never in front of a webhook
    return job


def visible_to(user: Any, queryset: QuerySet[Job] | None = None) -> QuerySet[Job]:
    """Jobs of the user's tenants, and the tenant-less ones (bulk replays) they started themselves."""
    queryset = Job.objects.all() if queryset is None else queryset
    if sees_all(user):
        return queryset
    return queryset.filter(Q(tenant__in=tenants_for(user).values("pk")) | Q(tenant__isnull=True, user=user))


def run(job_id: int) -> Job:
    """Run a queued job to the end, recording progress, result and any error on the row."""
    job = Job.objects.select_related("tenant", "user").get(pk=job_id)
    if job.state != Job.QUEUED:
        return job  # a redelivered task must not run the work twice
    job.state, job.started_at = Job.RUNNING, timezone.now()
    job.save(update_fields=["state", "started_at"])
    try:
        RUNNERS[job.kind](job)
        job.state = Job.DONE
    except Exception as exc:  # the person who started it reads the error on the job page
        log.exception("job %s failed", job)
        job.state, job.error = Job.FAILED, explain(exc)
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "error", "finished_at", "result", "done"])
    return job


def replay_waiting_for(record: SyncRecord) -> Job | None:
    """The queued or running replay that has yet to replay `record`, oldest first, if any.

    A running one counts until it has finished the record's chunk (a bulk replay that is past the
    record would not read its source again, so a new click then deserves a new job)."""
    since = timezone.now() - LOST_AFTER
    active = Job.objects.filter(kind=Job.REPLAY).filter(
        Q(state=Job.QUEUED, created_at__gte=since) | Q(state=Job.RUNNING, started_at__gte=since)
    )
    active = active.filter(Q(tenant_id=record.tenant_id) | Q(tenant__isnull=True)).select_related("user")
    for job in active.order_by("created_at", "pk"):
        ids = [int(i) for i in job.record_ids]
        if record.pk in ids and ids.index(record.pk) >= job.done:
            return job
    return None


def _replay(job: Job) -> None:
    tally: Counter[str] = Counter()
    for start_at in range(0, len(job.record_ids), REPLAY_CHUNK):
        chunk = job.record_ids[start_at : start_at + REPLAY_CHUNK]
        if (
            job.user is not None
        ):  # a person's replay touches only their tenants' records, however it was queued
            chunk = list(
                scope(SyncRecord.objects.filter(pk__in=chunk), job.user).values_list("pk", flat=True)
            )
        tally.update(replay.replay_many(chunk, trigger=Trigger.REPLAY, user=job.user))
        job.done = min(job.total, start_at + len(chunk))
        job.result = {"by_state": dict(tally)}
        job.save(update_fields=["done", "result"])


def _tenant(job: Job) -> Tenant:
    if job.tenant_id is None:  # an install-wide job: as `get(pk=None)` would, there is no such tenant
        raise Tenant.DoesNotExist(f"job {job.pk} is for no tenant")
    return Tenant.objects.select_related("gp_connection", "bill_connection").get(pk=job.tenant_id)


def _sync(job: Job, *, full: bool) -> None:
    tenant = _tenant(job)
    job.result = {
        "gp_to_bill": runner.run_gp_to_bill(tenant, trigger=Trigger.PERSON, user=job.user, full=full),
        "bill_to_gp": runner.run_bill_to_gp(tenant, trigger=Trigger.PERSON, user=job.user, full=full),
    }


def _preview(job: Job) -> None:
    job.result = preview.preview(_tenant(job))


def _drift(job: Job) -> None:
    job.result = drift.drift_report(_tenant(job))


RUNNERS: dict[str, Callable[[Job], None]] = {
    Job.REPLAY: _replay,
    Job.INITIAL_LOAD: lambda job: _sync(job, full=True),
    Job.SYNC_NOW: lambda job: _sync(job, full=False),
    Job.PREVIEW: _preview,
    Job.DRIFT: _drift,
}


def records_touched(job: Job) -> int:
    """Progress of a sync whose size is unknown up front: ledger rows it has written so far."""
    if not job.tenant_id or not job.started_at:
        return 0
    until = job.finished_at or timezone.now()
    return SyncRecord.objects.filter(
        tenant_id=job.tenant_id, updated_at__gte=job.started_at, updated_at__lte=until
    ).count()

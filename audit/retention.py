"""Retention: what the connector keeps, and for how long, so a hosted database does not grow for ever.

Every table that grows with time has a setting (days; 0 keeps everything), read when the prune runs:

- trail (`Attempt`): `RETENTION_TRAIL_DAYS`, default 396. Never pruned: any attempt of a record that is
  not settled (needs attention, waiting, sending); the attempt that created or adopted a record's
  target; each record's newest attempt.
- webhook events: `RETENTION_WEBHOOK_EVENT_DAYS`, 396. Never pruned: events not processed yet
  (received, failed).
- refused-delivery counters: `RETENTION_REJECTION_DAYS`, 30. Never pruned: counters that moved since.
- background jobs: `RETENTION_JOB_DAYS`, 90. Never pruned: queued or running jobs.
- task results (django-q2): `RETENTION_TASK_RESULT_DAYS`, 30. Never pruned: tasks still queued.
- alert digests: `RETENTION_TRAIL_DAYS`, 396. Never pruned: each tenant's latest digest (the watermark
  the next one starts from).

Ledger rows, cursors, mappings and mapping changes are never pruned: they are what stops a second
bill or a second payment, and what says who approved what. 13 months (396 days) keeps a full year and
its year-end close in view. Deletes go in small batches so a prune never holds long locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from .models import AlertDigest, Attempt, Job, State, WebhookEvent, WebhookRejection

BATCH = 2000
LINEAGE_OUTCOMES = ("created", "adopted")
SETTLED_STATES = (State.SYNCED, State.SKIPPED)


@dataclass(frozen=True)
class RetentionPolicy:
    trail_days: int = 396
    webhook_event_days: int = 396
    rejection_days: int = 30
    job_days: int = 90
    task_result_days: int = 30

    @classmethod
    def from_settings(cls) -> RetentionPolicy:
        defaults = cls()
        return cls(
            trail_days=getattr(settings, "RETENTION_TRAIL_DAYS", defaults.trail_days),
            webhook_event_days=getattr(settings, "RETENTION_WEBHOOK_EVENT_DAYS", defaults.webhook_event_days),
            rejection_days=getattr(settings, "RETENTION_REJECTION_DAYS", defaults.rejection_days),
            job_days=getattr(settings, "RETENTION_JOB_DAYS", defaults.job_days),
            task_result_days=getattr(settings, "RETENTION_TASK_RESULT_DAYS", defaults.task_result_days),
        )


def _delete_in_batches(queryset: QuerySet) -> int:
    """Delete what `queryset` selects a batch of primary keys at a time; returns the rows deleted."""
    model = queryset.model
    deleted = 0
    while True:
        pks = list(queryset.values_list("pk", flat=True)[:BATCH])
        if not pks:
            return deleted
        model.objects.filter(pk__in=pks).delete()  # type: ignore[attr-defined]
        deleted += len(pks)


def _cutoff(days: int) -> datetime | None:
    return timezone.now() - timedelta(days=days) if days > 0 else None


def prunable_attempts(cutoff: datetime, record_ids: list[int] | None = None) -> QuerySet[Attempt]:
    """Old attempts of settled records, less each record's lineage and its newest attempt
    (`record_ids`: only these records' attempts, so the newest-per-record subquery stays small)."""
    scope = Attempt.objects.filter(record__state__in=SETTLED_STATES)
    if record_ids is not None:
        scope = scope.filter(record_id__in=record_ids)
    newest = scope.values("record").annotate(newest=Max("id")).values("newest")
    return scope.filter(started_at__lt=cutoff).exclude(outcome__in=LINEAGE_OUTCOMES).exclude(id__in=newest)


def _prune_trail(cutoff: datetime) -> int:
    """The trail, a batch of records at a time: only records that have an old attempt which may go
    (walked by record ID), and for each batch the newest attempt of those records only, never of the
    whole table again per deleted batch."""
    deleted, last = 0, 0
    while True:
        ids = list(
            Attempt.objects.filter(
                started_at__lt=cutoff, record_id__gt=last, record__state__in=SETTLED_STATES
            )
            .exclude(outcome__in=LINEAGE_OUTCOMES)
            .order_by("record_id")
            .values_list("record_id", flat=True)
            .distinct()[:BATCH]
        )
        if not ids:
            return deleted
        last = ids[-1]
        deleted += _delete_in_batches(prunable_attempts(cutoff, ids))


def prune(policy: RetentionPolicy | None = None) -> dict[str, int]:
    """Delete what the policy no longer keeps; returns rows deleted per table (for the task's result)."""
    policy = policy or RetentionPolicy.from_settings()
    deleted: dict[str, int] = {}
    if cutoff := _cutoff(policy.trail_days):
        deleted["trail"] = _prune_trail(cutoff)
        latest = AlertDigest.objects.values("tenant").annotate(latest=Max("id")).values("latest")
        deleted["alert_digests"] = _delete_in_batches(
            AlertDigest.objects.filter(sent_at__lt=cutoff).exclude(id__in=latest)
        )
    if cutoff := _cutoff(policy.webhook_event_days):
        done = Q(state__in=(WebhookEvent.PROCESSED, WebhookEvent.IGNORED))
        deleted["webhook_events"] = _delete_in_batches(
            WebhookEvent.objects.filter(done, received_at__lt=cutoff)
        )
    if cutoff := _cutoff(policy.rejection_days):
        deleted["webhook_rejections"] = _delete_in_batches(
            WebhookRejection.objects.filter(last_at__lt=cutoff)
        )
    if cutoff := _cutoff(policy.job_days):
        finished = Q(state__in=(Job.DONE, Job.FAILED))
        deleted["jobs"] = _delete_in_batches(Job.objects.filter(finished, created_at__lt=cutoff))
    if cutoff := _cutoff(policy.task_result_days):
        from django_q.models import Task  # third-party model; the ledger core owns no tasks of its own

        deleted["task_results"] = _delete_in_batches(Task.objects.filter(stopped__lt=cutoff))
    return deleted

"""The retention prune: old evidence goes, nothing a live record or a future dedupe still needs does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AlertDigest, Attempt, Job, State, SyncRecord, WebhookEvent, WebhookRejection
from audit.retention import RetentionPolicy, prune

OLD = timezone.now() - timedelta(days=500)
RECENT = timezone.now() - timedelta(days=10)


def _attempt(record: SyncRecord, outcome: str, at: timezone.datetime) -> Attempt:
    return Attempt.objects.create(
        record=record, flow="bills", trigger="schedule", started_at=at, outcome=outcome
    )


def _record(tenant, key: str, state: str) -> SyncRecord:
    return SyncRecord.objects.create(tenant=tenant, kind="bill", source_key=key, state=state)


@pytest.mark.django_db
def test_it_prunes_old_trail_rows_of_settled_records_but_keeps_their_lineage_and_newest(tenant):
    synced = _record(tenant, "V1", State.SYNCED)
    created = _attempt(synced, "created", OLD)
    noise = [_attempt(synced, "unchanged", OLD + timedelta(minutes=i)) for i in range(5)]
    newest = _attempt(synced, "updated", OLD + timedelta(days=1))
    recent = _attempt(synced, "unchanged", RECENT)

    deleted = prune(RetentionPolicy())

    assert deleted["trail"] == len(noise) + 1  # the old 'updated' is no longer the newest: `recent` is
    assert set(synced.trail.values_list("id", flat=True)) == {created.id, recent.id}
    assert not Attempt.objects.filter(id=newest.id).exists()


@pytest.mark.django_db
def test_the_trail_is_pruned_across_many_record_batches_and_each_record_keeps_its_newest(tenant, monkeypatch):
    monkeypatch.setattr("audit.retention.BATCH", 2)  # records walked two at a time, deletes two at a time
    records = [_record(tenant, f"V{i}", State.SYNCED if i != 3 else State.FAILED) for i in range(7)]
    kept = {}
    for r in records:
        created = _attempt(r, "created", OLD)
        for minute in range(3):
            _attempt(r, "unchanged", OLD + timedelta(minutes=minute + 1))
        newest = _attempt(r, "unchanged", OLD + timedelta(hours=1))
        kept[r.pk] = {created.id, newest.id}

    deleted = prune(RetentionPolicy())

    assert deleted["trail"] == 6 * 3  # the failed record keeps every attempt
    for r in records:
        ids = set(r.trail.values_list("id", flat=True))
        assert ids == kept[r.pk] if r.state == State.SYNCED else len(ids) == 5


@pytest.mark.django_db
def test_it_keeps_every_attempt_of_a_record_that_still_needs_attention(tenant):
    failed = _record(tenant, "V2", State.FAILED)
    tries = [_attempt(failed, "error", OLD + timedelta(hours=i)) for i in range(4)]
    lonely = _record(tenant, "V3", State.SYNCED)
    only = _attempt(lonely, "updated", OLD)  # its only (so newest) attempt

    prune(RetentionPolicy())

    assert failed.trail.count() == len(tries)
    assert list(lonely.trail.values_list("id", flat=True)) == [only.id]


@pytest.mark.django_db
def test_it_keeps_unprocessed_webhook_events_and_live_jobs(tenant):
    def event(event_id: str, state: str) -> WebhookEvent:
        e = WebhookEvent.objects.create(
            tenant=tenant, event_id=event_id, event_type="bill.updated", state=state
        )
        WebhookEvent.objects.filter(pk=e.pk).update(received_at=OLD)
        return e

    done, ignored = event("e1", WebhookEvent.PROCESSED), event("e2", WebhookEvent.IGNORED)
    waiting, failed = event("e3", WebhookEvent.RECEIVED), event("e4", WebhookEvent.FAILED)
    fresh = WebhookEvent.objects.create(
        tenant=tenant, event_id="e5", event_type="bill.updated", state=WebhookEvent.PROCESSED
    )
    old_done = Job.objects.create(tenant=tenant, kind=Job.REPLAY, state=Job.DONE)
    old_running = Job.objects.create(tenant=tenant, kind=Job.REPLAY, state=Job.RUNNING)
    Job.objects.filter(pk__in=[old_done.pk, old_running.pk]).update(created_at=OLD)
    counter = WebhookRejection.objects.create(tenant=tenant, reason="bad_signature", count=3)
    WebhookRejection.objects.filter(pk=counter.pk).update(last_at=OLD)

    prune(RetentionPolicy())

    assert set(WebhookEvent.objects.values_list("id", flat=True)) == {waiting.id, failed.id, fresh.id}
    assert not WebhookEvent.objects.filter(id__in=[done.id, ignored.id]).exists()
    assert list(Job.objects.values_list("id", flat=True)) == [old_running.id]
    assert not WebhookRejection.objects.exists()


@pytest.mark.django_db
def test_it_keeps_each_tenants_latest_digest_as_the_next_ones_watermark(tenant):
    first = AlertDigest.objects.create(tenant=tenant, started_at=OLD)
    last = AlertDigest.objects.create(tenant=tenant, started_at=OLD + timedelta(days=1))
    AlertDigest.objects.filter(pk__in=[first.pk, last.pk]).update(sent_at=OLD)

    prune(RetentionPolicy())

    assert list(AlertDigest.objects.values_list("id", flat=True)) == [last.id]


@pytest.mark.django_db
def test_zero_days_keeps_everything(tenant):
    synced = _record(tenant, "V4", State.SYNCED)
    for i in range(3):
        _attempt(synced, "unchanged", OLD + timedelta(minutes=i))

    assert (
        prune(
            RetentionPolicy(
                trail_days=0, webhook_event_days=0, rejection_days=0, job_days=0, task_result_days=0
            )
        )
        == {}
    )
    assert synced.trail.count() == 3


@pytest.mark.django_db
def test_the_daily_prune_is_scheduled_once_however_often_it_is_ensured():
    from django_q.models import Schedule

    from connectors.schedules import RETENTION_SCHEDULE, ensure_global_schedules

    ensure_global_schedules()
    ensure_global_schedules()
    schedules = Schedule.objects.filter(name=RETENTION_SCHEDULE)
    assert schedules.count() == 1
    assert (schedules[0].func, schedules[0].schedule_type) == ("audit.tasks.prune_retention", Schedule.DAILY)

"""The write-ahead ledger: committed before the call, append-only trail, retry back-off."""

from __future__ import annotations

import pytest

from audit.ledger import attempt, get_record, is_uncertain, settle, write_ahead
from audit.models import Attempt, Kind, State, SyncRecord


@pytest.mark.django_db(transaction=True)
def test_it_commits_the_sending_state_before_the_external_call(tenant):
    from django.db import connections

    record = get_record(tenant, Kind.BILL, "PM000001")
    write_ahead([record])
    # A second connection (another process, in effect) sees the row already `sending`.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cur:
            cur.execute("SELECT state, attempts FROM audit_syncrecord WHERE id = %s", [record.pk])
            assert cur.fetchone() == ("sending", 1)
    finally:
        other.close()
    assert is_uncertain(SyncRecord.objects.get(pk=record.pk))


def test_it_refuses_a_write_ahead_inside_an_open_transaction(tenant):
    record = get_record(tenant, Kind.BILL, "PM000002")
    with pytest.raises(RuntimeError, match="outside a transaction"):
        write_ahead([record])


def test_it_keeps_the_trail_append_only(tenant):
    record = get_record(tenant, Kind.BILL, "PM000003")
    with attempt(record, "gp_bills", "schedule") as log_:
        log_.outcome = "created"
        log_.request = {"invoiceNumber": "INV-1", "password": "hunter2", "nested": {"sessionId": "abc"}}
    entry = Attempt.objects.get(record=record)
    assert entry.request == {
        "invoiceNumber": "INV-1",
        "password": "[redacted]",
        "nested": {"sessionId": "[redacted]"},
    }
    entry.error = "changed"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()


def test_it_records_the_failure_of_an_attempt_that_raised(tenant):
    record = get_record(tenant, Kind.BILL, "PM000004")
    with pytest.raises(ZeroDivisionError), attempt(record, "gp_bills", "replay"):
        1 / 0  # noqa: B018
    entry = Attempt.objects.get(record=record)
    assert entry.outcome == "error" and "division by zero" in entry.error


def test_it_backs_off_longer_after_each_failure(tenant):
    record = get_record(tenant, Kind.BILL, "PM000005")
    waits = []
    for n in range(1, 4):
        record.attempts = n
        settle(record, State.FAILED, reason="BILL answered 503")
        waits.append(record.next_retry_at)
    assert waits[0] < waits[1] < waits[2]
    settle(record, State.SYNCED)
    assert record.next_retry_at is None and record.reason == ""


@pytest.mark.django_db(transaction=True)
def test_two_writers_that_read_the_same_row_cannot_both_write_it_ahead(tenant):
    """write_ahead is a compare-and-set on the state each writer read: the second one loses."""
    pk = get_record(tenant, Kind.VENDOR, "ASSOCIAT0001").pk
    first, second = SyncRecord.objects.get(pk=pk), SyncRecord.objects.get(pk=pk)
    assert write_ahead([first]) == [first]
    assert write_ahead([second]) == []
    # Read afresh, the row is another live writer's `sending` row: still not taken.
    assert write_ahead([SyncRecord.objects.get(pk=pk)]) == []
    assert SyncRecord.objects.get(pk=pk).attempts == 1
    settle(first, State.FAILED, reason="BILL answered 503")
    assert write_ahead([second]) == []  # what `second` read is stale
    again = SyncRecord.objects.get(pk=pk)
    assert write_ahead([again]) == [again] and again.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_an_unconfirmed_create_is_not_written_ahead_again_inside_its_settle_window(tenant, settings):
    from datetime import timedelta

    from audit.ledger import keep_in_doubt, settle_window

    settings.LEDGER_SETTLE_SECONDS = 60
    record = get_record(tenant, Kind.BILL, "PM000006")
    write_ahead([record])
    keep_in_doubt(record, settle_window(5), reason="BILL did not answer")
    window = settle_window(5)
    assert write_ahead([record], window=window) == []
    SyncRecord.objects.filter(pk=record.pk).update(sent_at=record.sent_at - timedelta(seconds=61))
    record = SyncRecord.objects.get(pk=record.pk)
    assert write_ahead([record], window=window) == [record]
    assert settle_window(100) == timedelta(seconds=201)  # always longer than the client's timeout


class _Refused(Exception):
    """Stands in for GP's or BILL's clear refusal (it says it wrote nothing)."""

    in_doubt = False
    code = "validation"


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_write_is_in_doubt_and_a_row_this_process_left_sending_is_swept_at_once(tenant):
    from audit.ledger import stuck_sending, writing

    cut = get_record(tenant, Kind.BILL, "PM000007")
    with pytest.raises(ConnectionError), writing([cut]):
        raise ConnectionError("Redis went away")  # around the call: it may have gone out
    assert SyncRecord.objects.get(pk=cut.pk).state == State.IN_DOUBT

    refused = get_record(tenant, Kind.BILL, "PM000008")
    with pytest.raises(_Refused), writing([refused]) as taken:
        assert taken == [refused]
        assert not stuck_sending().filter(pk=refused.pk).exists()  # in flight: nobody else touches it
        raise _Refused("refused")
    # Left `sending` (the flow would have settled it, had the database been there): swept at once.
    assert list(stuck_sending().filter(pk=refused.pk)) == [refused]

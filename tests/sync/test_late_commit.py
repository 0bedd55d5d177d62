"""A create that BILL commits after the client gave up is never sent again (issue 12 §5).

The BILL sandbox's `commit_late` fault holds the request, drops it unanswered, and commits the write
seconds later. An unconfirmed create stays `in_doubt` and is only looked up until a lookup made after
its settle window (LEDGER_SETTLE_SECONDS, and always longer than the client's timeout) still finds
nothing; only then is it sent again. The tests stretch the window instead of waiting for it, and make
the failed-retry back-off zero so the old behaviour (re-send at once) would show as a duplicate.
"""

from __future__ import annotations

import time
from datetime import timedelta

from audit.models import Kind, State, SyncRecord
from connectors.bill.client import BillClient
from tests.sync.conftest import approve_all, bills_by_voucher, record, run
from tests.sync.test_exactly_once import _new_invoice


def _posts(bill_sandbox, path: str) -> int:
    by_path = bill_sandbox.stats()["requests"]["by_path"]
    return sum(sum(codes.values()) for key, codes in by_path.items() if key == f"POST /connect{path}")


def _wait_for(found, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not found():
        assert time.monotonic() < deadline, "the late commit never appeared"
        time.sleep(0.1)


def test_a_bill_that_commits_late_is_adopted_not_sent_again(wired, gp_sandbox, bill_sandbox, settings):
    settings.LEDGER_SETTLE_SECONDS, settings.SYNC_RETRY_SCALE = 600, 0
    run(wired)
    approve_all(wired)
    voucher = _new_invoice(gp_sandbox, wired, "LATE000000000001", "INV-L-1")
    bill_sandbox.add_fault(
        "commit_late", methods=["POST"], path_contains="/v3/bills", hold_seconds=0.2, delay_seconds=4
    )
    bill_sandbox.reset_stats()
    run(wired)
    run(wired)  # looked up again: nothing yet (or already there), and nothing is sent again
    assert record(wired, "bill", voucher).state in (State.IN_DOUBT, State.SYNCED)
    _wait_for(lambda: voucher in bills_by_voucher(wired))
    run(wired)

    assert _posts(bill_sandbox, "/v3/bills") == 1
    r = record(wired, "bill", voucher)
    assert len(bills_by_voucher(wired)[voucher]) == 1
    assert r.state == State.SYNCED and r.target_id == bills_by_voucher(wired)[voucher][0].id
    outcomes = list(r.trail.order_by("started_at", "id").values_list("outcome", flat=True))
    assert outcomes[-2:] == ["in_doubt", "adopted"], outcomes


def test_a_create_still_absent_after_the_settle_window_is_sent_again_once(
    wired, gp_sandbox, bill_sandbox, settings
):
    settings.LEDGER_SETTLE_SECONDS, settings.SYNC_RETRY_SCALE = 600, 0
    run(wired)
    approve_all(wired)
    voucher = _new_invoice(gp_sandbox, wired, "LOST000000000001", "INV-X-1")
    bill_sandbox.add_fault("reset", methods=["POST"], path_contains="/v3/bills")  # lost before BILL saw it
    run(wired)
    run(wired)
    r = record(wired, "bill", voucher)
    assert r.state == State.IN_DOUBT and voucher not in bills_by_voucher(wired)
    assert "looked up again" in r.reason

    SyncRecord.objects.filter(pk=r.pk).update(sent_at=r.sent_at - timedelta(seconds=601))  # the window passes
    run(wired)
    r = record(wired, "bill", voucher)
    assert r.state == State.SYNCED and [b.id for b in bills_by_voucher(wired)[voucher]] == [r.target_id]


def _lose_vendor_creates(wired, bill_sandbox, settings):
    """A run whose vendor creates BILL commits only after the client gave up (answers lost)."""
    settings.LEDGER_SETTLE_SECONDS, settings.SYNC_RETRY_SCALE = 600, 0
    wired.auto_create_vendors = True
    wired.save()
    bill = BillClient.for_connection(wired.bill_connection)
    before = {v.id for v in bill.iter_vendors()}
    bill_sandbox.add_fault(
        "commit_late", methods=["POST"], path_contains="/v3/vendors", hold_seconds=0.2, delay_seconds=4
    )
    run(wired)
    return bill, before


def test_a_vendor_that_commits_late_is_adopted_not_created_twice(wired, bill_sandbox, settings):
    bill, before = _lose_vendor_creates(wired, bill_sandbox, settings)
    doubtful = list(
        SyncRecord.objects.filter(tenant=wired, kind=Kind.VENDOR, trail__outcome=State.IN_DOUBT).distinct()
    )
    assert doubtful, "the lost answer should have left the vendors in doubt"
    run(wired)
    _wait_for(lambda: len({v.id for v in bill.iter_vendors()} - before) >= len(doubtful))
    run(wired)

    made = {v.id for v in bill.iter_vendors()} - before
    records = SyncRecord.objects.filter(tenant=wired, kind=Kind.VENDOR).exclude(target_id="")
    assert sorted(made) == sorted(r.target_id for r in records if r.target_id in made)
    assert len(made) == records.filter(target_id__in=made).count()  # one BILL vendor per GP vendor
    for r in SyncRecord.objects.filter(pk__in=[d.pk for d in doubtful]):
        assert r.state == State.SYNCED and r.trail.filter(outcome="adopted").exists(), r.reason


def test_a_lost_vendor_create_is_found_after_a_clerk_changed_the_vendor_in_gp(
    wired, gp_sandbox, bill_sandbox, settings
):
    """The lookup also searches for what the create sent: a clerk changing the vendor's e-mail in GP
    between the lost answer and the lookup must not make a second BILL vendor; GP's change follows."""
    bill, before = _lose_vendor_creates(wired, bill_sandbox, settings)
    doubtful = list(
        SyncRecord.objects.filter(
            tenant=wired, kind=Kind.VENDOR, state=State.IN_DOUBT, trail__outcome=State.IN_DOUBT
        ).distinct()
    )
    assert doubtful, "the lost answer should have left the vendors in doubt"
    _wait_for(lambda: len({v.id for v in bill.iter_vendors()} - before) >= len(doubtful))
    changed = doubtful[0].source_key
    gp_sandbox.update_vendor(
        changed, Addresses=[{"Key": {"Id": "PRIMARY"}, "Email": "ap-new@changed.example"}]
    )
    SyncRecord.objects.filter(pk__in=[d.pk for d in doubtful]).update(  # the settle window passes
        sent_at=doubtful[0].sent_at - timedelta(seconds=601)
    )
    run(wired)
    run(wired)

    made = {v.id for v in bill.iter_vendors()} - before
    r = record(wired, "vendor", changed)
    assert r.state == State.SYNCED and r.trail.filter(outcome="adopted").exists(), r.reason
    assert len(made) == SyncRecord.objects.filter(tenant=wired, kind=Kind.VENDOR, target_id__in=made).count()
    assert bill.get_vendor(r.target_id).raw["email"] == "ap-new@changed.example"

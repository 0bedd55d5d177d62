"""What the chaos run found, pinned down one case at a time: a write whose answer was lost, a worker
that died holding a row or a lease. Each ends with exactly one object on the target."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from django.utils import timezone

from audit.ledger import stuck_sending, write_ahead
from audit.models import FlowLease, Kind, State, SyncRecord
from connectors.sync.locks import flow_lock
from tests.sync.conftest import run


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_vendor_create_whose_answer_was_lost_is_checked_and_adopted(wired, bill_sandbox):
    from connectors.bill.client import BillClient

    wired.auto_create_vendors = True
    wired.save()
    bill_sandbox.add_fault("reset_after_commit", methods=["POST"], path_contains="/v3/vendors")
    run(wired)
    run(wired)

    doubtful = SyncRecord.objects.filter(
        tenant=wired, kind=Kind.VENDOR, trail__outcome=State.IN_DOUBT
    ).distinct()
    assert doubtful.exists(), "the lost answer should have left the vendors in doubt"
    in_bill = [v.id for v in BillClient.for_connection(wired.bill_connection).iter_vendors()]
    for record in doubtful:
        assert record.state == State.SYNCED, record.reason
        assert record.trail.filter(outcome="adopted").exists()
    # One BILL vendor each, and nothing more than the three BILL had before.
    assert sorted(r.target_id for r in doubtful) == sorted(set(in_bill) & {r.target_id for r in doubtful})
    assert len(in_bill) == 3 + doubtful.count()


def test_a_row_left_sending_by_a_process_that_died_is_reconciled_without_waiting(
    transactional_db, tenant, settings
):
    settings.LEDGER_DEAD_WRITER_GRACE_SECONDS = 0
    dead = SyncRecord.objects.create(tenant=tenant, kind=Kind.BILL, source_key="V-DEAD")
    alive = SyncRecord.objects.create(tenant=tenant, kind=Kind.BILL, source_key="V-ALIVE")
    write_ahead([dead, alive])
    from audit.leases import HOST

    SyncRecord.objects.filter(pk=dead.pk).update(sending_by=f"{HOST}:{_dead_pid()}")
    SyncRecord.objects.filter(pk=alive.pk).update(updated_at=timezone.now() - timedelta(seconds=5))

    assert list(stuck_sending()) == [SyncRecord.objects.get(pk=dead.pk)]


def test_a_row_another_host_left_sending_waits_for_the_stuck_timeout(transactional_db, tenant, settings):
    settings.LEDGER_DEAD_WRITER_GRACE_SECONDS = 0
    record = SyncRecord.objects.create(tenant=tenant, kind=Kind.BILL, source_key="V-ELSEWHERE")
    write_ahead([record])
    SyncRecord.objects.filter(pk=record.pk).update(sending_by=f"other-host:{_dead_pid()}")
    assert not stuck_sending().exists()

    SyncRecord.objects.filter(pk=record.pk).update(updated_at=timezone.now() - timedelta(minutes=16))
    assert stuck_sending().exists()


def test_a_flow_lease_held_by_a_dead_process_is_taken_over(db, settings):
    settings.REDIS_URL = ""
    from audit.leases import HOST

    FlowLease.objects.create(
        name="7:gp_to_bill",
        holder=f"{HOST}:{_dead_pid()}:abcd1234",
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    with flow_lock("7:gp_to_bill") as held:
        assert held


def test_a_flow_lease_held_by_a_live_process_is_respected(db, settings):
    settings.REDIS_URL = ""
    import os

    from audit.leases import HOST

    FlowLease.objects.create(
        name="7:bill_to_gp",
        holder=f"{HOST}:{os.getppid()}:abcd1234",
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    with flow_lock("7:bill_to_gp") as held:
        assert not held


def test_bills_whose_bulk_create_answer_was_lost_are_adopted_once_with_a_complete_trail(wired, bill_sandbox):
    from tests.sync.conftest import approve_all, bills_by_voucher

    run(wired)
    bill_sandbox.add_fault("reset_after_commit", methods=["POST"], path_contains="/v3/bills")
    approve_all(wired)  # the bills that waited on the mappings go now
    run(wired)

    doubtful = SyncRecord.objects.filter(
        tenant=wired, kind=Kind.BILL, trail__outcome=State.IN_DOUBT
    ).distinct()
    assert doubtful.exists(), "the lost answer should have left the bills in doubt"
    found = bills_by_voucher(wired)
    for record in doubtful:
        assert [b.id for b in found[record.source_key]] == [record.target_id]
        assert record.state == State.SYNCED
        # The trail tells the whole story: sent, not confirmed, found in BILL and adopted.
        outcomes = list(record.trail.order_by("started_at", "id").values_list("outcome", flat=True))
        assert outcomes[outcomes.index("in_doubt") :] == ["in_doubt", "adopted"], outcomes


def test_a_gp_payment_saved_by_gp_whose_answer_was_lost_is_adopted_once_with_a_complete_trail(
    wired, gp_sandbox, bill_sandbox
):
    from bench._chaos_faults import GPAfterCommit
    from connectors.gp.client import GPClient
    from connectors.sync.keys import gp_payment_number
    from connectors.sync.runner import run_bill_to_gp
    from tests.sync.conftest import approve_all

    run(wired)
    approve_all(wired)
    wired.default_checkbook_id = "UPTOWN TRUST"
    wired.save()
    bill_id = SyncRecord.objects.filter(tenant=wired, kind=Kind.BILL, state=State.SYNCED).first().target_id
    payment = bill_sandbox.pay_bills([{"billId": bill_id}])

    lost = GPAfterCommit(seed=1, rate=1.0, hold_seconds=0, path_contains="PayablesPayments")
    handler = gp_sandbox.server.RequestHandlerClass
    gp_sandbox.server.drop_connections()  # new connections get the faulty handler
    lost.install(gp_sandbox)
    try:
        run_bill_to_gp(wired)
    finally:
        gp_sandbox.server.RequestHandlerClass = handler
        gp_sandbox.server.drop_connections()
    assert lost.injected, "GP's answer should have been lost once"
    run_bill_to_gp(wired)

    number = gp_payment_number(payment["id"])
    in_gp = [
        p for p in GPClient.for_connection(wired.gp_connection).iter_payments() if p.payment_number == number
    ]
    assert len(in_gp) == 1
    r = SyncRecord.objects.get(tenant=wired, kind=Kind.GP_PAYMENT, source_key=payment["id"])
    assert r.state == State.SYNCED and r.target_id == number
    outcomes = list(r.trail.order_by("started_at", "id").values_list("outcome", flat=True))
    assert outcomes == ["in_doubt", "adopted"], outcomes

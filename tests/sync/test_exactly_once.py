"""A bill is created exactly once even when BILL's answer is lost or the worker dies mid-call."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from audit.models import State, SyncRecord
from tests.bill.processes import ROOT, database_url
from tests.sync.conftest import approve_all, bills_by_voucher, record, run


def _new_invoice(gp_sandbox, tenant, voucher: str, number: str) -> str:
    """A fresh approved GP invoice like an already-synced one (same vendor and accounts)."""
    template = (
        SyncRecord.objects.filter(tenant=tenant, kind="bill", state=State.SYNCED)
        .order_by("source_key")
        .first()
    )
    raw = dict(gp_sandbox.data().get("PayablesInvoices", template.source_key))
    raw.update({"Key": {"Id": voucher}, "VendorDocumentNumber": number})
    for name in ("ModifiedDate", "CreatedDate"):
        raw.pop(name, None)
    gp_sandbox.insert_invoice(raw)
    return voucher


def test_a_timeout_after_bill_committed_ends_with_exactly_one_bill(wired, gp_sandbox, bill_sandbox):
    run(wired)
    approve_all(wired)
    voucher = _new_invoice(gp_sandbox, wired, "TIMEOUT000000001", "INV-T-1")
    bill_sandbox.add_fault(
        "timeout_after_commit", methods=["POST"], path_contains="/v3/bills", hold_seconds=0.5
    )
    run(wired)
    run(wired)  # and again: nothing new
    assert len(bills_by_voucher(wired)[voucher]) == 1
    r = record(wired, "bill", voucher)
    assert r.state == State.SYNCED
    assert r.trail.filter(outcome="in_doubt").exists()


def test_a_worker_killed_between_write_ahead_and_result_leaves_one_bill_after_replay(
    wired, gp_sandbox, bill_sandbox
):
    from connectors.sync.replay import replay_record

    run(wired)
    approve_all(wired)
    voucher = _new_invoice(gp_sandbox, wired, "KILLED0000000001", "INV-K-1")
    # BILL commits the bill, then sits on the answer long enough for us to kill the worker.
    bill_sandbox.add_fault(
        "timeout_after_commit", methods=["POST"], path_contains="/v3/bills", hold_seconds=30
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "gpbill_site.settings",
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.sync.sync_worker", str(wired.pk)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            sending = SyncRecord.objects.filter(
                tenant=wired, kind="bill", source_key=voucher, state=State.SENDING
            )
            if sending.exists() and voucher in bills_by_voucher(wired):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the worker never reached the bill create")
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    bill_sandbox.clear_faults()
    r = record(wired, "bill", voucher)
    assert r.state == State.SENDING  # the evidence the dead worker left

    replay_record(r)
    replay_record(record(wired, "bill", voucher))
    assert len(bills_by_voucher(wired)[voucher]) == 1
    r = record(wired, "bill", voucher)
    assert r.state == State.SYNCED and r.target_id == bills_by_voucher(wired)[voucher][0].id
    assert r.trail.filter(outcome="adopted").exists()


def test_a_refused_bulk_batch_is_split_so_only_the_bad_bill_is_parked(wired, gp_sandbox, bill_sandbox):
    run(wired)
    approve_all(wired)
    bill_sandbox.configure(duplicate_invoice_check=True)  # BILL refuses a second bill with one number
    fresh = [_new_invoice(gp_sandbox, wired, f"BULK00000000000{n}", f"INV-B-{n}") for n in range(1, 5)]
    duplicate = _new_invoice(gp_sandbox, wired, "BULK000000000009", "INV-B-2")  # same number as BULK...2
    bill_sandbox.reset_stats()
    run(wired)
    by_path = bill_sandbox.stats()["requests"]["by_path"]
    assert any(k.startswith("POST") and k.endswith("/v3/bills/bulk") for k in by_path)  # sent in bulk first
    in_bill = bills_by_voucher(wired)
    assert all(len(in_bill[v]) == 1 for v in fresh)
    parked = record(wired, "bill", duplicate)
    assert parked.state == State.FLAGGED and "BILL refused the bill" in parked.reason
    assert duplicate not in in_bill

"""A BILL vendor change GP refuses waits for a retry; the other vendors' changes go on."""

from __future__ import annotations

from django.utils import timezone

from audit.models import State, SyncRecord
from connectors.bill.client import BillClient
from connectors.gp.client import GPClient
from connectors.sync.runner import run_bill_to_gp, run_gp_to_bill
from tests.sync.conftest import approve_all, run


def test_a_vendor_locked_in_gp_does_not_hold_up_the_others_and_goes_on_later(wired, gp_sandbox, bill_sandbox):
    run(wired)
    approve_all(wired)
    run_bill_to_gp(wired)  # cursors start here
    linked = list(
        SyncRecord.objects.filter(
            tenant=wired, kind="vendor", state=State.SYNCED, snapshot__archived=False
        ).order_by("source_key")[:2]
    )
    locked, free = linked
    bill = BillClient.for_connection(wired.bill_connection)
    bill.patch_vendor(locked.target_id, {"email": "locked@vendor.example"})
    bill.patch_vendor(free.target_id, {"email": "free@vendor.example"})
    gp_sandbox.lock("Vendors", locked.source_key)  # a GP user has the vendor open

    run_bill_to_gp(wired)
    gp = GPClient.for_connection(wired.gp_connection)
    assert gp.get_vendor(free.source_key).email == "free@vendor.example"
    locked.refresh_from_db()
    assert locked.state == State.FAILED and "GP did not take BILL's change" in locked.reason

    gp_sandbox.lock("Vendors", locked.source_key, locked=False)
    SyncRecord.objects.filter(pk=locked.pk).update(next_retry_at=timezone.now())  # its retry time has come
    run_gp_to_bill(wired)  # the retry sweep replays it: BILL's side is read again and applied
    locked.refresh_from_db()
    assert locked.state == State.SYNCED, locked.reason
    assert gp.get_vendor(locked.source_key).email == "locked@vendor.example"

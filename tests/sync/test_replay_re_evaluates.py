"""A replay says why the record waits now, not why it waited before, and always leaves a trail row."""

from __future__ import annotations

from audit.models import Kind, State, SyncRecord
from connectors.sync.replay import replay_record
from mappings.approval import approve
from mappings.models import GLAccountMapping, VendorMapping
from tests.sync.conftest import run


def test_an_approved_on_hold_vendor_s_bill_says_it_is_on_hold_not_unmapped(wired, frank):
    run(wired)
    bill = SyncRecord.objects.get(tenant=wired, kind=Kind.BILL, waiting_on__contains="vendor:ADVANCED0001")
    assert "GP vendor ADVANCED0001" in bill.reason and "not mapped" in bill.reason
    for mapping in GLAccountMapping.objects.filter(tenant=wired):
        approve(mapping, frank, create=not mapping.bill_account_id)
    approve(VendorMapping.objects.get(tenant=wired, gp_vendor_id="ADVANCED0001"), frank)
    bill.refresh_from_db()  # the approval released the bill: its reason is the hold now
    assert bill.state == State.BLOCKED
    assert "on hold or inactive" in bill.reason and "not mapped" not in bill.reason
    rows_before = bill.trail.count()

    ended = replay_record(bill, user=frank)  # nothing to send: still a line in the trail

    assert "on hold or inactive" in ended.reason
    assert bill.trail.count() == rows_before + 1

"""Bulk creates are paired with their answers by identity, never by position (issue 12 §4).

BILL documents no order for the answer of `POST /v3/vendors/bulk` or `/v3/bills/bulk`; the suite's
BILL sandbox answers them shuffled (tests/fixtures_bill.py), so a flow that pairs by position links GP
vendors to other vendors' BILL records here, as it would against BILL.
"""

from __future__ import annotations

from audit.models import Kind, State, SyncRecord
from connectors.bill.client import BillClient
from connectors.gp.client import GPClient
from connectors.sync import vendor_fields as vf
from mappings.models import VendorMapping
from sandbox.gp.builders import build_address, build_vendor
from tests.sync.conftest import approve_all, bills_by_voucher, run


def _bulk_posts(bill_sandbox, path: str) -> int:
    by_path = bill_sandbox.stats()["requests"]["by_path"]
    return sum(sum(codes.values()) for key, codes in by_path.items() if key == f"POST /connect{path}")


def test_each_bulk_created_vendor_is_linked_to_its_own_gp_vendor(wired, gp_sandbox, bill_sandbox):
    wired.auto_create_vendors = True
    wired.save()
    run(wired)
    assert _bulk_posts(bill_sandbox, "/v3/vendors/bulk") >= 1, "the vendors should go in one bulk call"

    gp, bill = GPClient.for_connection(wired.gp_connection), BillClient.for_connection(wired.bill_connection)
    created = SyncRecord.objects.filter(tenant=wired, kind=Kind.VENDOR, trail__outcome="created").distinct()
    assert created.count() >= 3
    for record in created:
        mapping = VendorMapping.objects.get(tenant=wired, gp_vendor_id=record.source_key)
        assert record.state == State.SYNCED and mapping.bill_vendor_id == record.target_id
        gp_side, bill_side = (
            vf.from_gp(gp.get_vendor(record.source_key)),
            vf.from_bill(bill.get_vendor(record.target_id).raw),
        )
        assert (bill_side["name"], bill_side["email"], bill_side["tax_id"]) == (
            gp_side["name"],
            gp_side["email"],
            gp_side["tax_id"],
        ), record.source_key


def test_bulk_created_bills_land_under_their_own_vouchers(wired, gp_sandbox, bill_sandbox):
    from tests.sync.test_exactly_once import _new_invoice

    run(wired)
    approve_all(wired)
    fresh = [_new_invoice(gp_sandbox, wired, f"ORDER0000000000{n}", f"INV-O-{n}") for n in range(1, 7)]
    bill_sandbox.reset_stats()
    run(wired)
    assert _bulk_posts(bill_sandbox, "/v3/bills/bulk") >= 1
    in_bill = bills_by_voucher(wired)
    for voucher in fresh:
        record = SyncRecord.objects.get(tenant=wired, kind=Kind.BILL, source_key=voucher)
        assert record.state == State.SYNCED
        assert [b.id for b in in_bill[voucher]] == [record.target_id]


def test_twin_vendors_a_bulk_answer_cannot_tell_apart_are_checked_and_each_get_one(
    wired, gp_sandbox, bill_sandbox
):
    """Two GP vendors with the same name, e-mail and tax ID in one bulk call: which created vendor is
    which cannot be read from the answer, so both stay in doubt and are reconciled by lookup — one
    BILL vendor each, none created twice."""
    wired.auto_create_vendors = True
    wired.save()
    for key in ("TWIN0001", "TWIN0002"):
        gp_sandbox.insert_vendor(
            build_vendor(
                key,
                "Twin Supply",
                modified="2025-06-01T00:00:00Z",
                tax_id="41-1234567",
                address=build_address("1 Twin Rd", "Fargo", "ND", "58102", email="ap@twin.example"),
            )
        )
    run(wired)  # the run's retry sweep looks them up at its end
    run(wired)

    bill = BillClient.for_connection(wired.bill_connection)
    in_bill = sorted(v.id for v in bill.iter_vendors() if v.name == "Twin Supply")
    assert len(in_bill) == 2
    twins = SyncRecord.objects.filter(tenant=wired, kind=Kind.VENDOR, source_key__startswith="TWIN")
    assert all(r.state == State.SYNCED for r in twins), [(r.state, r.reason) for r in twins]
    assert sorted(r.target_id for r in twins) == in_bill
    for r in twins:
        outcomes = list(r.trail.order_by("started_at", "id").values_list("outcome", flat=True))
        assert outcomes == ["in_doubt", "adopted"], outcomes

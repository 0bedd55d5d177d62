"""GP approved invoices become BILL bills exactly once, over real HTTP to both sandboxes."""

from __future__ import annotations

from decimal import Decimal

from audit.models import Attempt, State, SyncRecord
from mappings.approval import approve
from mappings.models import MappingState, VendorMapping
from tests.sync.conftest import approve_all, approved_invoices, bills_by_voucher, record, run


def _posts(bill_sandbox, path: str) -> int:
    requests = bill_sandbox.stats()["requests"]
    return sum(n for key, n in requests.get("by_path", requests).items() if key.startswith(f"POST {path}"))


def test_it_waits_for_mappings_before_sending_any_bill(wired, bill_sandbox):
    run(wired)
    assert bills_by_voucher(wired) == {}
    blocked = SyncRecord.objects.filter(tenant=wired, kind="bill", state=State.BLOCKED)
    assert blocked.count() == len(approved_invoices(wired))
    assert all("not mapped to BILL yet" in r.reason for r in blocked)
    assert VendorMapping.objects.filter(tenant=wired, state=MappingState.SUGGESTED).exists()


def test_it_sends_each_approved_invoice_once_with_its_lines_and_voucher(wired, bill_sandbox):
    run(wired)
    approve_all(wired)
    run(wired)
    invoices = approved_invoices(wired)
    in_bill = bills_by_voucher(wired)
    synced = SyncRecord.objects.filter(tenant=wired, kind="bill", state=State.SYNCED)
    assert synced.count() >= 5
    for r in synced:
        invoice, bills = invoices[r.source_key], in_bill[r.source_key]
        assert len(bills) == 1, r.source_key
        bill = bills[0]
        assert bill.id == r.target_id
        assert bill.amount == invoice.document_amount.quantize(Decimal("0.01"))
        assert bill.invoice_number == invoice.invoice_number
        assert sum(li.amount for li in bill.line_items) == bill.amount
        assert all(li.chart_of_account_id for li in bill.line_items)
        if invoice.po_number:
            assert bill.purchase_order_number == invoice.po_number
        # The list columns: the document as the clerk names it, noted from GP.
        assert (r.gp_vendor, r.document_number, r.amount) == (
            invoice.vendor_id,
            invoice.invoice_number,
            invoice.document_amount,
        )
        assert r.document_date == invoice.date and r.currency == invoice.currency
    # Invoices of a vendor on hold wait, visibly, instead of being refused by BILL.
    held = SyncRecord.objects.filter(tenant=wired, kind="bill", state=State.BLOCKED)
    assert all("on hold or inactive" in r.reason for r in held)
    assert not SyncRecord.objects.filter(
        tenant=wired, state__in=[State.FAILED, State.FLAGGED, State.SENDING]
    ).exists()


def test_a_second_sync_creates_nothing(wired, bill_sandbox):
    run(wired)
    approve_all(wired)
    run(wired)
    before = {v: [b.id for b in bills] for v, bills in bills_by_voucher(wired).items()}
    bill_sandbox.reset_stats()
    run(wired, full=True)
    assert _posts(bill_sandbox, "/connect/v3/bills") == 0
    assert {v: [b.id for b in bills] for v, bills in bills_by_voucher(wired).items()} == before


def test_a_gp_change_before_payment_updates_the_bill(wired, gp_sandbox, bill_sandbox):
    run(wired)
    approve_all(wired)
    run(wired)
    voucher = next(
        r.source_key for r in SyncRecord.objects.filter(tenant=wired, kind="bill", state=State.SYNCED)
    )
    gp_sandbox.update_invoice(voucher, DueDate="2027-01-31T00:00:00Z", Description="Changed in GP")
    run(wired)
    (bill,) = bills_by_voucher(wired)[voucher]
    assert bill.due_date.isoformat() == "2027-01-31"
    assert "Changed in GP" in bill.description
    assert Attempt.objects.filter(record=record(wired, "bill", voucher), outcome="updated").exists()


def test_a_gp_change_after_bill_pays_is_flagged_not_sent(wired, gp_sandbox, bill_sandbox):
    run(wired)
    approve_all(wired)
    run(wired)
    synced = SyncRecord.objects.filter(tenant=wired, kind="bill", state=State.SYNCED).first()
    bill_sandbox.pay_bills([{"billId": synced.target_id}])
    gp_sandbox.update_invoice(synced.source_key, Description="Late change")
    run(wired)
    synced.refresh_from_db()
    assert synced.state == State.FLAGGED
    assert "after BILL started paying" in synced.reason
    (bill,) = bills_by_voucher(wired)[synced.source_key]
    assert "Late change" not in bill.description


def test_approving_the_vendor_mapping_releases_its_blocked_bill(wired, bill_sandbox, frank):
    run(wired)
    vendor_mapping = VendorMapping.objects.filter(tenant=wired).order_by("gp_vendor_id").first()
    from mappings.models import GLAccountMapping

    for mapping in GLAccountMapping.objects.filter(tenant=wired):
        approve(mapping, frank, create=mapping.action == "create")
    waiting = list(
        SyncRecord.objects.filter(
            tenant=wired, kind="bill", waiting_on__contains=f"vendor:{vendor_mapping.gp_vendor_id}"
        )
    )
    assert waiting and all(r.state == State.BLOCKED for r in waiting)

    approve(vendor_mapping, frank, create=vendor_mapping.action == "create")

    for r in waiting:
        r.refresh_from_db()
        if "on hold" in r.reason:
            continue
        assert r.state == State.SYNCED, r.reason
        assert bills_by_voucher(wired)[r.source_key][0].id == r.target_id
    trail = Attempt.objects.filter(record__in=waiting, trigger="mapping")
    assert trail.exists()


def test_it_parks_an_invoice_whose_lines_do_not_add_up_and_sends_the_rest(wired, gp_sandbox, bill_sandbox):
    run(wired)
    approve_all(wired)
    invoices = approved_invoices(wired)
    voucher = max(invoices, key=lambda v: len(invoices[v].distributions))  # freight, tax and more
    purchase = next(d for d in invoices[voucher].raw["Distributions"] if d["DistributionType"] == "Purchase")
    gp_sandbox.update_invoice(voucher, Distributions=[purchase])  # freight and tax gone: no longer the total
    run(wired)
    parked = record(wired, "bill", voucher)
    assert parked.state == State.FLAGGED
    assert "add up to" in parked.reason
    assert SyncRecord.objects.filter(tenant=wired, kind="bill", state=State.SYNCED).count() >= 4

"""BILL payments land in GP as payments applied to the right vouchers — once, whatever happens."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from audit.models import State, SyncRecord
from connectors.gp.client import GPClient
from connectors.sync.keys import gp_payment_number
from connectors.sync.runner import run_bill_to_gp
from mappings.approval import approve
from mappings.models import CheckbookMapping
from tests.sync.conftest import approve_all, record, run


@pytest.fixture
def synced(wired, bill_sandbox):
    """Bills in BILL for every approved GP invoice, and a default GP checkbook for write-back."""
    run(wired)
    approve_all(wired)
    wired.default_checkbook_id = "UPTOWN TRUST"
    wired.save()
    return wired


def _bills(tenant, n: int, same_vendor: bool = False) -> list[SyncRecord]:
    rows = list(
        SyncRecord.objects.filter(tenant=tenant, kind="bill", state=State.SYNCED).order_by("source_key")
    )
    if same_vendor:
        by_vendor: dict[str, list[SyncRecord]] = {}
        for r in rows:
            by_vendor.setdefault(r.label.split()[0], []).append(r)
        rows = next(group for group in by_vendor.values() if len(group) >= n)
    return rows[:n]


def gp(tenant) -> GPClient:
    return GPClient.for_connection(tenant.gp_connection)


def test_a_paid_bill_becomes_a_gp_payment_applied_to_its_voucher(synced, bill_sandbox):
    (bill_record,) = _bills(synced, 1)
    before = gp(synced).get_invoice(bill_record.source_key)
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id}])
    run_bill_to_gp(synced)
    gp_payment = gp(synced).get_payment(gp_payment_number(payment["id"]))
    assert gp_payment is not None and gp_payment.state != "Work"  # posted (tenant default)
    assert gp_payment.checkbook_id == "UPTOWN TRUST"
    assert gp_payment.apply_to == ((bill_record.source_key, before.document_amount),)
    after = gp(synced).get_invoice(bill_record.source_key)
    assert after.remaining == 0 and after.state == "History"
    assert record(synced, "gp_payment", payment["id"]).state == State.SYNCED


def test_a_partial_payment_applies_only_what_bill_paid(synced, bill_sandbox):
    (bill_record,) = _bills(synced, 1)
    doc = gp(synced).get_invoice(bill_record.source_key).document_amount
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id, "amount": "100.00"}])
    run_bill_to_gp(synced)
    assert gp(synced).get_payment(gp_payment_number(payment["id"])).apply_to == (
        (bill_record.source_key, Decimal("100.00000")),
    )
    assert gp(synced).get_invoice(bill_record.source_key).remaining == doc - Decimal(100)


def test_one_payment_for_several_bills_is_one_gp_payment_with_a_line_each(synced, bill_sandbox):
    first, second = _bills(synced, 2, same_vendor=True)
    payment = bill_sandbox.pay_bills([{"billId": first.target_id}, {"billId": second.target_id}])
    run_bill_to_gp(synced)
    applied = dict(gp(synced).get_payment(gp_payment_number(payment["id"])).apply_to)
    assert set(applied) == {first.source_key, second.source_key}
    assert gp(synced).get_invoice(first.source_key).remaining == 0
    assert gp(synced).get_invoice(second.source_key).remaining == 0


def test_running_the_write_back_again_applies_nothing_twice(synced, bill_sandbox, gp_sandbox):
    (bill_record,) = _bills(synced, 1)
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id}])
    run_bill_to_gp(synced)
    gp_sandbox.reset_stats()
    run_bill_to_gp(synced, full=True)
    from connectors.sync.replay import replay_record

    replay_record(record(synced, "gp_payment", payment["id"]))
    by_path = gp_sandbox.stats()["requests"]["by_path"]
    assert not [k for k in by_path if k.startswith("POST")]  # nothing written to GP again
    assert (
        len(
            [
                p
                for p in gp_sandbox.stats()["applied_payments"]
                if p.get("payment") == gp_payment_number(payment["id"])
                or gp_payment_number(payment["id"]) in str(p)
            ]
        )
        == 1
    )
    payments = [p for p in gp(synced).iter_payments() if p.payment_number == gp_payment_number(payment["id"])]
    assert len(payments) == 1


def test_a_gp_timeout_after_the_payment_was_saved_ends_with_one_payment(synced, bill_sandbox, gp_sandbox):
    (bill_record,) = _bills(synced, 1)
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id}])
    gp_sandbox.set_faults(
        ["timeout"], rate=1.0, count=1, methods=["POST"], path_contains="PayablesPayments", timeout_seconds=6
    )
    run_bill_to_gp(synced)
    r = record(synced, "gp_payment", payment["id"])
    assert r.state == State.IN_DOUBT
    from connectors.sync.replay import replay_record

    replay_record(r)  # GP shows nothing yet, but the settle window has not passed: not sent again
    r.refresh_from_db()
    assert r.state == State.IN_DOUBT and r.attempts == 1, r.reason
    SyncRecord.objects.filter(pk=r.pk).update(sent_at=r.sent_at - timedelta(hours=1))  # the window passes
    replay_record(record(synced, "gp_payment", payment["id"]))
    r.refresh_from_db()
    assert r.state == State.SYNCED, r.reason
    payments = [p for p in gp(synced).iter_payments() if p.payment_number == gp_payment_number(payment["id"])]
    assert len(payments) == 1
    assert gp(synced).get_invoice(bill_record.source_key).remaining == 0


def test_a_payment_waits_for_an_unposted_gp_invoice_and_goes_on_once_posted(wired, gp_sandbox, bill_sandbox):
    from connectors.models import Tenant

    wired.bill_policy = Tenant.BILL_POLICY_APPROVED_UNPOSTED
    wired.default_checkbook_id = "UPTOWN TRUST"
    wired.save()
    run(wired)
    approve_all(wired)
    work = [
        r
        for r in SyncRecord.objects.filter(tenant=wired, kind="bill", state=State.SYNCED)
        if gp(wired).get_invoice(r.source_key).state == "Work"
    ]
    assert work, "the small seed has an approved unposted invoice"
    bill_record = work[0]
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id}])
    run_bill_to_gp(wired)
    r = record(wired, "gp_payment", payment["id"])
    assert r.state == State.BLOCKED and "GP invoice not posted yet" in r.reason
    gp_sandbox.post_invoice(bill_record.source_key)
    run_bill_to_gp(wired)
    r.refresh_from_db()
    assert r.state == State.SYNCED, r.reason
    assert gp(wired).get_invoice(bill_record.source_key).remaining == 0


def test_a_payment_of_a_bill_that_did_not_come_from_gp_is_parked(synced, bill_sandbox):
    from connectors.bill.client import BillClient

    client = BillClient.for_connection(synced.bill_connection)
    vendor = next(v for v in client.iter_vendors() if not v.archived)
    foreign = client.create_bill(
        {
            "vendorId": vendor.id,
            "dueDate": "2026-12-31",
            "invoice": {"invoiceNumber": "HAND-1", "invoiceDate": "2026-11-01"},
            "billLineItems": [{"amount": Decimal("50.00"), "description": "typed in BILL"}],
        }
    )
    payment = bill_sandbox.pay_bills([{"billId": foreign.id}])
    run_bill_to_gp(synced)
    r = record(synced, "gp_payment", payment["id"])
    assert r.state == State.FLAGGED and "did not come from GP" in r.reason


def test_a_payment_voided_after_write_back_is_flagged_and_gp_is_left_alone(synced, bill_sandbox):
    (bill_record,) = _bills(synced, 1)
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id}])
    run_bill_to_gp(synced)
    bill_sandbox.void_payment(payment["id"])
    run_bill_to_gp(synced)
    r = record(synced, "gp_payment", payment["id"])
    number = gp_payment_number(payment["id"])
    assert r.state == State.FLAGGED
    assert f"GP payment {number} was not changed" in r.reason and number in r.fix
    assert gp(synced).get_payment(number) is not None
    assert gp(synced).get_invoice(bill_record.source_key).remaining == 0


def test_an_unmapped_funding_account_waits_for_its_checkbook_mapping(wired, bill_sandbox, frank):
    run(wired)
    approve_all(wired)
    (bill_record,) = _bills(wired, 1)
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id}])
    run_bill_to_gp(wired)
    r = record(wired, "gp_payment", payment["id"])
    assert r.state == State.BLOCKED and "no GP checkbook is mapped" in r.reason
    mapping = CheckbookMapping.objects.get(tenant=wired)
    approve(mapping, frank, target_id=mapping.gp_checkbook_id or "FIRST NATIONAL")
    r.refresh_from_db()
    assert r.state == State.SYNCED, r.reason
    assert gp(wired).get_payment(gp_payment_number(payment["id"])).checkbook_id == mapping.gp_checkbook_id


def test_a_different_gp_payment_under_our_number_is_flagged_not_taken_as_done(synced, bill_sandbox):
    import datetime as dt

    (bill_record,) = _bills(synced, 1)
    invoice = gp(synced).get_invoice(bill_record.source_key)
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id}])
    number = gp_payment_number(payment["id"])
    # Someone keyed a payment in GP under that number for another amount: GP will refuse ours as a duplicate.
    gp(synced).create_payment(
        payment_number=number,
        vendor_id=invoice.vendor_id,
        checkbook_id="UPTOWN TRUST",
        method="Check",
        document_number="HAND",
        date=dt.date(2026, 11, 1),
        amount=Decimal("1.00"),
        apply_to=[(invoice.voucher, Decimal("1.00"))],
        batch="HAND",
    )
    run_bill_to_gp(synced)
    r = record(synced, "gp_payment", payment["id"])
    assert r.state == State.FLAGGED and "does not match" in r.reason
    assert gp(synced).get_payment(number).apply_to == ((invoice.voucher, Decimal("1.00000")),)

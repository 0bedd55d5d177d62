"""BILL never shows more due than GP has open, and GP paying a bill BILL already paid is caught at once.

End to end with both sandboxes: the GP control API does what a GP clerk does (applies a check or a
credit memo, voids a voucher), then a GP poll runs, and BILL is read back through its own API.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from audit.alerts import send_digest
from audit.models import Kind, State, SyncRecord
from connectors.bill.client import BillClient
from connectors.devtools.agreement import measure_bills
from connectors.gp.client import GPClient
from connectors.sync.context import SyncContext
from connectors.sync.drift import drift_report
from connectors.sync.runner import retry_due, run_bill_to_gp
from tests.sync.conftest import approve_all, record, run

PARTLY_PAID = "00000000000000306"  # Contoso CT-88121, 999.99 with 500.00 already applied in GP


@pytest.fixture
def synced(wired):
    run(wired)
    approve_all(wired)
    wired.default_checkbook_id = "UPTOWN TRUST"
    wired.alert_emails = "controller@northwind.example"
    wired.save()
    return wired


def bill_of(tenant, voucher: str):
    return BillClient.for_connection(tenant.bill_connection).get_bill(
        record(tenant, "bill", voucher).target_id
    )


def payments_on(tenant, bill_id: str) -> list:
    client = BillClient.for_connection(tenant.bill_connection)
    return [p for p in client.iter_payments() if any(b == bill_id for b, _ in p.bill_payments)]


def open_in_gp(tenant, voucher: str) -> Decimal:
    return GPClient.for_connection(tenant.gp_connection).get_invoice(voucher).remaining


def a_fresh_bill(tenant) -> SyncRecord:
    """A synced bill of an untouched, fully open voucher (not the partly paid one)."""
    gp = GPClient.for_connection(tenant.gp_connection)
    for r in SyncRecord.objects.filter(tenant=tenant, kind=Kind.BILL, state=State.SYNCED).order_by(
        "source_key"
    ):
        invoice = gp.get_invoice(r.source_key)
        if r.source_key != PARTLY_PAID and invoice.remaining == invoice.document_amount:
            return r
    raise AssertionError("no fully open synced bill in the seed")


def test_a_partly_paid_voucher_goes_to_bill_with_only_its_open_amount_due(synced):
    bill = bill_of(synced, PARTLY_PAID)
    assert bill.amount == Decimal("999.99")  # the bill says what was bought …
    assert sum((li.amount for li in bill.line_items), Decimal(0)) == Decimal("999.99")
    assert bill.due_amount == Decimal("499.99") == open_in_gp(synced, PARTLY_PAID)  # … and owes what GP owes
    [recorded] = payments_on(synced, bill.id)
    assert recorded.online_payment is False and recorded.amount == Decimal("500.00")
    due_row = record(synced, "bill_due", PARTLY_PAID)
    assert due_row.state == State.SYNCED and due_row.trail.filter(outcome="recorded").count() == 1
    assert measure_bills(synced)["bill_due_over_gp_open"] == 0


def test_polling_again_records_nothing_twice_and_the_write_back_leaves_our_record_alone(synced, gp_sandbox):
    run(synced, full=True)
    run(synced, full=True)
    run_bill_to_gp(synced, full=True)
    bill = bill_of(synced, PARTLY_PAID)
    assert bill.due_amount == Decimal("499.99") and len(payments_on(synced, bill.id)) == 1
    assert not SyncRecord.objects.filter(
        tenant=synced, kind=Kind.GP_PAYMENT
    ).exists()  # nothing to write to GP
    assert not [a for a in gp_sandbox.stats()["applied_payments"] if a["voucher"] == PARTLY_PAID]


def test_the_drift_report_compares_bills_due_with_gps_open_amount(synced, gp_sandbox):
    r = a_fresh_bill(synced)
    gp_sandbox.apply_to_invoice(r.source_key, "100.00", "CHK5001")  # not polled yet
    report = drift_report(synced)
    section = next(
        s for s in report["sections"] if s["title"].startswith("BILL shows more due than GP has open")
    )
    doc = GPClient.for_connection(synced.gp_connection).get_invoice(r.source_key).document_amount
    [row] = section["rows"]
    assert row[0] == r.source_key and row[2] == r.target_id
    assert row[3:] == [f"{doc - 100:.2f}", f"{doc:.2f}", "100.00"]
    assert section["money_total"] == "$100.00" and report["sections"][0]["group"] == "money"
    assert measure_bills(synced)["bill_due_over_gp_open"] == 1


def test_a_check_cut_in_gp_is_recorded_in_bill_on_the_next_poll(synced, gp_sandbox):
    r = a_fresh_bill(synced)
    doc = bill_of(synced, r.source_key).amount
    gp_sandbox.apply_to_invoice(r.source_key, "100.00", "CHK5002")
    run(synced)
    bill = bill_of(synced, r.source_key)
    assert bill.due_amount == doc - Decimal("100.00") == open_in_gp(synced, r.source_key)
    assert bill.amount == doc and bill.payment_status == "PARTIAL"
    gp_sandbox.apply_to_invoice(
        r.source_key, str(doc - Decimal("100.00")), "CM0007", kind="credit"
    )  # the rest
    run(synced)
    bill = bill_of(synced, r.source_key)
    assert bill.due_amount == 0 and bill.payment_status == "PAID"  # BILL will not pay it
    assert sorted(p.amount for p in payments_on(synced, bill.id)) == sorted([Decimal("100.00"), doc - 100])
    assert record(synced, "bill", r.source_key).state == State.SYNCED
    assert next(s for s in drift_report(synced)["sections"] if s["key"] == "due_over_open")["rows"] == []


def test_a_voucher_voided_in_gp_archives_its_unpaid_bill(synced, gp_sandbox):
    r = a_fresh_bill(synced)
    gp_sandbox.void_invoice(r.source_key)
    run(synced)
    assert bill_of(synced, r.source_key).archived
    assert measure_bills(synced)["bill_due_over_gp_open"] == 0


def test_gp_paying_a_bill_bill_has_scheduled_is_flagged_and_alerted_at_once(synced, gp_sandbox, bill_sandbox):
    r = a_fresh_bill(synced)
    doc = bill_of(synced, r.source_key).amount
    payment = bill_sandbox.pay_bills([{"billId": r.target_id}], status="SCHEDULED")
    mail.outbox.clear()
    gp_sandbox.apply_to_invoice(r.source_key, str(doc), "CHK5003")  # a clerk pays it in GP too
    run(synced)
    flagged = record(synced, "bill", r.source_key)
    assert flagged.state == State.FLAGGED and flagged.reason.startswith("Double-payment risk")
    risk = flagged.snapshot["double_payment_risk"]
    assert (risk["gp_applied_outside_bill"], risk["bill_paid_or_scheduled"]) == (f"{doc:.2f}", f"{doc:.2f}")
    assert risk["vendor"] and risk["invoice"] and payment["id"] in flagged.reason
    [alert] = mail.outbox
    assert "URGENT" in alert.subject and risk["invoice"] in alert.subject
    assert alert.to == ["controller@northwind.example"] and f"{doc:.2f}" in alert.body
    assert measure_bills(synced)["double_payment_risks_open"] == 1
    run(synced, full=True)  # the same risk is not alerted twice, nor repeated by the digest
    assert len(mail.outbox) == 1
    digest = send_digest(synced)
    assert digest is None or r.source_key not in mail.outbox[-1].body
    bill_sandbox.set_payment_status(payment["id"], "CANCELLED")  # someone stops BILL's payment
    run(synced, full=True)
    assert record(synced, "bill", r.source_key).state == State.SYNCED
    assert measure_bills(synced)["double_payment_risks_open"] == 0


def test_voiding_a_voucher_bill_already_paid_is_a_double_payment_risk(synced, gp_sandbox, bill_sandbox):
    r = a_fresh_bill(synced)
    bill_sandbox.pay_bills([{"billId": r.target_id}])
    mail.outbox.clear()
    gp_sandbox.void_invoice(r.source_key)
    run(synced)
    flagged = record(synced, "bill", r.source_key)
    assert flagged.state == State.FLAGGED and "GP voided the invoice" in flagged.reason
    assert len(mail.outbox) == 1


def test_an_unanswered_recording_is_in_doubt_and_found_before_anything_is_sent_again(
    synced, gp_sandbox, bill_sandbox
):
    r = a_fresh_bill(synced)
    doc = bill_of(synced, r.source_key).amount
    gp_sandbox.apply_to_invoice(r.source_key, "10.00", "CHK5004")
    bill_sandbox.add_fault("reset_after_commit", count=1, path_contains="record-payment")
    run(synced)  # the run's retry sweep reconciles the in-doubt row before anything else
    row = record(synced, "bill_due", r.source_key)
    outcomes = list(row.trail.order_by("started_at", "id").values_list("outcome", flat=True))
    assert outcomes[-2:] == [State.IN_DOUBT, "adopted"], outcomes
    retry_due(SyncContext.for_tenant(synced))  # and a repeat sends nothing
    row.refresh_from_db()
    assert row.state == State.SYNCED
    assert len(payments_on(synced, r.target_id)) == 1  # recorded once, not twice
    assert bill_of(synced, r.source_key).due_amount == doc - Decimal("10.00")

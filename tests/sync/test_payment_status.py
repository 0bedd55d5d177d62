"""BILL payments' `singleStatus` and funding decide what reaches GP, and how it is booked there."""

from __future__ import annotations

import pytest

from audit.models import State, SyncRecord
from connectors.devtools.agreement import measure_payments
from connectors.gp.client import GPClient
from connectors.sync.keys import gp_payment_number
from connectors.sync.replay import replay_record
from connectors.sync.runner import run_bill_to_gp
from tests.sync.conftest import approve_all, record, run


@pytest.fixture
def synced(wired):
    run(wired)
    approve_all(wired)
    wired.default_checkbook_id = "UPTOWN TRUST"
    wired.save()
    return wired


def a_bill(tenant) -> SyncRecord:
    return (
        SyncRecord.objects.filter(tenant=tenant, kind="bill", state=State.SYNCED)
        .order_by("source_key")
        .first()
    )


def gp_payment(tenant, payment_id: str):
    return GPClient.for_connection(tenant.gp_connection).get_payment(gp_payment_number(payment_id))


@pytest.mark.parametrize("single", ["DISBURSEMENT_FAILED_ACTION_NEEDED", "FUNDS_ESCHEATED", "VOIDED"])
def test_a_payment_whose_disbursement_fails_after_it_reached_gp_is_flagged_with_the_gp_payment_to_void(
    synced, bill_sandbox, single
):
    payment = bill_sandbox.pay_bills([{"billId": a_bill(synced).target_id}])
    run_bill_to_gp(synced)
    number = gp_payment_number(payment["id"])
    assert record(synced, "gp_payment", payment["id"]).state == State.SYNCED
    moved = bill_sandbox.set_single_status(payment["id"], single)
    assert moved["status"] == ("VOID" if single == "VOIDED" else "PAID")  # status may still say PAID
    run_bill_to_gp(synced, full=True)
    r = record(synced, "gp_payment", payment["id"])
    assert r.state == State.FLAGGED and single in r.reason
    assert f"Void GP payment {number}" in r.fix and r.snapshot["gp_payment_to_void"] == number
    assert gp_payment(synced, payment["id"]) is not None  # GP is left to a person


def test_a_funding_failure_after_write_back_names_the_gp_payment_but_says_the_vendor_was_paid(
    synced, bill_sandbox
):
    payment = bill_sandbox.pay_bills([{"billId": a_bill(synced).target_id}])
    run_bill_to_gp(synced)
    bill_sandbox.set_single_status(payment["id"], "FUNDING_FAILED_ACTION_NEEDED")
    run_bill_to_gp(synced, full=True)
    r = record(synced, "gp_payment", payment["id"])
    number = gp_payment_number(payment["id"])
    assert r.state == State.FLAGGED and "the vendor was paid" in r.reason and number in r.fix
    assert "Wire the funds to BILL" in r.fix


def test_a_paid_payment_whose_disbursement_already_failed_is_not_written_to_gp(synced, bill_sandbox):
    bill = a_bill(synced)
    payment = bill_sandbox.pay_bills([{"billId": bill.target_id}])
    bill_sandbox.set_single_status(payment["id"], "DISBURSEMENT_FAILED_VENDOR_BANK_REJECTED")
    run_bill_to_gp(synced)
    r = record(synced, "gp_payment", payment["id"])
    assert r.state == State.BLOCKED and "not written to GP" in r.reason
    assert gp_payment(synced, payment["id"]) is None
    assert measure_payments(synced)["payments_not_applied"] == 0  # held on purpose, not lost
    bill_sandbox.set_single_status(payment["id"], "VOIDED")
    run_bill_to_gp(synced, full=True)
    assert record(synced, "gp_payment", payment["id"]).state == State.SKIPPED
    assert gp_payment(synced, payment["id"]) is None


@pytest.mark.parametrize(
    ("disbursement", "method"), [("ACH", "EFT"), ("CHECK", "Check"), ("VIRTUAL_CARD", "EFT"), ("AMEX", "EFT")]
)
def test_a_bank_funded_payment_is_booked_by_how_the_bank_paid_never_as_a_gp_credit_card(
    synced, bill_sandbox, disbursement, method
):
    payment = bill_sandbox.pay_bills([{"billId": a_bill(synced).target_id}], disbursement_type=disbursement)
    run_bill_to_gp(synced)
    assert gp_payment(synced, payment["id"]).method == method


def test_a_card_funded_payment_waits_for_the_tenants_card_name_then_books_a_gp_credit_card(
    synced, bill_sandbox
):
    payment = bill_sandbox.pay_bills(
        [{"billId": a_bill(synced).target_id}], funding_type="CARD_ACCOUNT", disbursement_type="ACH"
    )
    run_bill_to_gp(synced)
    r = record(synced, "gp_payment", payment["id"])
    assert r.state == State.BLOCKED and "GP needs a card name" in r.reason
    assert gp_payment(synced, payment["id"]) is None
    synced.gp_card_name = "AMEX CORP"
    synced.save()
    replay_record(r)
    written = gp_payment(synced, payment["id"])
    assert written.method == "CreditCard" and written.raw["CardName"] == "AMEX CORP"

"""Writes to GP: a manual payment with apply lines, posting its batch, patching a vendor."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.gp.http import GPError

OPEN_VOUCHER = "00000000000000301"  # 1,250.00 open, A Travel Company


def pay(
    client, number="PAY-0001", amount="1250.00", applies=((OPEN_VOUCHER, "1250.00"),), vendor="ACETRAVE0001"
):
    return client.create_payment(
        number,
        vendor,
        "UPTOWN TRUST",
        "EFT",
        "BILL-CONF-77",
        dt.date(2025, 6, 3),
        Decimal(amount),
        [(v, Decimal(a)) for v, a in applies],
        "BILL250603",
    )


def test_it_creates_a_manual_payment_in_work(gp_client):
    payment = pay(gp_client)
    assert (payment.payment_number, payment.state, payment.batch, payment.amount) == (
        "PAY-0001",
        "Work",
        "BILL250603",
        Decimal("1250.00000"),
    )
    assert payment.apply_to == ((OPEN_VOUCHER, Decimal("1250.00")),)
    assert gp_client.get_payment("PAY-0001") == payment


def test_a_repeated_payment_number_is_refused_as_a_duplicate(gp_client):
    pay(gp_client)
    with pytest.raises(GPError) as caught:
        pay(gp_client)
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (409, "duplicate", False)


def test_posting_the_batch_applies_the_payment(gp_client, gp_sandbox):
    pay(gp_client, number="PAY-0002", amount="500.00", applies=[(OPEN_VOUCHER, "500.00")])
    summary = gp_client.post_batch("PM_Payment", "BILL250603")
    assert summary["Posted"] == ["PAY-0002"]
    invoice = gp_client.get_invoice(OPEN_VOUCHER)
    assert (invoice.remaining, invoice.state) == (Decimal("750.00000"), "Open")
    assert gp_client.get_payment("PAY-0002").state == "History"
    assert gp_sandbox.stats()["applied_payments"] == [
        {
            "payment": "PAY-0002",
            "voucher": OPEN_VOUCHER,
            "amount": "500.00",
            "vendor": "ACETRAVE0001",
            "batch": "BILL250603",
        }
    ]


def test_a_fully_paid_invoice_moves_to_history(gp_client):
    pay(gp_client)
    gp_client.post_batch("BILL250603")  # one argument: a batch of manual payments
    invoice = gp_client.get_invoice(OPEN_VOUCHER)
    assert (invoice.remaining, invoice.state) == (Decimal("0"), "History")


@pytest.mark.parametrize(
    "applies, words",
    [
        ([("00000000000000305", "10.00")], "another vendor"),
        ([(OPEN_VOUCHER, "1250.01")], "left to apply"),
        ([("00000000000000309", "10.00")], "on hold"),
        ([("00000000000000201", "10.00")], "not open"),
    ],
)
def test_it_refuses_applies_gp_would_refuse(gp_client, applies, words):
    with pytest.raises(GPError) as caught:
        pay(gp_client, amount="2000.00", applies=applies)
    assert caught.value.code == "validation" and words in caught.value.message


def test_an_apply_already_promised_to_an_unposted_payment_cannot_be_repeated(gp_client):
    pay(gp_client, number="PAY-A", amount="1000.00", applies=[(OPEN_VOUCHER, "1000.00")])
    with pytest.raises(GPError) as caught:
        pay(gp_client, number="PAY-B", amount="300.00", applies=[(OPEN_VOUCHER, "300.00")])
    assert "250.00 left" in caught.value.message


def test_a_locked_invoice_refuses_payment_with_a_retryable_error(gp_client, gp_sandbox):
    gp_sandbox.lock("PayablesInvoices", OPEN_VOUCHER)
    with pytest.raises(GPError) as caught:
        pay(gp_client)
    assert (caught.value.code, caught.value.retryable) == ("locked", True)


def test_patching_a_vendor_changes_it_and_bumps_modified_date(gp_client):
    before = gp_client.get_vendor("CONTOSO0001")
    gp_client.patch_vendor(
        "CONTOSO0001",
        {
            "Name": "Contoso Limited",
            "Addresses": [{"Key": {"Id": "PRIMARY"}, "Email": "pay@contoso.example"}],
        },
    )
    after = gp_client.get_vendor("CONTOSO0001")
    assert (after.name, after.email, after.city) == ("Contoso Limited", "pay@contoso.example", "Toronto")
    assert after.modified_date > before.modified_date


def test_gp_truncates_an_over_long_vendor_name(gp_client):
    gp_client.patch_vendor("CONTOSO0001", {"Name": "X" * 80})
    assert gp_client.get_vendor("CONTOSO0001").name == "X" * 64


def test_a_posted_invoice_cannot_be_changed(gp_client):
    with pytest.raises(GPError) as caught:
        gp_client.http.request(
            "PATCH", f"Purchasing/PayablesInvoices({OPEN_VOUCHER})", body={"Description": "x"}
        )
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (409, "posted", False)


def test_posting_an_invoice_batch_posts_only_approved_work(gp_client):
    summary = gp_client.post_batch("PM_Trxent", "MAY25INV")
    assert summary["Posted"] == ["00000000000000403"]
    assert {s["Key"] for s in summary["Skipped"]} == {
        "00000000000000401",
        "00000000000000402",
        "00000000000000404",
    }
    assert gp_client.get_invoice("00000000000000403").state == "Open"


def test_a_missing_record_reads_as_none(gp_client):
    assert gp_client.get_vendor("NOSUCHVENDOR") is None
    assert gp_client.get_invoice("99999999999999999") is None
    assert gp_client.get_payment("NOPE") is None

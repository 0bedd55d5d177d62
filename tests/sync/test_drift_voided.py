"""The drift report on a voucher GP voided while its bill is still open in BILL (found by mypy: the report
used to stop with AttributeError on the voided voucher's open amount)."""

from __future__ import annotations

from decimal import Decimal

from connectors.sync.drift import drift_report

VOUCHER = "00000000000000301"


def test_a_voided_voucher_with_an_open_bill_shows_more_due_than_gp_has_open(
    tenant, gp_connection, bill_connection, gp_sandbox, bill_client
):
    vendor = next(iter(bill_client.iter_vendors()))
    bill_client.create_bill(
        {
            "vendorId": vendor.id,
            "description": f"GP voucher {VOUCHER}",
            "invoice": {"invoiceNumber": "INV-1001", "invoiceDate": "2025-05-01"},
            "dueDate": "2025-05-31",
            "billLineItems": [{"amount": Decimal("1250.00"), "description": "Travel"}],
        }
    )
    gp_sandbox.void_invoice(VOUCHER)

    report = drift_report(tenant)

    rows = {s["key"]: s["rows"] for s in report["sections"]}
    over = [r for r in rows["due_over_open"] if r[0] == VOUCHER]
    assert len(over) == 1
    assert Decimal(over[0][3]) == 0 and Decimal(over[0][4]) == Decimal("1250.00")  # GP open, BILL due
    assert report["summary"].startswith("1 money problem")

"""GP payloads become typed records: Decimal money, trimmed strings, None for GP's empty date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.gp.records import GPInvoice, GPVendor


def test_an_invoice_carries_every_amount_and_distribution(gp_client):
    inv = gp_client.get_invoice("00000000000000302")
    assert (inv.purchases, inv.freight, inv.tax, inv.misc, inv.trade_discount) == (
        Decimal("1000"),
        Decimal("35.5"),
        Decimal("82.5"),
        Decimal("12"),
        Decimal("50"),
    )
    assert inv.document_amount == inv.purchases + inv.freight + inv.tax + inv.misc - inv.trade_discount
    assert str(inv.document_amount) == "1080.00000"
    assert {d.type for d in inv.distributions} == {
        "Purchase",
        "Freight",
        "Tax",
        "Misc",
        "Discount",
        "Payable",
    }
    assert sum(d.debit for d in inv.distributions) == sum(d.credit for d in inv.distributions)
    assert (inv.po_number, inv.invoice_number, inv.date) == ("PO2001", "INV-1002", dt.date(2025, 5, 3))


def test_an_unposted_invoice_has_no_posting_date(gp_client):
    inv = gp_client.get_invoice("00000000000000402")
    assert (inv.state, inv.workflow_status, inv.posting_date) == ("Work", "PendingApproval", None)


def test_strings_are_trimmed_and_empty_dates_are_none():
    vendor = GPVendor.from_gp(
        {
            "Key": {"Id": "ACME0001   "},
            "Name": "Acme   ",
            "Status": "Active",
            "Addresses": [],
            "ModifiedDate": "2025-06-02T08:00:00Z",
            "CreatedDate": "1900-01-01T00:00:00Z",
        }
    )
    assert (vendor.vendor_id, vendor.name, vendor.created_date) == ("ACME0001", "Acme", None)
    assert vendor.modified_date == dt.datetime(2025, 6, 2, 8, tzinfo=dt.UTC)


def test_money_keeps_gps_five_decimals_exactly():
    inv = GPInvoice.from_gp(
        {
            "Key": {"Id": "1"},
            "DocumentAmount": {"Value": Decimal("0.1"), "Currency": "USD", "DecimalDigits": 2},
            "DueDate": "1900-01-01",
        }
    )
    assert str(inv.document_amount) == "0.10000" and inv.due_date is None and inv.currency == "USD"


def test_the_seed_covers_every_case(gp_client):
    vendors = {v.vendor_id: v for v in gp_client.iter_vendors()}
    assert {v.status for v in vendors.values()} == {"Active", "Inactive", "Temporary"}
    assert vendors["ADVANCED0001"].is_on_hold
    assert vendors["ASSOCIAT0001"].name == vendors["ASSOCIAT0002"].name
    invoices = list(gp_client.iter_invoices())
    assert {i.state for i in invoices} == {"Work", "Open", "History"}
    assert {"Approved", "PendingApproval", "NotSubmitted", "Rejected", "NoApprovalNeeded"} <= {
        i.workflow_status for i in invoices
    }
    assert any(i.is_voided for i in invoices) and any(i.is_on_hold for i in invoices)
    assert any(i.document_type == "CreditMemo" for i in invoices)
    accounts = {a.account: a for a in gp_client.iter_gl_accounts()}
    assert not accounts["000-6900-00"].is_active and not accounts["000-4000-00"].allow_entry
    assert len([c for c in gp_client.iter_checkbooks() if not c.is_inactive]) >= 2

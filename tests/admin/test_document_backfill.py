"""Rows saved before the ledger kept document facts get them from their stored labels (migration 0009)."""

from __future__ import annotations

import importlib
from decimal import Decimal

from django.apps import apps

from audit.models import SyncRecord
from tests.admin.conftest import record

backfill = importlib.import_module("audit.migrations.0009_backfill_document_facts")


def test_old_rows_get_vendor_invoice_and_amount_from_their_label_and_nothing_else_changes(as_frank, tenant):
    from mappings.models import VendorMapping

    VendorMapping.objects.create(tenant=tenant, gp_vendor_id="CONTOSO1", gp_name="Contoso Ltd")
    old_bill = record(tenant, "00000000000000088", "synced", label="CONTOSO1 invoice CT-88121 ($999.99)")
    euro = record(tenant, "00000000000000089", "failed", label="CONTOSO1 invoice R (7) (1,300.50 CHF)")
    payment = record(
        tenant,
        "00PAY1",
        "synced",
        kind="gp_payment",
        label="BILL payment 00PAY1 ($5,000.00) → GP PMT1",
        snapshot={"applied": [{"voucher": "00000000000000088", "amount": "999.99"}]},
    )
    noted = record(
        tenant,
        "00000000000000090",
        "synced",
        label="CONTOSO1 invoice OLD-1 ($1.00)",
        gp_vendor="CONTOSO1",
        document_number="NEW-1",
        amount=Decimal("2.00"),
        currency="USD",
    )
    odd = record(tenant, "00000000000000091", "failed", label="ACME invoice INV-77, $7,091.52")
    vendor = record(tenant, "CONTOSO1", "synced", kind="vendor", label="CONTOSO1 Contoso Ltd")
    before = {r.pk: r.updated_at for r in SyncRecord.objects.all()}

    assert (
        '<td class="field-amount_text">$999.99'
        not in as_frank.get("/admin/audit/syncrecord/").content.decode()
    )
    backfill.fill(apps, None)
    backfill.fill(apps, None)  # running it again changes nothing

    old_bill.refresh_from_db()
    assert (old_bill.gp_vendor, old_bill.document_number, old_bill.amount, old_bill.currency) == (
        "CONTOSO1",
        "CT-88121",
        Decimal("999.99"),
        "USD",
    )
    euro.refresh_from_db()
    assert (euro.document_number, euro.amount, euro.currency) == ("R (7)", Decimal("1300.50"), "CHF")
    payment.refresh_from_db()
    assert (payment.amount, payment.gp_vendor, payment.document_number) == (
        Decimal("5000.00"),
        "CONTOSO1",
        "",
    )
    noted.refresh_from_db()
    assert (noted.document_number, noted.amount) == ("NEW-1", Decimal("2.00"))  # what a sync noted stays
    odd.refresh_from_db()
    assert (odd.document_number, odd.amount, odd.gp_vendor) == ("", None, "")  # not a label the flows write
    vendor.refresh_from_db()
    assert vendor.amount is None and vendor.document_number == ""
    # The ledger's compare-and-set on updated_at is not disturbed.
    assert {r.pk: r.updated_at for r in SyncRecord.objects.all()} == before

    page = as_frank.get("/admin/audit/syncrecord/").content.decode()
    assert "Invoice CT-88121" in page and "Contoso Ltd" in page
    assert (
        '<td class="field-amount_text">$999.99' in page and '<td class="field-amount_text">$5,000.00' in page
    )
    assert '<td class="field-amount_text">1,300.50 CHF' in page
    title = as_frank.get(f"/admin/audit/syncrecord/{old_bill.pk}/change/").content.decode()
    assert "<h1>Invoice CT-88121 · Contoso Ltd · $999.99</h1>" in title

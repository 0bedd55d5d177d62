"""The record lists read like AP: vendor, invoice, dates, money right-aligned, totals per state in money;
the tenant column only for people who see several tenants, and never another tenant's rows or money."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from audit.words import money_text
from connectors.models import Tenant
from connectors.tenancy import add_member
from mappings.models import VendorMapping
from tests.admin.conftest import record

ATTENTION = "/admin/audit/attentionrecord/"
ALL = "/admin/audit/syncrecord/"


def bill(tenant, voucher, state="blocked", amount="7091.52", vendor="ACME0001", number="INV-881", **fields):
    return record(
        tenant,
        voucher,
        state,
        gp_vendor=vendor,
        document_number=number,
        document_date=date(2026, 10, 3),
        due_date=date(2026, 11, 2),
        amount=Decimal(amount),
        currency=fields.pop("currency", "USD"),
        **fields,
    )


def test_money_is_written_as_ap_reads_it():
    assert money_text(Decimal("7091.52")) == "$7,091.52"
    assert money_text(Decimal("999.99000"), "USD") == "$999.99"
    assert money_text(Decimal("-12"), "USD") == "-$12.00"
    assert money_text(Decimal("310.5"), "EUR") == "€310.50"
    assert money_text(Decimal("1234.5"), "CHF") == "1,234.50 CHF"
    assert money_text(Decimal("1500"), "JPY") == "¥1,500"
    assert money_text(None) == ""


def test_needs_attention_names_the_document_with_dates_and_money(as_frank, tenant):
    VendorMapping.objects.create(tenant=tenant, gp_vendor_id="ACME0001", gp_name="Acme Fasteners Inc.")
    bill(tenant, "00000000000000042", target_id="", waiting_on="vendor:ACME0001")
    page = as_frank.get(ATTENTION).content.decode()
    row = re.search(r"<tr>.*?00000000000000042.*?</tr>", page, re.S).group(0)
    assert "Acme Fasteners Inc." in row and "Invoice INV-881" in row
    assert "GP 00000000000000042" in row  # the key on the secondary line
    assert '<td class="field-amount_text">$7,091.52</td>' in row
    assert "Oct 3, 2026" in row and "Nov 2, 2026" in row


def test_totals_per_state_in_money_and_the_mappings_waited_on(as_frank, tenant):
    for i, amount in enumerate(["100.10", "200.20", "300.30"]):
        bill(
            tenant,
            f"V{i}",
            amount=amount,
            vendor=f"VEND{i % 2}",
            waiting_on=f"vendor:VEND{i % 2} account:000-61",
        )
    bill(tenant, "F1", "failed", amount="50.00")
    page = as_frank.get(ATTENTION).content.decode()
    totals = re.search(r'id="ml-totals">(.*?)</div>\s*\n', page, re.S).group(0)
    assert "3 bills, $600.60, waiting on 2 vendor mappings and 1 GL account mapping" in totals
    assert "1 bill, $50.00" in totals
    # Filtering narrows the totals too.
    failed_only = as_frank.get(ATTENTION + "?state__exact=failed").content.decode()
    assert "1 bill, $50.00" in failed_only and "$600.60" not in failed_only


def test_the_tenant_column_shows_only_for_a_person_with_several_tenants(as_frank, frank, tenant):
    bill(tenant, "V1")
    other = Tenant.objects.create(name="Second Co", slug="second-co")
    bill(other, "OTHER-VOUCHER", amount="99999.00")
    page = as_frank.get(ATTENTION).content.decode()
    assert "column-tenant" not in page
    assert "OTHER-VOUCHER" not in page and "$99,999.00" not in page  # neither the row nor its money
    add_member(other, frank)
    page = as_frank.get(ATTENTION).content.decode()
    assert "column-tenant" in page and "OTHER-VOUCHER" in page


def test_sync_records_list_has_the_same_columns_and_totals(as_frank, tenant):
    bill(tenant, "S1", "synced", amount="1000", target_id="00n01ABCDEF")
    page = as_frank.get(ALL).content.decode()
    assert '<span class="ml-id">GP S1</span> · <span class="ml-id">BILL 00n01ABCDEF</span>' in page
    assert "1 bill, $1,000.00" in page
    assert "{'" not in page and "Decimal(" not in page


def test_mapping_list_and_review_page_show_the_waiting_money(as_frank, tenant):
    mapping = VendorMapping.objects.create(tenant=tenant, gp_vendor_id="CONTOSO0001", gp_name="Contoso Ltd")
    bill(
        tenant,
        "00000000000000306",
        amount="999.99000",
        vendor="CONTOSO0001",
        number="CT-88121",
        waiting_on="vendor:CONTOSO0001",
        label="CONTOSO0001 invoice CT-88121 (999.99 USD)",
    )
    listing = as_frank.get("/admin/mappings/glaccountmapping/").content.decode()
    assert listing  # another mapping list still answers with the money column's query
    listing = as_frank.get("/admin/mappings/vendormapping/?review=all").content.decode()
    assert "1 record" in listing and "$999.99" in listing
    page = as_frank.get(f"/admin/mappings/vendormapping/{mapping.pk}/change/").content.decode()
    assert "Invoice CT-88121, $999.99, due Nov 2, 2026" in page
    assert "999.99 USD" not in page


def test_the_changed_column_says_its_time_zone_like_the_dashboard(as_frank, tenant, settings):
    from datetime import UTC, datetime

    from audit.models import SyncRecord

    settings.TIME_ZONE = "America/Chicago"
    rec = bill(tenant, "00000000000000055")
    SyncRecord.objects.filter(pk=rec.pk).update(updated_at=datetime(2026, 11, 30, 18, 5, tzinfo=UTC))
    for url in (ATTENTION, ALL):
        row = re.search(r"<tr>.*?00000000000000055.*?</tr>", as_frank.get(url).content.decode(), re.S).group(
            0
        )
        assert '<td class="field-changed">Nov 30, 12:05 CST</td>' in row, url


def test_the_money_waiting_on_a_mapping_is_summed_per_currency(as_frank, tenant):
    VendorMapping.objects.create(tenant=tenant, gp_vendor_id="EURO0001", gp_name="Euro Parts")
    VendorMapping.objects.create(tenant=tenant, gp_vendor_id="EURO00011", gp_name="Another vendor")
    for voucher, amount, currency in (
        ("E1", "1000.00", "USD"),
        ("E2", "200.00", "USD"),
        ("E3", "300.00", "EUR"),
    ):
        bill(
            tenant, voucher, amount=amount, currency=currency, vendor="EURO0001", waiting_on="vendor:EURO0001"
        )
    # A record waiting on a longer key that starts the same is not this mapping's money.
    bill(tenant, "E4", amount="5.00", vendor="EURO00011", waiting_on="account:000-1 vendor:EURO00011")
    listing = as_frank.get("/admin/mappings/vendormapping/?review=all").content.decode()
    row = re.search(r"<tr>(?:(?!</tr>).)*Euro Parts.*?</tr>", listing, re.S).group(0)
    assert "3 records" in row and "$1,200.00 + €300.00" in row and "1,500" not in row
    other = re.search(r"<tr>(?:(?!</tr>).)*Another vendor.*?</tr>", listing, re.S).group(0)
    assert "1 record" in other and "$5.00" in other and "$1,200.00" not in other

"""Importing and exporting mappings: a preview with one clear message per bad row, formulas defused."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import SyncRecord
from mappings.models import MappingChange, MappingState, Suggestion, VendorMapping

IMPORT = "/admin/mappings/vendormapping/import/"
CONFIRM = "/admin/mappings/vendormapping/process_import/"
HEADER = "tenant,gp_vendor_id,gp_name,action,bill_vendor_id,bill_name,state,note\n"


@pytest.fixture
def known(tenant):
    """Two GP vendors the connector has met, and the BILL vendors suggested for them."""
    for gp_id, bill_id in (("ACME0001", "00901ACME"), ("BOLT0001", "00901BOLT")):
        VendorMapping.objects.create(tenant=tenant, gp_vendor_id=gp_id, gp_name=gp_id.title())
        Suggestion.objects.create(tenant=tenant, kind="vendor", gp_key=gp_id, bill_id=bill_id, bill_name=bill_id,
                                  score="0.5", reasons="similar name (80%)")


def upload(client, text: str | bytes, name: str = "vendors.csv", fmt: str = "0"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(IMPORT, {"import_file": SimpleUploadedFile(name, data), "format": fmt, "resource": "0"})


def test_it_names_each_bad_row_in_the_preview_and_saves_nothing(as_frank, known):
    response = upload(as_frank, HEADER
                      + "northwind,ACME0001,,link,00901ACME,,approved,\n"
                      + "northwind,GHOST001,,link,00901BOLT,,approved,\n"
                      + "northwind,BOLT0001,,link,00901NOPE,,approved,\n"
                      + "northwind,ACME0001,,create,,,approved,\n"
                      + "elsewhere,BOLT0001,,link,00901BOLT,,approved,\n")
    page = response.content.decode()
    assert "Unknown GP vendor &#x27;GHOST001&#x27;." in page
    assert "Unknown BILL vendor ID &#x27;00901NOPE&#x27;." in page
    assert "Duplicate: GP vendor &#x27;ACME0001&#x27; is already on row 1 of this file." in page
    assert "Unknown tenant &#x27;elsewhere&#x27;." in page
    assert 'name="import_file_name"' not in page  # nothing to confirm while rows are wrong
    assert not VendorMapping.objects.filter(state=MappingState.APPROVED).exists()


def test_it_refuses_a_bill_vendor_already_mapped_to_another_gp_vendor(as_frank, known, tenant):
    VendorMapping.objects.filter(gp_vendor_id="BOLT0001").update(state=MappingState.APPROVED, bill_vendor_id="00901ACME")
    page = upload(as_frank, HEADER + "northwind,ACME0001,,link,00901ACME,,approved,\n").content.decode()
    assert "Duplicate: BILL vendor ID &#x27;00901ACME&#x27; is already mapped to GP vendor &#x27;BOLT0001&#x27;." in page


def test_it_imports_good_rows_after_the_preview_keeping_who_and_releasing_waiting_bills(as_frank, frank, known, tenant, released):
    waiting = SyncRecord.objects.create(tenant=tenant, kind="bill", source_key="00000009", state="blocked",
                                        waiting_on="vendor:ACME0001")
    preview = upload(as_frank, HEADER + "northwind,ACME0001,Acme,link,00901ACME,ACME,,\nnorthwind,BOLT0001,,create,,,,\n")
    form = preview.context["confirm_form"]
    response = as_frank.post(CONFIRM, {**form.initial, "resource": "0"}, follow=True)
    assert response.status_code == 200
    acme = VendorMapping.objects.get(gp_vendor_id="ACME0001")
    bolt = VendorMapping.objects.get(gp_vendor_id="BOLT0001")
    assert (acme.state, acme.bill_vendor_id, acme.approved_by) == (MappingState.APPROVED, "00901ACME", frank)
    assert (bolt.state, bolt.action) == (MappingState.APPROVED, "create")
    assert MappingChange.objects.filter(key="ACME0001", user=frank).exists()
    assert [waiting.pk] in released()


def test_it_reads_xlsx_files(as_frank, known):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["northwind", "GHOST001", "", "link", "00901ACME", "", "approved", ""])
    out = io.BytesIO()
    book.save(out)
    page = upload(as_frank, out.getvalue(), name="vendors.xlsx", fmt="1").content.decode()
    assert "Unknown GP vendor &#x27;GHOST001&#x27;." in page


def test_it_defuses_spreadsheet_formulas_on_export(as_frank, tenant):
    VendorMapping.objects.create(tenant=tenant, gp_vendor_id="EVIL0001", gp_name="=HYPERLINK(\"http://x\")",
                                 bill_name="+SUM(A1)", note="@cmd")
    form = as_frank.get("/admin/mappings/vendormapping/export/").context["form"]
    every_column = {name: "on" for name in form.fields if name.startswith("vendormappingresource_")}
    response = as_frank.post("/admin/mappings/vendormapping/export/", {"format": "0", "resource": "0", **every_column})
    text = response.content.decode()
    assert "EVIL0001" in text
    assert "'=HYPERLINK" in text and "'+SUM(A1)" in text and "'@cmd" in text
    assert ",=HYPERLINK" not in text and ",+SUM" not in text

"""Importing and exporting mappings: a preview with one clear message per bad row, formulas defused."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import SyncRecord
from mappings.models import MappingChange, MappingState, Suggestion, VendorMapping
from tests.waiting import with_waits

IMPORT = "/admin/mappings/vendormapping/import/"
CONFIRM = "/admin/mappings/vendormapping/process_import/"
HEADER = "tenant,gp_vendor_id,gp_name,action,bill_vendor_id,bill_name,state,note\n"


@pytest.fixture
def known(tenant):
    """Two GP vendors the connector has met, and the BILL vendors suggested for them."""
    for gp_id, bill_id in (("ACME0001", "00901ACME"), ("BOLT0001", "00901BOLT")):
        VendorMapping.objects.create(tenant=tenant, gp_vendor_id=gp_id, gp_name=gp_id.title())
        Suggestion.objects.create(
            tenant=tenant,
            kind="vendor",
            gp_key=gp_id,
            bill_id=bill_id,
            bill_name=bill_id,
            score="0.5",
            reasons="similar name (80%)",
        )


def upload(client, text: str | bytes, name: str = "vendors.csv", fmt: str = "0"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        IMPORT, {"import_file": SimpleUploadedFile(name, data), "format": fmt, "resource": "0"}
    )


def test_it_names_each_bad_row_in_the_preview_and_saves_nothing(as_frank, known):
    response = upload(
        as_frank,
        HEADER
        + "northwind,ACME0001,,link,00901ACME,,approved,\n"
        + "northwind,GHOST001,,link,00901BOLT,,approved,\n"
        + "northwind,BOLT0001,,link,00901NOPE,,approved,\n"
        + "northwind,ACME0001,,create,,,approved,\n"
        + "elsewhere,BOLT0001,,link,00901BOLT,,approved,\n",
    )
    page = response.content.decode()
    assert "Unknown GP vendor &#x27;GHOST001&#x27;." in page
    assert "Unknown BILL vendor ID &#x27;00901NOPE&#x27;." in page
    assert "Duplicate: GP vendor &#x27;ACME0001&#x27; is already on line 2 of this file." in page
    assert "Unknown tenant &#x27;elsewhere&#x27;." in page
    assert 'name="import_file_name"' not in page  # nothing to confirm while rows are wrong
    assert not VendorMapping.objects.filter(state=MappingState.APPROVED).exists()


def test_it_refuses_a_bill_vendor_already_mapped_to_another_gp_vendor(as_frank, known, tenant):
    VendorMapping.objects.filter(gp_vendor_id="BOLT0001").update(
        state=MappingState.APPROVED, bill_vendor_id="00901ACME"
    )
    page = upload(as_frank, HEADER + "northwind,ACME0001,,link,00901ACME,,approved,\n").content.decode()
    assert (
        "Duplicate: BILL vendor ID &#x27;00901ACME&#x27; is already mapped to GP vendor &#x27;BOLT0001&#x27;."
        in page
    )


def test_it_imports_good_rows_after_the_preview_keeping_who_and_releasing_waiting_bills(
    as_frank, frank, known, tenant, released
):
    waiting = with_waits(
        SyncRecord.objects.create(
            tenant=tenant, kind="bill", source_key="00000009", state="blocked", waiting_on="vendor:ACME0001"
        )
    )
    preview = upload(
        as_frank, HEADER + "northwind,ACME0001,Acme,link,00901ACME,ACME,,\nnorthwind,BOLT0001,,create,,,,\n"
    )
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
    VendorMapping.objects.create(
        tenant=tenant,
        gp_vendor_id="EVIL0001",
        gp_name='=HYPERLINK("http://x")',
        bill_name="+SUM(A1)",
        note="@cmd",
    )
    form = as_frank.get("/admin/mappings/vendormapping/export/").context["form"]
    every_column = {name: "on" for name in form.fields if name.startswith("vendormappingresource_")}
    response = as_frank.post(
        "/admin/mappings/vendormapping/export/", {"format": "0", "resource": "0", **every_column}
    )
    text = response.content.decode()
    assert "EVIL0001" in text
    assert "'=HYPERLINK" in text and "'+SUM(A1)" in text and "'@cmd" in text
    assert ",=HYPERLINK" not in text and ",+SUM" not in text


def test_the_preview_says_each_lines_changes_in_words_and_errors_next_to_their_line(as_frank, known):
    page = upload(
        as_frank,
        HEADER
        + "northwind,ACME0001,Acme,link,00901ACME,ACME,approved,\n"
        + "northwind,GHOST001,,link,00901BOLT,,approved,\n",
    ).content.decode()
    table = page[page.index('id="ml-import-rows"') :]
    line2 = table[table.index('id="ml-line-2"') : table.index('id="ml-line-3"')]
    line3 = table[table.index('id="ml-line-3"') :]
    assert "Fine: imported once the marked lines are fixed" in line2 and "Not imported" not in line2
    assert "Not imported:" in line3 and "Unknown GP vendor &#x27;GHOST001&#x27;." in line3
    assert "suggestapproved" not in page and "createlink" not in page
    assert "1 line fine, 1 not imported" in page
    fixed = upload(
        as_frank, HEADER + "northwind,ACME0001,Acme,link,00901ACME,ACME,approved,\n"
    ).content.decode()
    line2 = fixed[fixed.index('id="ml-line-2"') :]
    assert "State: Suggested → Approved" in line2 and "BILL vendor ID: (empty) → 00901ACME" in line2
    assert "1 with changes" in fixed


def test_a_clean_file_previews_every_line_in_words(as_frank, known):
    page = upload(as_frank, HEADER + "northwind,BOLT0001,,create,,,approved,\n").content.decode()
    assert 'id="ml-line-2"' in page and "Action: Link to an existing BILL record → Create it in BILL" in page
    assert 'name="import_file_name"' in page  # it can be confirmed


def test_export_offers_everything_or_the_filtered_list(as_frank, known, tenant):
    from connectors.models import Tenant

    other = Tenant.objects.create(name="Other", slug="other")
    VendorMapping.objects.create(tenant=other, gp_vendor_id="THEIRS01")
    url = "/admin/mappings/vendormapping/export/?q=ACME0001"
    page = as_frank.get(url).content.decode()
    assert "shows <strong>1</strong> of 2 vendor mappings (filtered by search “ACME0001”)" in page
    assert "Only the list as filtered" in page and "Everything (every mapping of your tenants)" in page
    form = as_frank.get(url).context["form"]
    columns = {
        name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)
    }
    filtered = as_frank.post(
        url, {"format": "0", "resource": "0", "scope": "filtered", **columns}
    ).content.decode()
    everything = as_frank.post(
        url, {"format": "0", "resource": "0", "scope": "all", **columns}
    ).content.decode()
    assert "ACME0001" in filtered and "BOLT0001" not in filtered
    assert "ACME0001" in everything and "BOLT0001" in everything
    assert "THEIRS01" not in everything  # everything of the user's tenants only


def csp_breaches(page: str) -> list[str]:
    """What our Content-Security-Policy would block: style= and on*= attributes, scripts without src."""
    import re

    found = re.findall(r"<[^>]*\s(?:style|on[a-z]+)\s*=[^>]*>", page)
    found += [tag for tag in re.findall(r"<script\b[^>]*>", page) if " src=" not in tag]
    return found + re.findall(r"<style\b[^>]*>", page)


@pytest.mark.parametrize("model", ["vendormapping", "glaccountmapping", "checkbookmapping"])
def test_the_export_and_import_pages_need_no_inline_script_or_style(as_frank, known, model):
    export = as_frank.get(f"/admin/mappings/{model}/export/").content.decode()
    assert "Select all" in export and 'for="select-all-toggle"' in export
    assert "ml/export_fields.js" in export  # the "Select all" box still works, from a static file
    assert csp_breaches(export) == []
    assert csp_breaches(as_frank.get(f"/admin/mappings/{model}/import/").content.decode()) == []


def test_the_import_preview_needs_no_inline_script_or_style(as_frank, known):
    page = upload(
        as_frank,
        HEADER
        + "northwind,ACME0001,Acme,link,00901ACME,ACME,approved,\n"
        + "northwind,GHOST001,,link,00901BOLT,,approved,\n",
    ).content.decode()
    assert 'id="ml-line-3"' in page and csp_breaches(page) == []

"""The vendor match review page: GP and BILL side by side, what approval changes, choices per field.

Against both sandboxes (`small` seed): CONTOSO0001 "Contoso, Ltd." is suggested as BILL's "Contoso Ltd."
with different e-mail, remit address and tax ID; ADVANCED0001 is on hold in GP.
"""

from __future__ import annotations

import html
import re
from typing import Any

from audit.models import State, SyncRecord
from connectors.bill.client import BillClient
from connectors.gp.client import GPClient
from mappings.models import MappingChange, VendorMapping
from tests.sync.conftest import run, wired  # noqa: F401  (the tenant wired to both sandboxes)

LIST = "/admin/mappings/vendormapping/"


def mapping(tenant: Any, gp_id: str) -> VendorMapping:
    return VendorMapping.objects.get(tenant=tenant, gp_vendor_id=gp_id)


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def words(markup: str) -> str:
    """What a reader sees: tags dropped, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())


def test_it_shows_both_sides_field_by_field_and_what_approval_will_change(wired, as_frank):  # noqa: F811
    run(wired)
    contoso = mapping(wired, "CONTOSO0001")
    page = text(as_frank.get(f"{LIST}{contoso.pk}/change/"))
    assert "<title>CONTOSO0001 — Contoso, Ltd. | Review vendor match |" in page
    assert "<h1>Review vendor match</h1>" in page and "→" not in page.split("<h1>")[1].split("</h2>")[0]
    assert "Save and add another" not in page
    compare = page[page.index('id="ml-compare"') : page.index('id="ml-history"')]
    for value in (
        "Contoso, Ltd.",
        "Contoso Ltd.",
        "ap@contoso.example",
        "billing@contoso.example",
        "100 King St W, Floor 12, Toronto, ON M5X 1A9, CA",
        "1 Microsoft Way, Redmond, WA 98052, US",
        "91-1144442",
    ):
        assert value in compare
    seen = words(compare)
    assert "In BILL: nothing changes . In GP: nothing changes ." in seen
    assert "Left different: name, e-mail, phone, remit address, tax ID ." in seen
    assert "I confirm the remit address may be changed" in seen
    assert "I confirm the tax ID may be changed" in seen
    assert "Use BILL's value: GP's tax ID becomes 91-1144442" in seen
    assert "BILL's tax ID becomes" not in seen  # GP has none: it can never erase BILL's
    assert "archived" not in seen


def test_it_gives_the_evidence_as_facts_not_a_percentage(wired, as_frank):  # noqa: F811
    run(wired)
    contoso = mapping(wired, "CONTOSO0001")
    page = text(as_frank.get(f"{LIST}{contoso.pk}/change/"))
    review = page[page.index('id="ml-review"') : page.index('id="ml-history"')]
    assert "Evidence they are one vendor: Same name" in words(review)
    assert "%" not in review


def test_it_says_the_bill_vendor_will_be_archived_when_the_gp_vendor_is_on_hold(wired, as_frank):  # noqa: F811
    run(wired)
    advanced = mapping(wired, "ADVANCED0001")
    assert advanced.bill_name == "Advanced Office Systems"
    page = text(as_frank.get(f"{LIST}{advanced.pk}/change/"))
    assert "The BILL vendor will be archived: the GP vendor is on hold." in page


def test_approving_with_a_choice_but_no_confirmation_approves_nothing(wired, as_frank):  # noqa: F811
    run(wired)
    contoso = mapping(wired, "CONTOSO0001")
    page = text(as_frank.get(f"{LIST}{contoso.pk}/change/"))
    seen = page.split('name="fingerprint" value="')[1].split('"')[0]
    response = as_frank.post(
        f"{LIST}{contoso.pk}/decide/",
        {
            "decision": "approve",
            "target_id": contoso.bill_vendor_id,
            "fingerprint": seen,
            "keep_address": "gp",
        },
        follow=True,
    )
    assert "To change the remit address in BILL, tick “I confirm” next to it. Nothing was approved." in text(
        response
    )
    assert mapping(wired, "CONTOSO0001").state == "suggested"


def test_approving_with_confirmed_choices_says_what_changed_and_shows_it_on_the_record_and_in_mapping_changes(
    wired,  # noqa: F811
    as_frank,
    frank,
):
    run(wired)
    contoso = mapping(wired, "CONTOSO0001")
    page = text(as_frank.get(f"{LIST}{contoso.pk}/change/"))
    seen = page.split('name="fingerprint" value="')[1].split('"')[0]
    response = as_frank.post(
        f"{LIST}{contoso.pk}/decide/",
        {
            "decision": "approve",
            "target_id": contoso.bill_vendor_id,
            "fingerprint": seen,
            "keep_address": "gp",
            "keep_tax_id": "bill",
            "confirm": ["address", "tax_id"],
        },
        follow=True,
    )
    said = text(response)
    assert (
        "In BILL: remit address becomes 100 King St W, Floor 12, Toronto, ON M5X 1A9, CA. "
        "In GP: tax ID becomes 91-1144442."
    ) in said
    bill = BillClient.for_connection(wired.bill_connection).get_vendor(contoso.bill_vendor_id)
    assert (bill.address.city, bill.email) == ("Toronto", "billing@contoso.example")
    assert GPClient.for_connection(wired.gp_connection).get_vendor("CONTOSO0001").tax_id == "91-1144442"

    changes = text(as_frank.get("/admin/mappings/mappingchange/?subject=bill_vendor"))
    assert "BILL vendor record" in changes and "1 Microsoft Way, Redmond, WA 98052, US" in changes
    assert re.search(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d\d:\d\d UTC", changes)  # when, with its zone
    record = SyncRecord.objects.get(tenant=wired, kind="vendor", source_key="CONTOSO0001")
    page = text(as_frank.get(f"/admin/audit/syncrecord/{record.pk}/change/"))
    panels = page[
        page.index('id="ml-record"') if 'id="ml-record"' in page else 0 : page.index('id="ml-trail"')
    ]
    panel = panels[panels.index('id="ml-vendor-changes"') :]
    assert "remit address" in panel and "tax ID" in panel and "frank" in panel
    assert "1 Microsoft Way, Redmond, WA 98052, US" in panel and "91-1144442" in panel
    assert "{'" not in panels  # addresses read as addresses, never Python dicts


def test_bulk_approval_links_only_and_leaves_the_differences_on_the_vendor_record(wired, as_frank):  # noqa: F811
    run(wired)
    contoso = mapping(wired, "CONTOSO0001")
    bill_before = BillClient.for_connection(wired.bill_connection).get_vendor(contoso.bill_vendor_id).raw
    response = as_frank.post(
        LIST, {"action": "approve_selected", "_selected_action": [contoso.pk]}, follow=True
    )
    assert "1 mapping(s) approved" in text(response)
    assert (
        BillClient.for_connection(wired.bill_connection).get_vendor(contoso.bill_vendor_id).raw == bill_before
    )
    assert GPClient.for_connection(wired.gp_connection).get_vendor("CONTOSO0001").tax_id == ""
    assert not MappingChange.objects.filter(key="CONTOSO0001").exclude(subject="mapping").exists()
    record = SyncRecord.objects.get(tenant=wired, kind="vendor", source_key="CONTOSO0001")
    assert record.state == State.CONFLICT
    attention = text(as_frank.get("/admin/audit/attentionrecord/?cause=decision"))
    assert (
        "CONTOSO0001" in attention and "left as they are on both sides (nothing was overwritten)" in attention
    )
    page = text(as_frank.get(f"/admin/audit/syncrecord/{record.pk}/change/"))
    assert "Keep GP's value" in page and "Keep BILL's value" in page  # chosen right there, field by field
    assert "remit address" in page and "1 Microsoft Way, Redmond, WA 98052, US" in page


def test_an_imported_approval_links_only(wired, as_frank):  # noqa: F811
    from django.core.files.uploadedfile import SimpleUploadedFile

    run(wired)
    contoso = mapping(wired, "CONTOSO0001")
    contoso.field_choices = {
        "bill_vendor_id": contoso.bill_vendor_id,
        "fields": {"name": {"winner": "gp", "gp": "Contoso, Ltd.", "bill": "Contoso Ltd."}},
    }
    contoso.save()
    csv = (
        "tenant,gp_vendor_id,gp_name,action,bill_vendor_id,bill_name,state,note\n"
        f"northwind,CONTOSO0001,,link,{contoso.bill_vendor_id},,approved,\n"
    )
    preview = as_frank.post(
        f"{LIST}import/",
        {"import_file": SimpleUploadedFile("v.csv", csv.encode()), "format": "0", "resource": "0"},
    )
    form = preview.context["confirm_form"]
    as_frank.post(f"{LIST}process_import/", {**form.initial, "resource": "0"}, follow=True)
    assert mapping(wired, "CONTOSO0001").state == "approved"
    assert (
        BillClient.for_connection(wired.bill_connection).get_vendor(contoso.bill_vendor_id).name
        == "Contoso Ltd."
    )
    record = SyncRecord.objects.get(tenant=wired, kind="vendor", source_key="CONTOSO0001")
    assert record.state == State.CONFLICT and "nothing was overwritten" in record.reason


def test_choosing_another_suggestion_names_the_bill_vendor_chosen(as_frank, tenant, released):
    from mappings.models import Suggestion

    acme = VendorMapping.objects.create(
        tenant=tenant,
        gp_vendor_id="ACME0001",
        gp_name="Acme Supply Co",
        bill_vendor_id="00901ACME",
        bill_name="ACME Supply",
    )
    Suggestion.objects.create(
        tenant=tenant,
        kind="vendor",
        gp_key="ACME0001",
        bill_id="00901ACMX",
        bill_name="Acme Supplies West",
        score="0.310",
        reasons="similar name (78%)",
    )
    response = as_frank.post(
        f"{LIST}{acme.pk}/decide/", {"decision": "approve", "target_id": "00901ACMX"}, follow=True
    )
    assert "Approved ACME0001 → Acme Supplies West." in text(response)
    acme.refresh_from_db()
    assert (acme.bill_vendor_id, acme.bill_name) == ("00901ACMX", "Acme Supplies West")


def test_differences_left_by_a_bulk_approval_are_aligned_later_from_the_review_page(wired, as_frank, frank):  # noqa: F811
    run(wired)
    contoso = mapping(wired, "CONTOSO0001")
    as_frank.post(LIST, {"action": "approve_selected", "_selected_action": [contoso.pk]})
    page = text(as_frank.get(f"{LIST}{contoso.pk}/change/"))
    assert "stays linked to BILL vendor Contoso Ltd." in words(page) and "Apply these choices" in page
    seen = page.split('name="fingerprint" value="')[1].split('"')[0]
    response = as_frank.post(
        f"{LIST}{contoso.pk}/decide/",
        {
            "decision": "approve",
            "target_id": contoso.bill_vendor_id,
            "fingerprint": seen,
            "keep_name": "bill",
        },
        follow=True,
    )
    assert "In GP: name becomes Contoso Ltd." in text(response)
    assert GPClient.for_connection(wired.gp_connection).get_vendor("CONTOSO0001").name == "Contoso Ltd."
    record = SyncRecord.objects.get(tenant=wired, kind="vendor", source_key="CONTOSO0001")
    assert record.state == State.CONFLICT and "name" not in record.snapshot["conflicts"]
    change = MappingChange.objects.get(key="CONTOSO0001", subject="gp_vendor")
    assert (change.before, change.after, change.user) == (
        {"name": "Contoso, Ltd."},
        {"name": "Contoso Ltd."},
        frank,
    )


def test_without_connections_the_page_says_so_and_approval_changes_no_field(as_frank, tenant, released):
    acme = VendorMapping.objects.create(
        tenant=tenant,
        gp_vendor_id="ACME0001",
        gp_name="Acme Supply Co",
        bill_vendor_id="00901ACME",
        bill_name="ACME Supply",
    )
    page = words(text(as_frank.get(f"{LIST}{acme.pk}/change/")))
    assert "The GP and BILL connections of this tenant are not set up yet" in page
    assert "Approving now links the two records and changes no field on either side." in page
    response = as_frank.post(
        f"{LIST}{acme.pk}/decide/",
        {"decision": "approve", "target_id": "00901ACME", "keep_name": "gp", "fingerprint": "x"},
        follow=True,
    )
    assert "No field can be changed now" in text(response)
    acme.refresh_from_db()
    assert acme.state == "suggested"

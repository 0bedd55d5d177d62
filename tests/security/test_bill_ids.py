"""Nobody steers BILL's URL paths: every BILL ID a person or a file supplies is checked on the way in
(a BILL ID of the right kind, one this tenant's BILL org has), and the BILL client puts IDs into
paths through one helper that checks and encodes them.

The attack: approving a vendor mapping with target `../bills/<id>` made the connector
`POST /v3/bills/<id>/archive` (the HTTP library folds `vendors/../bills` into `bills`).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from connectors.bill.http import BillError
from mappings.models import MappingState, Suggestion, VendorMapping

LIST = "/admin/mappings/vendormapping/"


@pytest.fixture
def some_bill(bill_client):
    """An unrelated bill in the org (the one the attack archived)."""
    from decimal import Decimal

    vendor = bill_client.create_vendor({"name": "Unrelated Vendor", "accountType": "BUSINESS"})
    return bill_client.create_bill(
        {
            "vendorId": vendor.id,
            "dueDate": "2026-12-31",
            "invoice": {"invoiceNumber": "U-1", "invoiceDate": "2026-12-01"},
            "billLineItems": [{"amount": Decimal("12.34"), "description": "x"}],
        }
    ).id


@pytest.fixture
def mapping(tenant, bill_connection):
    return VendorMapping.objects.create(tenant=tenant, gp_vendor_id="ACME0001", gp_name="Acme Supply Co")


def test_the_client_never_lets_an_id_walk_out_of_its_path(bill_client, bill_sandbox, some_bill):
    bill_sandbox.reset_stats()
    for call in (bill_client.archive_vendor, bill_client.get_vendor, bill_client.restore_vendor):
        with pytest.raises(BillError, match="not a BILL ID"):
            call(f"../bills/{some_bill}")
    with pytest.raises(BillError, match="not a BILL ID"):
        bill_client.patch_vendor("00902X/../../bills", {"name": "x"})
    assert bill_sandbox.store.bills[some_bill]["archived"] is False


def test_the_review_page_refuses_a_target_that_is_not_a_bill_vendor_id(
    client, frank, mapping, bill_sandbox, some_bill
):
    client.force_login(frank)
    page = client.post(
        f"{LIST}{mapping.pk}/decide/",
        {"decision": "approve", "target_id": f"../bills/{some_bill}"},
        follow=True,
    ).content.decode()
    assert "is not a BILL vendor ID" in page
    mapping.refresh_from_db()
    assert mapping.state == MappingState.SUGGESTED and mapping.bill_vendor_id == ""
    assert bill_sandbox.store.bills[some_bill]["archived"] is False


def test_a_bill_id_of_another_kind_is_refused(client, frank, mapping, some_bill):
    client.force_login(frank)
    page = client.post(
        f"{LIST}{mapping.pk}/decide/", {"decision": "approve", "target_id": some_bill}, follow=True
    ).content.decode()
    assert "is not a BILL vendor ID: those start with 009" in page
    mapping.refresh_from_db()
    assert mapping.state == MappingState.SUGGESTED


def test_a_well_formed_id_the_org_does_not_have_is_refused_and_one_it_has_is_taken(
    client, frank, mapping, bill_sandbox
):
    client.force_login(frank)
    page = client.post(
        f"{LIST}{mapping.pk}/decide/", {"decision": "approve", "target_id": "00902NOSUCHVENDOR1"}, follow=True
    ).content.decode()
    assert "BILL has no vendor &#x27;00902NOSUCHVENDOR1&#x27; in this tenant&#x27;s organization." in page
    mapping.refresh_from_db()
    assert mapping.state == MappingState.SUGGESTED
    real = next(iter(bill_sandbox.store.vendors))  # never suggested: BILL itself is asked
    client.post(f"{LIST}{mapping.pk}/decide/", {"decision": "approve", "target_id": real})
    mapping.refresh_from_db()
    assert mapping.state == MappingState.APPROVED and mapping.bill_vendor_id == real


def test_the_bulk_approval_refuses_a_stored_target_that_is_not_an_id(client, frank, tenant, bill_connection):
    bad = VendorMapping.objects.create(
        tenant=tenant, gp_vendor_id="EVIL0001", bill_vendor_id="../bills/00n02X"
    )
    client.force_login(frank)
    page = client.post(
        LIST, {"action": "approve_selected", "_selected_action": [bad.pk]}, follow=True
    ).content.decode()
    assert "is not a BILL vendor ID" in page
    bad.refresh_from_db()
    assert bad.state == MappingState.SUGGESTED


def test_the_edit_form_refuses_a_typed_target_that_is_not_a_bill_vendor(client, frank, mapping, tenant):
    Suggestion.objects.create(
        tenant=tenant,
        kind="vendor",
        gp_key="ACME0001",
        bill_id="00902ACME00000001",
        bill_name="ACME",
        score="0.9",
        reasons="same tax ID",
    )
    client.force_login(frank)
    data = {
        "tenant": tenant.pk,
        "gp_vendor_id": "ACME0001",
        "gp_name": "Acme Supply Co",
        "action": "link",
        "bill_name": "",
        "note": "",
    }
    page = client.post(f"{LIST}{mapping.pk}/change/", {**data, "bill_vendor_id": "../bills/00n02X"})
    assert page.status_code == 200 and "is not a BILL vendor ID" in page.content.decode()
    mapping.refresh_from_db()
    assert mapping.bill_vendor_id == ""
    assert (
        client.post(
            f"{LIST}{mapping.pk}/change/", {**data, "bill_vendor_id": "00902ACME00000001"}
        ).status_code
        == 302
    )


def test_an_imported_row_with_a_path_for_a_bill_id_is_refused(client, frank, mapping, tenant):
    client.force_login(frank)
    rows = (
        "tenant,gp_vendor_id,gp_name,action,bill_vendor_id,bill_name,state,note\n"
        "northwind,ACME0001,,link,../bills/00n02X,,approved,\n"
    )
    page = client.post(
        "/admin/mappings/vendormapping/import/",
        {"import_file": SimpleUploadedFile("v.csv", rows.encode()), "format": "0", "resource": "0"},
    ).content.decode()
    assert "is not a BILL vendor ID" in page
    assert 'name="import_file_name"' not in page
    mapping.refresh_from_db()
    assert mapping.state == MappingState.SUGGESTED

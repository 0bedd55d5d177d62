"""The flows on a GP reached by GP Web Services. BILL payments go the documented manual way: never
written by us, never pretended. Each becomes a "record in GP" task a finance user sees in Needs
attention, with a file GP can import; the record settles once GP lists the payment as posted. Vendor
changes from BILL reach GP through UpdateVendor."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import requests

from audit.models import State, SyncRecord
from connectors.gp.client import GPClient
from connectors.sync.bill_to_gp.manual_payments import FILE_COLUMNS
from connectors.sync.keys import gp_payment_number
from connectors.sync.runner import run_bill_to_gp
from tests.fixtures_gp_ws import wire_gp_interface
from tests.sync.conftest import approve_all, record, run

NEEDS_ATTENTION = "/admin/audit/attentionrecord/"


@pytest.fixture
def synced(wired, gp_sandbox, gp_ws_sandbox):
    """Bills in BILL for every approved GP invoice read over GP Web Services; a default checkbook. The tenant
    accepted sending without a hold check (GP Web Services shows no invoice holds; without that choice
    every invoice waits: tests/sync/test_ws_hold_and_open_amount.py)."""
    wire_gp_interface(wired, gp_sandbox, gp_ws_sandbox, "web_services")
    wired.refresh_from_db()
    wired.send_without_hold_check = True
    wired.save()
    run(wired)
    approve_all(wired)
    wired.default_checkbook_id = "UPTOWN TRUST"
    wired.save()
    return wired


def _bill_record(tenant) -> SyncRecord:
    return (
        SyncRecord.objects.filter(tenant=tenant, kind="bill", state=State.SYNCED)
        .order_by("source_key")
        .first()
    )


def _gp_payments(gp_sandbox) -> list[str]:
    table = gp_sandbox.data().tables["PayablesPayments"]
    return [k for _, k in table._index]


def clerk_records(gp_sandbox, task: dict, *, number: str, document: str, amount: str) -> None:
    """A GP user enters a manual payment for the task's first voucher and posts its batch, in GP itself."""
    company = gp_sandbox.data()
    company.create_payment(
        {
            "Key": {"Id": number},
            "VendorKey": {"Id": task["vendor_id"]},
            "CheckbookKey": {"Id": "UPTOWN TRUST"},
            "PaymentMethod": "EFT",
            "DocumentNumber": document,
            "Date": "2026-03-02",
            "Amount": amount,
            "BatchKey": {"Id": "CLERK"},
            "ApplyTo": [{"VoucherKey": {"Id": task["applies"][0]["voucher"]}, "Amount": amount}],
        }
    )
    company.post_batch("PM_Payment", "CLERK")


def _download(client, tenant) -> str:
    rows = SyncRecord.objects.filter(tenant=tenant, kind="gp_payment")
    response = client.post(
        NEEDS_ATTENTION, {"action": "gp_manual_payments_file", "_selected_action": [r.pk for r in rows]}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return response.content.decode()


def test_a_bill_payment_becomes_a_record_in_gp_task_and_nothing_is_written(synced, bill_sandbox, gp_sandbox):
    bill_record = _bill_record(synced)
    before = _gp_payments(gp_sandbox)
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id}])
    run_bill_to_gp(synced)
    row = record(synced, "gp_payment", payment["id"])
    assert row.state == State.BLOCKED
    invoice = GPClient.for_connection(synced.gp_connection).get_invoice(bill_record.source_key)
    for words in (
        "Record in GP",
        "GP Web Services cannot write payments",
        gp_payment_number(payment["id"]),
        invoice.vendor_id,
        bill_record.source_key,
        f"{invoice.document_amount:.2f}",
        "UPTOWN TRUST",
        payment["id"],
    ):
        assert words in row.reason
    assert "Integration Manager" in row.fix
    assert _gp_payments(gp_sandbox) == before  # nothing was pretended in GP
    run_bill_to_gp(synced)  # asking again changes nothing
    assert SyncRecord.objects.filter(tenant=synced, kind="gp_payment").count() == 1
    assert _gp_payments(gp_sandbox) == before


def test_finance_sees_the_task_and_downloads_a_file_gp_imports_then_it_settles(
    synced, bill_sandbox, gp_sandbox, gp_ws_sandbox, client, frank
):
    bill_record = _bill_record(synced)
    remaining = GPClient.for_connection(synced.gp_connection).get_invoice(bill_record.source_key).remaining
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id, "amount": "100.00"}])
    run_bill_to_gp(synced)
    client.force_login(frank)
    listing = client.get(NEEDS_ATTENTION).content.decode()
    assert "Record in GP" in listing
    text = _download(client, synced)
    rows = list(csv.DictReader(io.StringIO(text)))
    number = gp_payment_number(payment["id"])
    assert tuple(rows[0]) == FILE_COLUMNS
    assert [
        (
            r["Payment Number"],
            r["Apply To Voucher"],
            r["Apply Amount"],
            r["Checkbook ID"],
            r["BILL Payment ID"],
        )
        for r in rows
    ] == [(number, bill_record.source_key, "100.00", "UPTOWN TRUST", payment["id"])]

    # A GP user imports the file (Integration Manager) and posts the batch.
    imported = requests.post(
        gp_ws_sandbox.base_url + "/_sandbox/import/manual-payments", data=text.encode(), timeout=10
    ).json()["Payload"]
    assert imported["imported"] == [number] and imported["errors"] == []

    run_bill_to_gp(synced)
    row = record(synced, "gp_payment", payment["id"])
    assert (row.state, row.target_id) == (State.SYNCED, number)
    assert row.trail.filter(outcome="recorded_in_gp").exists()
    after = GPClient.for_connection(synced.gp_connection).get_invoice(bill_record.source_key)
    assert after.remaining == remaining - Decimal("100")  # applied once, by GP, from the file
    assert _download(client, synced).strip() == ",".join(FILE_COLUMNS)  # nothing left to record


def test_a_payment_gp_numbered_itself_is_found_by_the_bill_reference(synced, bill_sandbox, gp_sandbox):
    bill_record = _bill_record(synced)
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id}])
    run_bill_to_gp(synced)
    task = record(synced, "gp_payment", payment["id"]).snapshot["manual_payment"]
    # typed by a clerk in Manual Payment entry: GP's own number, our reference as the document number
    clerk_records(
        gp_sandbox, task, number="PMCHK00000123", document=task["document_number"], amount=task["amount"]
    )
    run_bill_to_gp(synced)
    row = record(synced, "gp_payment", payment["id"])
    assert (row.state, row.target_id) == (State.SYNCED, "PMCHK00000123")


def test_a_payment_recorded_for_a_different_amount_is_flagged(synced, bill_sandbox, gp_sandbox):
    bill_record = _bill_record(synced)
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id}])
    run_bill_to_gp(synced)
    task = record(synced, "gp_payment", payment["id"]).snapshot["manual_payment"]
    clerk_records(gp_sandbox, task, number=task["payment_number"], document="X", amount="1.00")
    run_bill_to_gp(synced)
    row = record(synced, "gp_payment", payment["id"])
    assert row.state == State.FLAGGED and "1.00" in row.reason


def test_the_file_never_carries_a_spreadsheet_formula(tenant):
    from connectors.sync.bill_to_gp.manual_payments import file_rows

    task = {
        "batch": "BILL20260302",
        "payment_number": "BL123",
        "vendor_id": "ACETRAVE0001",
        "date": "2026-03-02",
        "checkbook_id": "UPTOWN TRUST",
        "method": "EFT",
        "document_number": '=HYPERLINK("http://x")',
        "amount": "10.00",
        "applies": [{"voucher": "00000000000000301", "amount": "10.00"}],
        "bill_payment_id": "stp01ABC",
    }
    row = SyncRecord.objects.create(
        tenant=tenant,
        kind="gp_payment",
        source_key="stp01ABC",
        state=State.BLOCKED,
        snapshot={"manual_payment": task},
    )
    (line,) = file_rows([row])
    assert line["Document Number"] == '\'=HYPERLINK("http://x")' and line["Payment Amount"] == "10.00"


def test_the_preview_says_payments_will_be_recorded_by_hand(synced, bill_sandbox):
    from connectors.sync.preview import preview

    payment = bill_sandbox.pay_bills([{"billId": _bill_record(synced).target_id}])
    sections = {s["title"]: s for s in preview(synced)["sections"]}
    assert "Payments to write to GP" not in sections
    rows = sections["Payments to record in GP by hand (GP Web Services cannot write them)"]["rows"]
    assert [r[0] for r in rows] == [payment["id"]]


def test_a_vendor_edited_in_bill_reaches_gp_through_update_vendor(
    synced, bill_sandbox, gp_sandbox, gp_ws_sandbox
):
    from connectors.bill.client import BillClient

    vendor = (
        SyncRecord.objects.filter(tenant=synced, kind="vendor", state=State.SYNCED, snapshot__archived=False)
        .order_by("source_key")
        .first()
    )
    BillClient.for_connection(synced.bill_connection).patch_vendor(
        vendor.target_id, {"email": "new-ap@vendor.example"}
    )
    run_bill_to_gp(synced)
    assert (
        GPClient.for_connection(synced.gp_connection).get_vendor(vendor.source_key).email
        == "new-ap@vendor.example"
    )
    calls = gp_ws_sandbox.stats()["requests"]["by_path"]
    assert any(k.endswith("/UpdateVendor") for k in calls)

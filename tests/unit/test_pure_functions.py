"""Direct tests of the pure functions the flows stand on: no sandbox, no database.

Each asserts what a finance user ends up seeing (the reason an invoice waits, the words of an error), so a
change that breaks the rule fails here before it fails in an end-to-end run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from connectors.bill.http import SessionInvalid
from connectors.bill.http import error_from_response as bill_error
from connectors.gp.http import error_from_response as gp_error
from connectors.gp.records import GPDistribution, GPInvoice, GPVendor
from connectors.models import Tenant
from connectors.sync import vendor_fields
from connectors.sync.gp_to_bill.bill_payload import HOLD_UNKNOWN, build_draft, is_approved


def invoice(**changes: Any) -> GPInvoice:
    base = GPInvoice(
        voucher="00000000000000101",
        vendor_id="ACETRAVE0001",
        document_type="Invoice",
        invoice_number="INV-7",
        description="Flights  to\nChicago",
        date=dt.date(2026, 11, 2),
        due_date=dt.date(2026, 12, 2),
        posting_date=dt.date(2026, 11, 2),
        batch="B1",
        po_number="",
        purchases=Decimal("100.00"),
        trade_discount=Decimal(0),
        freight=Decimal("10.00"),
        misc=Decimal(0),
        tax=Decimal(0),
        document_amount=Decimal("110.00"),
        remaining=Decimal("110.00"),
        currency="USD",
        decimal_digits=2,
        state="Open",
        workflow_status="NoApprovalNeeded",
        is_on_hold=False,
        is_voided=False,
        distributions=(
            GPDistribution("000-6100-00", "Purchase", Decimal("100.00000"), Decimal(0), ""),
            GPDistribution("000-6200-00", "Freight", Decimal("10.00000"), Decimal(0), "Shipping"),
            GPDistribution("000-2100-00", "Payable", Decimal(0), Decimal("110.00000"), ""),
        ),
        created_date=None,
        modified_date=None,
        raw={},
    )
    return dataclasses.replace(base, **changes)


class Ctx:
    """The lookups build_draft asks of a sync context: mapped vendors and accounts."""

    def __init__(
        self,
        vendors: dict[str, str] | None = None,
        accounts: dict[str, str] | None = None,
        archived: set[str] | None = None,
        tenant: Any = None,
    ) -> None:
        self.vendors = {"ACETRAVE0001": "0091AAAAAAAAAAAAAAA"} if vendors is None else vendors
        self.accounts = (
            {"000-6100-00": "0ca01AAAAAAAAAAAAAA", "000-6200-00": "0ca01BBBBBBBBBBBBBB"}
            if accounts is None
            else accounts
        )
        self.archived = archived or set()
        self.tenant = tenant

    def bill_vendor_id(self, gp_vendor: str) -> str | None:
        return self.vendors.get(gp_vendor)

    def bill_account_id(self, account: str) -> str | None:
        return self.accounts.get(account)

    def vendor_archived(self, gp_vendor: str) -> bool:
        return gp_vendor in self.archived


# --- is_approved: which GP documents become bills ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "approved", "reason"),
    [
        ({}, True, ""),
        ({"is_voided": True}, False, "voided in GP"),
        ({"is_on_hold": True}, False, "on hold in GP"),
        ({"document_type": "CreditMemo"}, False, "GP document type CreditMemo is not sent to BILL"),
        ({"remaining": Decimal(0)}, False, "nothing remains to pay in GP"),
        ({"state": "History"}, False, "already fully paid in GP"),
        ({"state": "Work"}, False, "not posted in GP yet"),
    ],
)
def test_posted_only_policy_sends_open_invoices_with_money_left(changes, approved, reason):
    tenant = Tenant(bill_policy=Tenant.BILL_POLICY_POSTED)
    assert is_approved(invoice(**changes), tenant) == (approved, reason)


def test_approved_unposted_policy_sends_work_invoices_only_once_approved():
    tenant = Tenant(bill_policy=Tenant.BILL_POLICY_APPROVED_UNPOSTED)
    assert is_approved(invoice(state="Work", workflow_status="Approved"), tenant) == (True, "")
    assert is_approved(invoice(state="Work", workflow_status="PendingApproval"), tenant) == (
        False,
        "workflow status is PendingApproval",
    )


# --- build_draft: the bill, or the reason it waits -------------------------------------------------------


def test_a_mapped_invoice_becomes_a_bill_with_one_line_per_expense_distribution():
    draft = build_draft(invoice(), Ctx())
    assert draft.ready and draft.amount == Decimal("110.00")
    body = draft.payload
    assert body["vendorId"] == "0091AAAAAAAAAAAAAAA"
    assert body["invoice"] == {"invoiceNumber": "INV-7", "invoiceDate": "2026-11-02"}
    assert body["description"] == "GP voucher 00000000000000101 — Flights to Chicago"
    assert [(li["amount"], li["classifications"]["chartOfAccountId"]) for li in body["billLineItems"]] == [
        (Decimal("100.00"), "0ca01AAAAAAAAAAAAAA"),
        (Decimal("10.00"), "0ca01BBBBBBBBBBBBBB"),
    ]
    assert all(isinstance(li["amount"], Decimal) for li in body["billLineItems"])


def test_an_unmapped_vendor_and_account_make_the_bill_wait_and_say_for_what():
    draft = build_draft(invoice(), Ctx(vendors={}, accounts={"000-6100-00": "0ca01AAAAAAAAAAAAAA"}))
    assert not draft.ready and draft.payload == {}
    assert draft.waiting_on == ["vendor:ACETRAVE0001", "account:000-6200-00"]
    assert draft.blocked_reason == (
        "Waiting for a mapping: GP vendor ACETRAVE0001, GP account 000-6200-00 not mapped to BILL yet."
    )


def test_distributions_that_do_not_add_up_are_a_problem_a_clerk_can_fix_in_gp():
    draft = build_draft(invoice(document_amount=Decimal("120.00")), Ctx())
    assert "its distributions add up to 110.00, not the document amount 120.00" in draft.problem
    assert draft.fix.startswith("Correct the invoice in GP")


def test_another_currency_and_a_missing_invoice_number_are_both_named():
    draft = build_draft(invoice(currency="EUR", invoice_number=" "), Ctx())
    assert "the invoice is in EUR, but the BILL organization pays in USD" in draft.problem
    assert "the invoice has no vendor document number" in draft.problem


def test_an_archived_vendor_blocks_the_bill_until_released_in_gp():
    draft = build_draft(invoice(), Ctx(archived={"ACETRAVE0001"}))
    assert not draft.ready and "is on hold or inactive" in draft.blocked_reason


def test_an_invoice_whose_hold_gp_cannot_show_waits_unless_the_tenant_accepts_it():
    unknown = invoice(hold_known=False)
    assert build_draft(unknown, Ctx(tenant=SimpleNamespace(send_without_hold_check=False))).waiting_on == [
        HOLD_UNKNOWN
    ]
    assert build_draft(unknown, Ctx(tenant=SimpleNamespace(send_without_hold_check=True))).ready


def test_money_is_rounded_half_up_to_the_currency_like_gp():
    inv = invoice(
        document_amount=Decimal("110.005"),
        distributions=(GPDistribution("000-6100-00", "Purchase", Decimal("110.00500"), Decimal(0), ""),),
    )
    assert build_draft(inv, Ctx()).payload["billLineItems"][0]["amount"] == Decimal("110.01")


# --- vendor_fields: one shape for both sides --------------------------------------------------------------


def gp_vendor(**changes: Any) -> GPVendor:
    base = GPVendor(
        vendor_id="ACETRAVE0001",
        name=" A Travel\nCompany ",
        short_name="",
        check_name="",
        status="Active",
        is_on_hold=False,
        tax_id="12-3456789",
        email="AP@Travel.Example",
        phone="555 0100",
        line1="1 Main St",
        line2="",
        line3="",
        city="Fargo",
        state="ND",
        postal_code="58102",
        country="USA",
        class_id="",
        payment_terms="",
        created_date=None,
        modified_date=None,
        raw={"RemitToAddressKey": {"Id": "REMIT"}},
    )
    return dataclasses.replace(base, **changes)


def test_gp_and_bill_vendors_compare_in_one_shape():
    aligned = vendor_fields.from_gp(gp_vendor())
    assert aligned["name"] == "A Travel Company" and aligned["email"] == "ap@travel.example"
    assert aligned["address"]["country"] == "US"
    bill = vendor_fields.bill_body(aligned)
    assert vendor_fields.changed_fields(aligned, vendor_fields.from_bill(bill)) == set()
    moved = vendor_fields.from_gp(gp_vendor(city="Bismarck"))
    assert vendor_fields.changed_fields(aligned, moved) == {"address"}


def test_a_bill_patch_keeps_what_bill_holds_beside_our_change():
    aligned = vendor_fields.from_gp(gp_vendor(tax_id="99-0000001"))
    current = {"additionalInfo": {"taxId": "12-3456789", "track1099": True}}
    body = vendor_fields.bill_patch(current, aligned, {"tax_id"})
    assert body == {"additionalInfo": {"taxId": "99-0000001", "track1099": True}}


def test_a_gp_patch_writes_to_the_remit_to_address():
    aligned = vendor_fields.from_gp(gp_vendor())
    body = vendor_fields.gp_patch(aligned, {"email"}, vendor_fields.gp_address_key(gp_vendor()))
    assert body == {"Addresses": [{"Key": {"Id": "REMIT"}, "Email": "ap@travel.example"}]}


def test_an_address_reads_as_one_line_never_a_dict():
    assert (
        vendor_fields.as_text(vendor_fields.from_gp(gp_vendor())["address"])
        == "1 Main St, Fargo, ND 58102, US"
    )


# --- error_from_response: BILL's and GP's errors in words -----------------------------------------------


def test_bill_rate_limit_codes_are_retryable_whatever_the_status():
    busy = bill_error(400, b'[{"code": "BDC_1322", "message": "Max concurrent"}]')
    assert busy.retryable and busy.code == "BDC_1322" and "too many calls at once" in str(busy)
    hour = bill_error(403, b'[{"code": "BDC_1144", "message": "limit"}]')
    assert hour.retryable and "hourly request limit" in str(hour)


def test_bill_expired_session_is_a_session_error_and_a_refusal_is_not_retried():
    assert isinstance(
        bill_error(401, b'[{"code": "BDC_1109", "message": "Session is invalid."}]'), SessionInvalid
    )
    refused = bill_error(400, b'[{"code": "BDC_1002", "message": "bad field"}]')
    assert not refused.retryable and "BILL refused the request (HTTP 400, BDC_1002): bad field" in str(
        refused
    )
    assert bill_error(502, b"<html>").retryable


def gp_response(status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code, response._content = status, body
    return response


def test_gp_errors_name_what_to_fix_and_which_can_be_retried():
    wrong = gp_error(gp_response(401, b""), "CORP\\svc-gp", "Fabrikam", "Default")
    assert (wrong.code, wrong.retryable) == ("auth", False) and "CORP\\svc-gp" in str(wrong)
    locked = gp_error(gp_response(409, b'{"Error": {"Code": "Locked", "Message": "in use"}}'), "a", "b", "c")
    assert locked.retryable and "locked in GP" in str(locked)
    down = gp_error(gp_response(503, b"not json"), "a", "b", "c")
    assert (down.code, down.retryable) == ("server", True)

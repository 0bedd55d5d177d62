"""What the flows ask of GP, asked over SBA and over GP Web Services (SOAP): the same answers.

Every test here runs twice (`gp_interface`), against one GP company served by both sandboxes over real
HTTP with the NTLM handshake.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.gp.http import GPError
from connectors.gp.transport import diagnose, gp_client_for
from tests.fixtures_gp import GP_UNMAPPED_ACCOUNT, GP_UNMAPPED_PASSWORD
from tests.fixtures_gp_ws import wire_gp_interface
from tests.gp.clients import sba_client

SEED_VENDOR_ORDER = [
    "ACETRAVE0001",
    "ADVANCED0001",
    "AMERICAN0001",
    "ASSOCIAT0001",
    "ASSOCIAT0002",
    "TEMPVEND0001",
    "CONTOSO0001",
    "MULLERBU0001",
]


def test_vendors_come_oldest_change_first_with_their_remit_to_address(gp_any):
    vendors = list(gp_any.iter_vendors())
    assert [v.vendor_id for v in vendors] == SEED_VENDOR_ORDER
    ace = vendors[0]
    assert (ace.name, ace.tax_id, ace.city, ace.email, ace.status) == (
        "A Travel Company",
        "12-3456789",
        "Chicago",
        "ap@atravel.example",
        "Active",
    )
    assert next(v for v in vendors if v.vendor_id == "ADVANCED0001").is_on_hold


def test_an_incremental_read_returns_what_changed_since_the_cursor(gp_any, gp_sandbox):
    gp_sandbox.update_vendor("CONTOSO0001", Name="Contoso, Ltd. (new)")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
    changed = list(gp_any.iter_vendors(modified_since=since, overlap=dt.timedelta(0)))
    assert [(v.vendor_id, v.name) for v in changed] == [("CONTOSO0001", "Contoso, Ltd. (new)")]


def test_an_invoice_reads_with_its_amounts_and_balanced_distributions(gp_any):
    invoice = gp_any.get_invoice("00000000000000301")
    assert (invoice.vendor_id, invoice.state, invoice.document_amount, invoice.currency) == (
        "ACETRAVE0001",
        "Open",
        Decimal("1250.00000"),
        "USD",
    )
    assert invoice.due_date is not None and invoice.invoice_number
    debits = sum(d.debit for d in invoice.distributions)
    assert debits == sum(d.credit for d in invoice.distributions) == invoice.document_amount
    assert {d.type for d in invoice.distributions} >= {"Purchase", "Payable"}


def test_open_invoices_are_the_same_on_both_interfaces(gp_any, gp_sandbox):

    sba = sba_client(
        gp_sandbox.url, gp_sandbox.tenant, gp_sandbox.company, gp_sandbox.account, gp_sandbox.password
    )
    expected = {
        (i.voucher, i.document_amount)
        for i in sba.iter_invoices(state="Open")
        if i.document_type == "Invoice"
    }
    got = {
        (i.voucher, i.document_amount)
        for i in gp_any.iter_invoices(state="Open")
        if i.document_type == "Invoice"
    }
    assert got == expected and len(got) == 11


def test_gl_accounts_and_checkbooks_are_listed(gp_any):
    accounts = {a.account: a for a in gp_any.iter_gl_accounts()}
    assert accounts["000-6100-00"].can_post and not accounts["000-4000-00"].can_post
    assert not accounts["000-6900-00"].is_active
    assert {c.checkbook_id for c in gp_any.iter_checkbooks() if not c.is_inactive} == {
        "UPTOWN TRUST",
        "FIRST NATIONAL",
    }


def test_a_missing_record_reads_as_none(gp_any):
    assert gp_any.get_vendor("NOSUCHVENDOR") is None
    assert gp_any.get_invoice("99999999999999999") is None


def test_changing_a_vendor_changes_only_the_fields_sent(gp_any, gp_sandbox):
    gp_any.patch_vendor(
        "ACETRAVE0001",
        {"Name": "A Travel Co.", "Addresses": [{"Key": {"Id": "PRIMARY"}, "City": "Evanston"}]},
    )
    vendor = gp_sandbox.data().get("Vendors", "ACETRAVE0001")
    assert vendor["Name"] == "A Travel Co." and vendor["Addresses"][0]["City"] == "Evanston"
    assert vendor["TaxIdNumber"] == "12-3456789" and vendor["Addresses"][0]["Line1"] == "123 Riverside Dr"


def test_a_locked_vendor_refuses_a_change_with_a_retryable_error(gp_any, gp_sandbox):
    gp_sandbox.lock("Vendors", "ACETRAVE0001")
    with pytest.raises(GPError) as caught:
        gp_any.patch_vendor("ACETRAVE0001", {"Name": "Never"})
    assert (caught.value.code, caught.value.retryable) == ("locked", True)


@pytest.mark.parametrize("kind, code", [("5xx", "server"), ("lock", "locked"), ("reset", "reset")])
def test_injected_faults_are_retryable_errors(gp_any, gp_sandbox, gp_ws_sandbox, gp_interface, kind, code):
    gp_any.get_vendor("ACETRAVE0001")  # signed in (and the company resolved) before the faults start
    (gp_sandbox if gp_interface == "sba" else gp_ws_sandbox).set_faults(kind, rate=1.0)
    with pytest.raises(GPError) as caught:
        gp_any.get_vendor("CONTOSO0001")
    assert (caught.value.code, caught.value.retryable) == (code, True)


def test_a_slow_gp_is_a_timeout(tenant, gp_sandbox, gp_ws_sandbox, gp_interface):
    conn = wire_gp_interface(tenant, gp_sandbox, gp_ws_sandbox, gp_interface, timeout_seconds=1)
    client = gp_client_for(conn, sleep=lambda s: None)
    client.get_vendor("ACETRAVE0001")
    (gp_sandbox if gp_interface == "sba" else gp_ws_sandbox).set_faults(
        "timeout", rate=1.0, timeout_seconds=3
    )
    with pytest.raises(GPError) as caught:
        client.get_vendor("CONTOSO0001")
    assert (caught.value.code, caught.value.retryable) == ("timeout", True)


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"password": "wrong"}, "GP refused the password for CORP\\svc-gp"),
        (
            {"username": GP_UNMAPPED_ACCOUNT.split("\\")[1], "password": GP_UNMAPPED_PASSWORD},
            "CORP\\unmapped",
        ),
        ({"company": "Fabrikam Inc"}, "GP has no company named 'Fabrikam Inc'"),
    ],
)
def test_the_connection_check_names_the_problem(
    tenant, gp_sandbox, gp_ws_sandbox, gp_interface, overrides, words
):
    problem, _ = diagnose(wire_gp_interface(tenant, gp_sandbox, gp_ws_sandbox, gp_interface, **overrides))
    assert problem is not None and words in problem


def test_the_connection_check_says_what_the_interface_cannot_do(gp_any_connection, gp_interface):
    problem, note = diagnose(gp_any_connection)
    assert problem is None
    if gp_interface == "web_services":
        assert "Payments cannot be written back over GP Web Services." in note
    else:
        assert note == ""

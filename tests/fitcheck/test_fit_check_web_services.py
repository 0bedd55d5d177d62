"""The fit check over GP Web Services: which interface answers, the WSDL's operations against what the
connector calls, the companies, one record of each kind, the counts; and nothing written on either
sandbox (SBA's and Web Services' write counters stay at zero)."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from audit.models import SyncRecord
from connectors.fitcheck import run_fit_check
from connectors.gp.soap import ws_map as ws
from connectors.gp.soap.client import GPWSClient
from mappings.models import VendorMapping
from tests.fitcheck.test_fit_check import _gp_truth, _writes, demo  # noqa: F401
from tests.fixtures_gp import wire_gp_connection
from tests.fixtures_gp_ws import wire_gp_interface

WS_WRITE_VERBS = ("Create", "Update", "Delete", "Void", "Post")


def _ws_writes(ws_sandbox) -> list[str]:
    """Every SOAP call is a POST: a write is an operation that changes GP, or the payments import."""
    by_path = ws_sandbox.stats()["requests"]["by_path"]
    return [k for k in by_path if k.rsplit("/", 1)[-1].startswith(WS_WRITE_VERBS) or "import" in k.lower()]


@pytest.fixture
def demo_ws(demo, gp_ws_sandbox):  # noqa: F811
    tenant, gp_sandbox, bill = demo
    wire_gp_interface(tenant, gp_sandbox, gp_ws_sandbox, "web_services")
    tenant.refresh_from_db()
    gp_sandbox.reset_stats()
    gp_ws_sandbox.server.stats.reset()
    return tenant, gp_sandbox, gp_ws_sandbox, bill


def test_a_web_services_connection_is_checked_over_web_services_and_writes_nothing(demo_ws, capsys):
    tenant, gp_sandbox, ws_sandbox, bill = demo_ws
    call_command("fit_check", tenant=tenant.slug, json=True)
    report = json.loads(capsys.readouterr().out)
    gp = report["gp"]

    assert _writes(gp_sandbox) == [] and _ws_writes(ws_sandbox) == [] and _writes(bill) == []
    assert any(
        "GetVendorByKey" in k for k in ws_sandbox.stats()["requests"]["by_path"]
    )  # it did read over SOAP
    assert not SyncRecord.objects.exists() and not VendorMapping.objects.exists()

    assert gp["interface"] == {
        "configured": "web_services",
        "used": "web_services",
        "sba": "answers",
        "web_services": "answers",
    }
    assert gp["resources"]["source"] == "WSDL" and gp["resources"]["missing"] == []
    assert set(ws.NEEDED) <= set(gp["resources"]["listed"])
    assert gp_sandbox.company in gp["companies"]["visible"]
    for kind in (
        "Purchasing/Vendors",
        "Purchasing/PayablesInvoices",
        "Financials/GLAccounts",
        "Financials/Checkbooks",
    ):
        assert gp["records"][kind]["read"] and gp["records"][kind]["sample_key"], kind
        assert (
            gp["records"][kind]["fields_missing"] == [] and gp["records"][kind]["vocabulary_problems"] == []
        )
    truth = _gp_truth(gp_sandbox)
    readable = (
        "vendors",
        "vendors_on_hold",
        "vendors_active",
        "gl_accounts",
        "gl_accounts_allowing_entry",
        "checkbooks_active",
    )
    assert {k: gp["counts"][k] for k in readable} == {k: truth[k] for k in readable}
    # What Web Services cannot see is said, and counted as it reads: invoices only (no credit memos),
    # no hold flag (held open invoices count as approved, and every invoice waits for the hold check);
    # the open amount comes from TotalPayments, so partly paid vouchers are seen as GP has them.
    table = gp_sandbox.data().tables["PayablesInvoices"]
    invoices = [table.get(k) for _, k in table._index if table.get(k)["DocumentType"] == "Invoice"]
    held = [
        i
        for i in invoices
        if i["IsOnHold"]
        and i["TransactionState"] == "Open"
        and not i["IsVoided"]
        and i["CurrentTransactionAmount"]["Value"] > 0
    ]
    partly = [
        i
        for i in invoices
        if i["TransactionState"] == "Open"
        and 0 < i["CurrentTransactionAmount"]["Value"] < i["DocumentAmount"]["Value"]
    ]
    assert gp["counts"]["invoices"] == len(invoices)
    assert gp["counts"]["approved_unpaid_invoices"] == truth["approved_unpaid_invoices"] + len(held)
    assert partly and gp["counts"]["partly_paid_vouchers"] == len(partly)
    note = gp["counts_note"]
    assert "no hold flag" in note and "wait in Needs attention, not sent to BILL" in note
    assert "a partly paid voucher reaches BILL with only its open amount due" in note
    assert "credit memo applied to a voucher is not seen" in note
    assert report["plan"]["bills_to_create"] > 0 and report["plan"]["bills_waiting_hold_check"] > 0
    assert report["plan"]["bills_ready"] == 0  # none goes before the hold check is settled
    assert (
        gp["payments_write_back"]["possible"] is False
        and "record in GP" in gp["payments_write_back"]["instead"]
    )
    assert report["fits"] is True  # write-back and the hold flag are warnings: the Web Services way works
    said = " ".join(p["problem"] for p in report["problems"])
    assert "Payments cannot be written back over GP Web Services" in said and "no hold flag" in said
    assert (
        gp["credits"]["possible"] is False and "no method that applies a credit memo" in gp["credits"]["why"]
    )
    assert "Credit memos stay in GP" in said


def test_a_tenant_sending_without_a_hold_check_is_told_what_that_risks(demo_ws):
    tenant, gp_sandbox, ws_sandbox, bill = demo_ws
    tenant.send_without_hold_check = True
    tenant.save()
    report = run_fit_check(tenant)
    note = report["gp"]["counts_note"]
    assert "an invoice on hold in GP would be sent to BILL" in note and "wait in Needs attention" not in note
    assert report["plan"]["bills_waiting_hold_check"] == 0 and report["plan"]["bills_to_create"] > 0


def test_detect_reads_through_web_services_when_sba_does_not_answer(demo_ws):
    tenant, gp_sandbox, ws_sandbox, bill = demo_ws
    wire_gp_interface(tenant, gp_sandbox, ws_sandbox, "auto", base_url=ws_sandbox.base_url)
    tenant.refresh_from_db()
    report = run_fit_check(tenant)
    interface = report["gp"]["interface"]
    assert interface["used"] == "web_services" and interface["web_services"] == "answers"
    assert interface["sba"] != "answers"
    assert report["gp"]["counts"]["vendors"] == _gp_truth(gp_sandbox)["vendors"]
    assert _writes(gp_sandbox) == [] and _ws_writes(ws_sandbox) == []


def test_an_sba_connection_whose_sba_is_silent_is_told_that_web_services_answers(demo_ws):
    tenant, gp_sandbox, ws_sandbox, bill = demo_ws
    wire_gp_interface(tenant, gp_sandbox, ws_sandbox, "sba", base_url=ws_sandbox.base_url)
    tenant.refresh_from_db()
    report = run_fit_check(tenant)
    assert report["fits"] is False and report["gp"]["interface"]["used"] == "none"
    blocker = next(p for p in report["problems"] if p["subject"] == "GP Service (SBA)")
    assert "GP Web Services answers, though" in blocker["problem"]
    assert "counts" not in report["gp"]


def test_a_web_services_url_that_is_not_gp_is_a_blocker_not_an_empty_report(demo_ws):
    tenant, gp_sandbox, ws_sandbox, bill = demo_ws
    wire_gp_connection(
        tenant,
        gp_sandbox,
        interface="web_services",
        web_services_url=ws_sandbox.base_url + "/NotGP/Service.asmx",
    )
    tenant.refresh_from_db()
    report = run_fit_check(tenant)
    assert report["fits"] is False and report["gp"]["interface"]["used"] == "none"
    assert (
        "no GP Web Services endpoint"
        in next(p for p in report["problems"] if p["subject"] == "GP Web Services")["problem"]
    )


def test_an_operation_missing_from_the_wsdl_is_named(demo_ws, monkeypatch):
    tenant, gp_sandbox, ws_sandbox, bill = demo_ws
    offered = GPWSClient.offered_operations

    def without_update(self):  # a server whose security setup hides UpdateVendor
        return [op for op in offered(self) if op != ws.UPDATE_VENDOR]

    monkeypatch.setattr(GPWSClient, "offered_operations", without_update)
    report = run_fit_check(tenant)
    assert report["gp"]["resources"]["missing"] == [ws.UPDATE_VENDOR] and report["fits"] is False
    assert any("does not offer UpdateVendor" in p["problem"] for p in report["problems"])

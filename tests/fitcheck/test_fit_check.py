"""The fit check reads both sandboxes and writes nothing; its counts are what the sandboxes hold, and a
GP server that differs from the resource map is named, with the overrides that would make it fit."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from audit.models import SyncRecord
from connectors.fitcheck import run_fit_check
from mappings.models import GLAccountMapping, VendorMapping

WRITES = ("POST", "PATCH", "PUT", "DELETE")


def _writes(sandbox) -> list[str]:
    by_path = sandbox.stats()["requests"]["by_path"]
    return [k for k in by_path if k.split()[0] in WRITES and not k.endswith("/v3/login")]


def _gp_truth(gp_sandbox) -> dict[str, int]:
    """Counted from the sandbox's own tables, not through the client."""
    data = gp_sandbox.data()
    rows = {name: [data.tables[name].get(k) for _, k in data.tables[name]._index] for name in data.tables}
    vendors, invoices = rows["Vendors"], rows["PayablesInvoices"]

    def value(money) -> Decimal:
        return Decimal(str(money["Value"]))

    return {
        "vendors": len(vendors),
        "vendors_on_hold": sum(1 for v in vendors if v["IsOnHold"]),
        "vendors_active": sum(1 for v in vendors if v["Status"] != "Inactive" and not v["IsOnHold"]),
        "invoices": len(invoices),
        "approved_unpaid_invoices": sum(
            1
            for i in invoices
            if i["TransactionState"] == "Open"
            and not i["IsVoided"]
            and not i["IsOnHold"]
            and i["DocumentType"] == "Invoice"
            and (value(i["DocumentAmount"]) <= 0 or value(i["CurrentTransactionAmount"]) > 0)
        ),
        "partly_paid_vouchers": sum(
            1
            for i in invoices
            if i["TransactionState"] == "Open"
            and 0 < value(i["CurrentTransactionAmount"]) < value(i["DocumentAmount"])
        ),
        "gl_accounts": len(rows["GLAccounts"]),
        "gl_accounts_allowing_entry": sum(
            1 for a in rows["GLAccounts"] if a["IsActive"] and a["AllowAccountEntry"]
        ),
        "checkbooks_active": sum(1 for c in rows["Checkbooks"] if not c["IsInactive"]),
    }


@pytest.fixture
def demo(wired, gp_sandbox, bill_sandbox_factory):
    """The wired tenant against the demo seeds of both sandboxes."""
    from tests.fixtures_bill import wire_bill_connection

    gp_sandbox.reset("demo")
    bill = bill_sandbox_factory(seed="demo")
    wire_bill_connection(wired, bill)
    wired.refresh_from_db()
    gp_sandbox.reset_stats()
    bill.reset_stats()
    return wired, gp_sandbox, bill


def test_fit_check_json_counts_what_the_demo_sandboxes_hold_and_writes_nothing(demo, capsys, tmp_path):
    tenant, gp_sandbox, bill = demo
    call_command("fit_check", tenant=tenant.slug, json=True, csv=str(tmp_path / "problems.csv"))
    report = json.loads(capsys.readouterr().out)

    assert _writes(gp_sandbox) == [] and _writes(bill) == []
    assert (
        not SyncRecord.objects.exists()
        and not VendorMapping.objects.exists()
        and not GLAccountMapping.objects.exists()
    )

    truth = _gp_truth(gp_sandbox)
    assert {k: report["gp"]["counts"][k] for k in truth} == truth
    assert report["gp"]["interface"]["sba"] == "answers"
    assert report["gp"]["modified_date"] == "date and time"
    assert report["gp"]["resources"]["missing"] == []
    assert report["gp"]["companies"]["visible"][0] == gp_sandbox.company
    assert report["gp"]["payments_write_back"]["possible"] is True
    assert report["gp"]["credits"]["possible"] is True  # the help page offers Purchasing/PayablesApplies
    store = bill.store
    assert report["bill"]["vendors"] == sum(1 for v in store.vendors.values() if not v["archived"])
    assert report["bill"]["funding_accounts"] == sum(
        1 for b in store.bank_accounts.values() if not b.get("archived")
    )
    assert report["bill"]["org"]["organization_id"] == bill.credentials.org_id
    assert (
        report["bill"]["webhooks"]["allowed"]
        and "payment.updated" in report["bill"]["webhooks"]["payment_events"]
    )
    assert report["bill"]["calls"]["left_this_hour"] <= report["bill"]["calls"]["hourly_budget"]
    plan = report["plan"]
    assert (
        plan["bills_to_create"] + plan["bills_parked"] + plan["bills_held_vendor"]
        == truth["approved_unpaid_invoices"]
    )
    assert 0 <= plan["bills_ready"] <= plan["bills_to_create"]
    assert plan["bill_calls"]["total"] > 0 and plan["first_load_seconds"] >= 1
    assert report["proposed_overrides"] == {}
    rows = list(csv.DictReader(io.StringIO((tmp_path / "problems.csv").read_text())))
    assert len(rows) == len(report["problems"])


def test_a_server_that_differs_is_named_with_the_overrides_that_make_it_fit(wired, gp_sandbox, bill_sandbox):
    gp_sandbox.set_variant(lists="bare", vendor_status="IsActive", stamps="day")
    report = run_fit_check(wired)
    assert report["fits"] is False
    assert report["proposed_overrides"] == {
        "envelope": "",
        "record_envelope": "",
        "vendor_status_field": "IsActive",
        "modified_precision": "day",
    }
    said = " ".join(p["problem"] for p in report["problems"])
    assert "a JSON array" in said and "IsActive" in said and "date only" in said
    # read with the proposed map, the counts are still right
    assert report["gp"]["counts"]["vendors_inactive"] == 1
    assert _writes(gp_sandbox) == [] and _writes(bill_sandbox) == []


def test_the_proposal_confirmed_makes_the_next_check_fit(wired, gp_sandbox, bill_sandbox):
    from connectors.overrides import confirm, propose

    gp_sandbox.set_variant(vendor_status="IsActive")
    first = run_fit_check(wired)
    confirm(propose(wired.gp_connection, first["proposed_overrides"], "fit check"), None)
    wired.gp_connection.refresh_from_db()
    second = run_fit_check(wired)
    assert second["proposed_overrides"] == {}
    assert not [p for p in second["problems"] if p["subject"] == "Purchasing/Vendors"]

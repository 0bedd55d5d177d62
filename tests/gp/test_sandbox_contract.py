"""The sandbox serves docs/gp_sba.md Part B: paths, envelope, list queries, error shape; and its control
API."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests
from requests_ntlm import HttpNtlmAuth

from sandbox.gp.control import GPSandboxControl
from sandbox.gp.server import start_gp_sandbox


@pytest.fixture
def gp(gp_sandbox):
    session = requests.Session()
    session.auth = HttpNtlmAuth(gp_sandbox.account, gp_sandbox.password)

    def call(method, path, **kw):
        return session.request(method, gp_sandbox.company_url() + path, timeout=5, **kw)

    return call


def test_a_list_has_payload_and_paging(gp):
    body = gp("GET", "Purchasing/Vendors", params={"$top": 3, "$skip": 1}).json()
    assert set(body) == {"Payload", "Paging"} and body["Paging"] == {"Top": 3, "Skip": 1, "Total": 8}
    assert [v["Key"]["Id"] for v in body["Payload"]] == ["ADVANCED0001", "AMERICAN0001", "ASSOCIAT0001"]


def test_one_object_has_a_payload_and_json_suffix_is_ignored(gp):
    assert gp("GET", "Purchasing/Vendors(CONTOSO0001).json").json()["Payload"]["Name"] == "Contoso, Ltd."


def test_money_is_value_currency_and_digits(gp):
    inv = gp("GET", "Purchasing/PayablesInvoices(00000000000000302)").json()["Payload"]
    assert inv["DocumentAmount"] == {"Value": 1080.0, "Currency": "USD", "DecimalDigits": 2}


def test_filters_combine_modified_date_state_and_vendor(gp):
    body = gp(
        "GET",
        "Purchasing/PayablesInvoices",
        params={
            "$filter": (
                "ModifiedDate ge 2025-06-02T08:41:00Z and TransactionState eq 'Open' "
                "and VendorId eq 'contoso0001'"
            ),
            "$orderby": "ModifiedDate,Key",
        },
    ).json()
    assert [i["Key"]["Id"] for i in body["Payload"]] == ["00000000000000305", "00000000000000306"]


def test_top_is_capped_at_1000(gp):
    assert gp("GET", "Financials/GLAccounts", params={"$top": 5000}).json()["Paging"]["Top"] == 1000


@pytest.mark.parametrize(
    "method, path, params, status, code",
    [
        ("GET", "Purchasing/Vendors(NOPE)", None, 404, "NotFound"),
        ("GET", "Purchasing/Widgets", None, 404, "ResourceNotFound"),
        ("GET", "Purchasing/Vendors", {"$filter": "Name like 'A%'"}, 400, "InvalidFilter"),
        ("GET", "Purchasing/Vendors", {"$orderby": "Name"}, 400, "InvalidOrderBy"),
        ("DELETE", "Purchasing/Vendors(ACETRAVE0001)", None, 405, "MethodNotAllowed"),
        ("POST", "PostingServices/System/Batches(PM_Payment;X)", None, 400, "InvalidAction"),
    ],
)
def test_errors_have_gps_shape(gp, method, path, params, status, code):
    response = gp(method, path, params=params, json={} if method == "DELETE" else None)
    assert response.status_code == status
    error = response.json()["Error"]
    assert error["Code"] == code and error["Message"] and len(error["LogId"]) == 36


def test_vendor_ids_are_upper_case_and_at_most_15_characters(gp):
    created = gp("POST", "Purchasing/Vendors", json={"Key": {"Id": "newvend0001"}, "Name": "New"}).json()
    assert created["Payload"]["Key"]["Id"] == "NEWVEND0001"
    too_long = gp("POST", "Purchasing/Vendors", json={"Key": {"Id": "X" * 16}, "Name": "New"})
    assert too_long.status_code == 400
    assert (
        gp("POST", "Purchasing/Vendors", json={"Key": {"Id": "NEWVEND0001"}, "Name": "Again"}).status_code
        == 409
    )


def test_the_control_api_changes_data_and_reports_stats(gp_sandbox, gp):
    control = GPSandboxControl(gp_sandbox.url)
    control.update_vendor("CONTOSO0001", IsOnHold=True)
    inserted = control.insert_invoice({"VendorKey": "CONTOSO0001", "PurchasesAmount": "42.10"})
    control.void_invoice("00000000000000305")
    control.post_invoice("00000000000000403")
    control.set_faults("5xx", count=1)
    assert gp("GET", "Purchasing/Vendors(CONTOSO0001)").status_code == 503
    assert gp("GET", "Purchasing/Vendors(CONTOSO0001)").json()["Payload"]["IsOnHold"] is True
    invoice = gp("GET", f"Purchasing/PayablesInvoices({inserted['Key']['Id']})").json()["Payload"]
    assert (invoice["TransactionState"], invoice["DocumentAmount"]["Value"]) == ("Open", 42.1)
    voided = gp("GET", "Purchasing/PayablesInvoices(00000000000000305)").json()["Payload"]
    assert (voided["IsVoided"], voided["CurrentTransactionAmount"]["Value"]) == (True, 0)
    stats = control.stats()
    assert stats["requests"]["by_path"]["GET Purchasing/Vendors({key})"]["503"] == 1
    assert stats["applied_payments"] == []


def test_seeds_are_deterministic_and_sized():
    from sandbox.gp.company import GPCompany

    one, two = GPCompany("A", "demo"), GPCompany("A", "demo")
    assert one.tables["PayablesInvoices"].query(None, None, (), 0, 1000) == two.tables[
        "PayablesInvoices"
    ].query(None, None, (), 0, 1000)
    assert (len(one.tables["Vendors"]), len(one.tables["PayablesInvoices"])) == (50, 300)
    started = time.monotonic()
    bench = GPCompany("B", "bench")
    assert time.monotonic() - started < 3 and bench.get("PayablesInvoices", "00000000000050000")["Key"]["Id"]


def test_it_stops_quickly_with_idle_keep_alive_connections():
    sandbox = start_gp_sandbox()
    session = requests.Session()
    session.auth = HttpNtlmAuth(sandbox.account, sandbox.password)
    session.get(sandbox.company_url() + "Financials/Checkbooks", timeout=5)
    started = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - started < 1


def test_the_cli_prints_its_credentials():
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.gp", "--port", "0", "--seed", "small"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
    finally:
        proc.terminate()
        proc.wait(5)
    assert "CORP\\svc-gp" in lines[2] and "gp-sandbox" in lines[2] and "Fabrikam, Inc." in lines[1]

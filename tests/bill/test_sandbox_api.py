"""The BILL sandbox behaves like BILL over real HTTP (raw requests, no client in between)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import requests


def login(sandbox) -> dict[str, str]:
    """Sign in with raw HTTP; the devKey + sessionId headers for later calls."""
    c = sandbox.credentials
    body = {"username": c.username, "password": c.password, "organizationId": c.org_id, "devKey": c.dev_key}
    answer = requests.post(f"{sandbox.api_url}/v3/login", json=body)
    assert answer.status_code == 200
    return {"devKey": c.dev_key, "sessionId": answer.json()["sessionId"]}


@pytest.fixture
def api(bill_sandbox):
    """A logged-in raw session: (sandbox, headers)."""
    return bill_sandbox, login(bill_sandbox)


def _codes(answer: requests.Response) -> list[str]:
    return [e["code"] for e in answer.json()]


def test_it_refuses_bad_credentials_and_a_bad_dev_key_with_bills_codes(bill_sandbox):
    c = bill_sandbox.credentials
    body = {"username": c.username, "password": "nope", "organizationId": c.org_id, "devKey": c.dev_key}
    wrong_password = requests.post(f"{bill_sandbox.api_url}/v3/login", json=body)
    wrong_key = requests.post(
        f"{bill_sandbox.api_url}/v3/login", json={**body, "password": c.password, "devKey": "x"}
    )
    assert (wrong_password.status_code, _codes(wrong_password)) == (400, ["BDC_1101"])
    assert (wrong_key.status_code, _codes(wrong_key)) == (400, ["BDC_1102"])
    assert set(wrong_key.json()[0]) >= {"timestamp", "code", "severity", "category", "message"}


def test_it_expires_an_idle_session_with_401_bdc_1109(bill_sandbox_factory):
    sandbox = bill_sandbox_factory(session_ttl=0.3)
    headers = login(sandbox)
    assert requests.get(f"{sandbox.api_url}/v3/login/session", headers=headers).status_code == 200
    time.sleep(0.4)
    expired = requests.get(f"{sandbox.api_url}/v3/vendors", headers=headers)
    assert expired.status_code == 401
    assert expired.json()[0]["message"] == "Session is invalid.  Please log in."


def test_logout_ends_the_session(api):
    sandbox, headers = api
    assert requests.post(f"{sandbox.api_url}/v3/logout", headers=headers).content == b""
    assert _codes(requests.get(f"{sandbox.api_url}/v3/login/session", headers=headers)) == ["BDC_1109"]


def test_it_pages_vendors_with_next_page_and_rejects_max_out_of_range(api):
    sandbox, headers = api
    first = requests.get(f"{sandbox.api_url}/v3/vendors", headers=headers, params={"max": 2}).json()
    second = requests.get(
        f"{sandbox.api_url}/v3/vendors", headers=headers, params={"max": 2, "page": first["nextPage"]}
    ).json()
    assert len(first["results"]) == 2 and "nextPage" not in second and "prevPage" in second
    assert {v["id"] for v in first["results"]}.isdisjoint(v["id"] for v in second["results"])
    for bad in (0, 101):
        assert (
            requests.get(f"{sandbox.api_url}/v3/vendors", headers=headers, params={"max": bad}).status_code
            == 400
        )


def test_it_filters_and_sorts_vendors(api):
    sandbox, headers = api
    url = f"{sandbox.api_url}/v3/vendors"
    names = lambda **p: [v["name"] for v in requests.get(url, headers=headers, params=p).json()["results"]]  # noqa: E731
    assert names(filters='name:sw:"con"') == ["Contoso Ltd."]
    assert names(filters='name:in:"Contoso Ltd.,Northwind Traders"', sort="name:desc") == [
        "Northwind Traders",
        "Contoso Ltd.",
    ]
    assert (
        names(filters="archived:eq:false,name:ne:Contoso Ltd.", sort="name:asc")[0]
        == "Advanced Office Systems"
    )
    assert names(filters="accountType:eq:BUSINESS,name:eq:Contoso Ltd.") == ["Contoso Ltd."]
    assert names(filters='createdTime:gt:"2000-01-01T00:00:00.000Z",name:sw:"North"') == ["Northwind Traders"]
    assert requests.get(url, headers=headers, params={"filters": "taxId:eq:1"}).status_code == 400


def test_it_reads_filters_as_strictly_as_bills_guide_writes_them(api):
    """Quotes where BILL's guide has them (dates, in/nin, sw) and nowhere else: anything else is a 400
    naming the fix, not a filter that silently matches nothing."""
    sandbox, headers = api
    url = f"{sandbox.api_url}/v3/vendors"
    for wrong in (
        'name:eq:"Contoso Ltd."',
        'accountType:eq:"BUSINESS"',
        "name:sw:Con",
        "name:in:Contoso Ltd.",
        "createdTime:gt:2000-01-01T00:00:00.000Z",
        'name:eq:Bad"Quote',
    ):
        answer = requests.get(url, headers=headers, params={"filters": wrong})
        assert answer.status_code == 400, wrong
        assert "filters" in answer.json()[0]["message"], wrong


def test_bulk_vendors_are_all_or_nothing_and_limited_to_twenty(api):
    sandbox, headers = api
    url = f"{sandbox.api_url}/v3/vendors/bulk"
    before = len(sandbox.store.vendors)
    assert requests.post(url, headers=headers, json=[{"name": "A"}, {"name": ""}]).status_code == 400
    assert requests.post(url, headers=headers, json=[{"name": f"V{i}"} for i in range(21)]).status_code == 400
    assert len(sandbox.store.vendors) == before
    made = requests.post(url, headers=headers, json=[{"name": "A"}, {"name": "B"}])
    assert made.status_code == 201 and [v["id"][:3] for v in made.json()["vendors"]] == ["009", "009"]


def _bill(vendor_id: str, number: str, *amounts: str) -> dict:
    return {
        "vendorId": vendor_id,
        "dueDate": "2026-01-31",
        "invoice": {"invoiceNumber": number, "invoiceDate": "2026-01-01"},
        "billLineItems": [{"amount": Decimal(a), "description": f"line {a}"} for a in amounts],
    }


def test_bills_bulk_create_returns_a_plain_array_and_allows_duplicate_invoice_numbers(api):
    sandbox, headers = api
    vendors = list(sandbox.store.vendors)
    payload = [_bill(vendors[0], "INV-1", "149", "79.99"), _bill(vendors[1], "INV-1", "10")]
    import json

    made = requests.post(
        f"{sandbox.api_url}/v3/bills/bulk", headers=headers, data=json.dumps(payload, default=str)
    )
    assert made.status_code == 201 and isinstance(made.json(), list)
    assert sorted(b["amount"] for b in made.json()) == [10, 228.99]
    assert all(b["id"].startswith("00n") for b in made.json())
    again = requests.post(
        f"{sandbox.api_url}/v3/bills", headers=headers, data=json.dumps(payload[0], default=str)
    )
    assert again.status_code == 201


def test_it_refuses_a_duplicate_invoice_number_with_bdc_1171_when_asked(bill_sandbox_factory):
    sandbox = bill_sandbox_factory(duplicate_invoice_check=True)
    vendor = next(iter(sandbox.store.vendors))
    sandbox.store.create_bills([_bill(vendor, "DUP-1", "5")], limit=1)
    with pytest.raises(Exception) as refused:
        sandbox.store.create_bills([_bill(vendor, "DUP-1", "6")], limit=1)
    assert (refused.value.status, refused.value.code) == (422, "BDC_1171")


def test_put_replaces_line_items_and_patch_keeps_their_ids(bill_sandbox):
    store = bill_sandbox.store
    bill = store.create_bills([_bill(next(iter(store.vendors)), "P-1", "10", "20")], limit=1)[0]
    first, second = bill["billLineItems"]
    patched = store.update_bill(
        bill["id"], {"billLineItems": [{"id": first["id"], "amount": Decimal("11")}]}, replace=False
    )
    assert [i["id"] for i in patched["billLineItems"]] == [first["id"], second["id"]] and patched[
        "amount"
    ] == Decimal("31.00")
    put = store.update_bill(
        bill["id"],
        {
            **_bill(bill["vendorId"], "P-1", "5"),
            "billLineItems": [{"id": first["id"], "amount": 7}, {"amount": 3}],
        },
        replace=True,
    )
    assert len(put["billLineItems"]) == 2 and put["billLineItems"][0]["id"] == first["id"]
    assert second["id"] not in [i["id"] for i in put["billLineItems"]] and put["amount"] == Decimal("10.00")


def test_paying_voiding_and_partial_payments_move_the_bills_payment_status(bill_sandbox):
    store = bill_sandbox.store
    vendor = next(iter(store.vendors))
    a, b = store.create_bills([_bill(vendor, "A", "100"), _bill(vendor, "B", "50")], limit=100)
    payment = bill_sandbox.pay_bills(
        [{"billId": a["id"], "amount": "40"}, {"billId": b["id"]}], status="SCHEDULED"
    )
    assert payment["id"].startswith("stp") and payment["amount"] == Decimal("90.00")
    assert store.bills[a["id"]]["paymentStatus"] == "SCHEDULED"
    bill_sandbox.set_payment_status(payment["id"], "PAID")
    assert (store.bills[a["id"]]["paymentStatus"], store.bills[b["id"]]["paymentStatus"]) == (
        "PARTIAL",
        "PAID",
    )
    assert store.bills[a["id"]]["dueAmount"] == Decimal("60.00")
    bill_sandbox.void_payment(payment["id"])
    assert store.payments[payment["id"]]["status"] == "VOID"
    assert (store.bills[a["id"]]["paymentStatus"], store.bills[b["id"]]["paymentStatus"]) == (
        "UNPAID",
        "UNPAID",
    )


def test_a_fourth_call_in_flight_gets_bdc_1322_with_the_configured_status(api):
    sandbox, headers = api
    sandbox.configure(rate_limit_status=422)
    sandbox.hold_slots(3, seconds=0.5)
    busy = requests.get(f"{sandbox.api_url}/v3/vendors", headers=headers)
    assert (busy.status_code, _codes(busy)) == (422, ["BDC_1322"])
    assert sandbox.stats()["max_in_flight"][sandbox.credentials.org_id] == 4


def test_the_hourly_budget_answers_bdc_1144(api):
    sandbox, headers = api
    sandbox.configure(hourly_budget=2)
    statuses = [requests.get(f"{sandbox.api_url}/v3/vendors", headers=headers).status_code for _ in range(3)]
    refused = requests.get(f"{sandbox.api_url}/v3/vendors", headers=headers)
    assert statuses[-1] == 429 and _codes(refused) == ["BDC_1144"]
    assert "requests per hour reached: 2." in refused.json()[0]["message"]


def test_the_control_api_reports_stats_and_injects_faults_over_http(api):
    sandbox, headers = api
    requests.post(f"{sandbox.control_url}/faults", json={"kind": "5xx", "count": 1, "status": 503})
    assert requests.get(f"{sandbox.api_url}/v3/vendors", headers=headers).status_code == 503
    assert requests.get(f"{sandbox.api_url}/v3/vendors", headers=headers).status_code == 200
    stats = requests.get(f"{sandbox.control_url}/stats").json()
    assert stats["requests"]["by_path"]["GET /connect/v3/vendors"] == {"503": 1, "200": 1}
    assert stats["logins"] == 1
    assert requests.post(f"{sandbox.control_url}/sessions/expire").json() == {"expired": 1}


def test_unknown_paths_answer_bdc_1121(api):
    sandbox, headers = api
    missing = requests.get(f"{sandbox.api_url}/v3/nothing-here", headers=headers)
    assert (missing.status_code, _codes(missing)) == (404, ["BDC_1121"])


def test_bulk_creates_can_be_answered_in_another_order_than_asked(bill_sandbox_factory):
    """BILL documents no order for a bulk answer; the sandbox can shuffle it (the suite runs so)."""
    import json

    for shuffled in (False, True):
        sandbox = bill_sandbox_factory(shuffle_bulk_answers=shuffled)
        headers = login(sandbox)
        names = [f"Order Test {n}" for n in range(6)]
        made = requests.post(
            f"{sandbox.api_url}/v3/vendors/bulk",
            headers=headers,
            data=json.dumps([{"name": n} for n in names]),
        )
        answered = [v["name"] for v in made.json()["vendors"]]
        assert sorted(answered) == names
        assert (answered != names) == shuffled
        vendor = next(iter(sandbox.store.vendors))
        bills = requests.post(
            f"{sandbox.api_url}/v3/bills/bulk",
            headers=headers,
            data=json.dumps([_bill(vendor, f"ORD-{n}", "1") for n in range(6)], default=str),
        ).json()
        numbers = [b["invoice"]["invoiceNumber"] for b in bills]
        assert (numbers != [f"ORD-{n}" for n in range(6)]) == shuffled


def test_a_create_that_commits_late_is_unanswered_and_appears_later(bill_sandbox):
    """The `commit_late` fault: the client hears nothing; the vendor is absent at first, then appears."""
    import json
    import time

    headers = login(bill_sandbox)
    bill_sandbox.add_fault(
        "commit_late", methods=["POST"], path_contains="/v3/vendors", hold_seconds=0.2, delay_seconds=1.0
    )
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{bill_sandbox.api_url}/v3/vendors",
            headers=headers,
            data=json.dumps({"name": "Late Co"}),
            timeout=5,
        )
    url = f"{bill_sandbox.api_url}/v3/vendors"
    assert requests.get(url, headers=headers, params={"filters": "name:eq:Late Co"}).json()["results"] == []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = requests.get(url, headers=headers, params={"filters": "name:eq:Late Co"}).json()["results"]
        if found:
            break
        time.sleep(0.1)
    assert [v["name"] for v in found] == ["Late Co"]

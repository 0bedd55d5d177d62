"""The BILL sandbox's money endpoints behave as BILL documents them, over real HTTP: recording a payment
made outside BILL, `singleStatus` moving on its own, `payment.updated` / `payment.failed` payloads, and
funding accounts filtered by `bankAccountId`."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests

from tests.bill.test_sandbox_api import login
from tests.bill.test_webhook_signature import Receiver


@pytest.fixture
def api(bill_sandbox):
    return bill_sandbox, login(bill_sandbox)


def _bill(sandbox, amount: str = "999.99") -> dict:
    vendor = next(iter(sandbox.store.vendors))
    body = {
        "vendorId": vendor,
        "dueDate": "2026-12-31",
        "invoice": {"invoiceNumber": "CT-1", "invoiceDate": "2026-12-01"},
        "billLineItems": [{"amount": Decimal(amount), "description": "Consulting"}],
    }
    return sandbox.store.create_bills([body], limit=1)[0]


def _record(sandbox, headers, body) -> requests.Response:
    return requests.post(
        f"{sandbox.api_url}/v3/bills/record-payment",
        headers=headers,
        data=json.dumps(body, default=str),
        timeout=10,
    )


def test_recording_a_payment_made_outside_bill_lowers_the_bills_due_amount(api):
    sandbox, headers = api
    bill = _bill(sandbox)
    answer = _record(
        sandbox,
        headers,
        {
            "vendorId": bill["vendorId"],
            "processDate": "2026-12-20",
            "toPrintCheck": False,
            "payments": [{"billId": bill["id"], "amount": 500}],
            "description": "check 1001",
        },
    )
    assert answer.status_code == 200, answer.text
    payment = answer.json()
    assert payment["id"].startswith("stp") and payment["onlinePayment"] is False
    assert payment["billPayments"][0]["billId"] == bill["id"] and payment["amount"] == 500
    after = requests.get(f"{sandbox.api_url}/v3/bills/{bill['id']}", headers=headers, timeout=10).json()
    assert (after["amount"], after["paidAmount"], after["dueAmount"], after["paymentStatus"]) == (
        999.99,
        500,
        499.99,
        "PARTIAL",
    )
    # Lines stay what they were: recording is not editing the bill.
    assert [i["amount"] for i in after["billLineItems"]] == [999.99]


def test_recording_more_than_is_due_or_without_required_fields_is_refused(api):
    sandbox, headers = api
    bill = _bill(sandbox, "100.00")
    base = {"vendorId": bill["vendorId"], "processDate": "2026-12-20", "toPrintCheck": False}
    too_much = _record(sandbox, headers, {**base, "payments": [{"billId": bill["id"], "amount": 100.01}]})
    no_flag = _record(
        sandbox,
        headers,
        {
            "vendorId": bill["vendorId"],
            "processDate": "2026-12-20",
            "payments": [{"billId": bill["id"], "amount": 1}],
        },
    )
    no_lines = _record(sandbox, headers, {**base, "payments": []})
    assert too_much.status_code == 400 and "still open" in too_much.json()[0]["message"]
    assert no_flag.status_code == 400 and "toPrintCheck" in no_flag.json()[0]["message"]
    assert no_lines.status_code == 400
    assert sandbox.store.bills[bill["id"]]["dueAmount"] == Decimal("100.00")


def test_single_status_moves_on_its_own_while_status_still_says_paid(api):
    sandbox, headers = api
    bill = _bill(sandbox, "250.00")
    payment = sandbox.pay_bills([{"billId": bill["id"]}])
    moved = requests.post(
        f"{sandbox.control_url}/payments/{payment['id']}/single-status",
        json={"singleStatus": "DISBURSEMENT_FAILED_ACTION_NEEDED"},
        timeout=10,
    )
    assert moved.status_code == 200, moved.text
    read = requests.get(f"{sandbox.api_url}/v3/payments/{payment['id']}", headers=headers, timeout=10).json()
    assert (read["status"], read["singleStatus"], read["disbursementStatus"]) == (
        "PAID",
        "DISBURSEMENT_FAILED_ACTION_NEEDED",
        "FAILED",
    )
    assert sandbox.store.bills[bill["id"]]["paymentStatus"] == "PAID"  # BILL still counts it paid
    sandbox.set_single_status(payment["id"], "VOIDED")
    read = requests.get(f"{sandbox.api_url}/v3/payments/{payment['id']}", headers=headers, timeout=10).json()
    assert (read["status"], read["singleStatus"]) == ("VOID", "VOIDED")
    assert sandbox.store.bills[bill["id"]]["dueAmount"] == Decimal("250.00")


def test_cancel_is_refused_once_single_status_left_scheduled(api):
    sandbox, headers = api
    bill = _bill(sandbox, "80.00")
    payment = sandbox.pay_bills([{"billId": bill["id"]}], status="SCHEDULED")
    sandbox.set_single_status(payment["id"], "FUNDING_STARTED")
    refused = requests.post(
        f"{sandbox.api_url}/v3/payments/{payment['id']}/cancel", headers=headers, timeout=10
    )
    assert refused.status_code == 400 and "cannot be cancelled" in refused.json()[0]["message"]
    assert sandbox.store.payments[payment["id"]]["status"] == "SCHEDULED"


def test_funding_accounts_are_filtered_by_bank_account_id(api, bill_client):
    sandbox, headers = api
    _, second = list(sandbox.store.bank_accounts)
    answer = requests.get(
        f"{sandbox.api_url}/v3/funding-accounts/banks",
        headers=headers,
        timeout=10,
        params={"filters": f"bankAccountId:eq:{second}"},
    )
    assert answer.status_code == 200, answer.text
    assert [a["id"] for a in answer.json()["results"]] == [second]
    assert "bankAccountId" not in answer.json()["results"][0]  # a filter name, not a field of the account


def test_payment_webhooks_carry_bills_documented_payloads(bill_client, bill_sandbox):
    receiver = Receiver()
    try:
        bill_client.create_subscription("GP sync", receiver.url, ["payment.updated", "payment.failed"])
        bill = _bill(bill_sandbox, "75.00")
        payment = bill_sandbox.pay_bills([{"billId": bill["id"]}], status="SCHEDULED")
        bill_sandbox.configure(trusted_sessions=True)
        refused = bill_client.http.session.post(
            f"{bill_sandbox.api_url}/v3/payments",
            timeout=10,
            headers={"devKey": bill_sandbox.credentials.dev_key, "sessionId": bill_client.sessions.current()},
            json={
                "vendorId": bill["vendorId"],
                "billId": bill["id"],
                "amount": 500,
                "transactionNumber": "ERP-77",
                "fundingAccount": {
                    "type": "BANK_ACCOUNT",
                    "id": next(iter(bill_sandbox.store.bank_accounts)),
                },
            },
        )
        assert refused.status_code == 400
        assert bill_sandbox.wait_for_webhooks()
    finally:
        receiver.close()
    events = [json.loads(body) for body, _ in receiver.received]
    updated = next(e for e in events if e["metadata"]["eventType"] == "payment.updated")
    failed = next(e for e in events if e["metadata"]["eventType"] == "payment.failed")
    assert updated["payment"]["id"] == payment["id"] and updated["payment"]["billIds"] == [bill["id"]]
    assert (
        updated["payment"]["status"] == "SCHEDULED"
        and updated["payment"]["funding"]["type"] == "BANK_ACCOUNT"
    )
    assert set(updated["payment"]) >= {
        "vendor",
        "processDate",
        "transactionNumber",
        "disbursement",
        "billingType",
    }
    assert "billPayments" not in updated["payment"]  # the webhook is not the REST object
    assert failed["payment"]["transactionNumber"] == "ERP-77" and failed["payment"]["billIds"] == [bill["id"]]
    assert "id" not in failed["payment"]  # nothing was created
    assert failed["errors"] and "still open" in failed["errors"][0]["message"]

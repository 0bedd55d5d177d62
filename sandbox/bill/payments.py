"""Payments: what BILL does when someone pays bills in its UI, driven by the sandbox control API.

One payment covers one vendor's bills, each with its own (possibly partial) amount. Status moves
SCHEDULED → PAID, or SCHEDULED → CANCELLED, or PAID → VOID, or → FAILED; every move updates the
bills' paidAmount/scheduledAmount/paymentStatus and emits `payment.updated` (or `payment.failed`)
plus `bill.updated` for each bill.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .store import ZERO, Store
from .wire import ApiError, bad_request, money

SINGLE_STATUS = {
    "SCHEDULED": "SCHEDULED",
    "PAID": "CLEARED",
    "VOID": "VOIDED",
    "CANCELLED": "CANCELED",
    "FAILED": "FUNDING_FAILED_ACTION_NEEDED",
}
ALLOWED_MOVES = {
    "SCHEDULED": {"PAID", "CANCELLED", "FAILED"},
    "PAID": {"VOID"},
    "FAILED": set(),
    "VOID": set(),
    "CANCELLED": set(),
}


class Payments:
    """Create payments against bills and move them through their statuses."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def pay(
        self,
        bills: list[dict[str, Any]],
        status: str = "PAID",
        process_date: str | None = None,
        funding_account_id: str | None = None,
        transaction_number: str | None = None,
        disbursement_type: str = "ACH",
    ) -> dict[str, Any]:
        """Pay `bills` ([{billId, amount?}]; amount defaults to what is still due) in one payment."""
        store = self.store
        if not bills:
            raise bad_request("bills: at least one bill is needed")
        with store.lock:
            lines, vendor_ids = [], set()
            for n, item in enumerate(bills):
                bill = store._get(store.bills, item.get("billId", ""), "Bill")
                open_amount = bill["dueAmount"] - bill["scheduledAmount"]
                amount = (
                    money(item["amount"], f"bills[{n}].amount")
                    if item.get("amount") is not None
                    else open_amount
                )
                if amount <= 0 or amount > open_amount:
                    raise bad_request(
                        f"bills[{n}].amount: {amount} is more than the {open_amount} still open"
                    )
                vendor_ids.add(bill["vendorId"])
                lines.append(
                    {"id": store.ids.new("0bp"), "billId": bill["id"], "amount": amount, "vendorCredits": []}
                )
            if len(vendor_ids) != 1:
                raise bad_request("bills: one payment pays the bills of one vendor")
            vendor = store.vendors[vendor_ids.pop()]
            funding = funding_account_id or next(iter(store.bank_accounts), None)
            payment = {
                "id": store.ids.new("stp"),
                "vendorId": vendor["id"],
                "vendorName": vendor["name"],
                "billId": lines[0]["billId"] if len(lines) == 1 else None,
                "billPayments": lines,
                "amount": sum((x["amount"] for x in lines), ZERO),
                "description": "",
                "processDate": process_date or (date.today() + timedelta(days=1)).isoformat(),
                "fundingAccount": {"type": "BANK_ACCOUNT", "id": funding},
                "transactionNumber": transaction_number or f"T{store.ids.new('')[2:12].upper()}",
                "confirmationNumber": f"P{store.ids.new('')[2:14].upper()}",
                "disbursementType": disbursement_type,
                "onlinePayment": True,
                "status": "SCHEDULED",
                "singleStatus": "SCHEDULED",
                "disbursementStatus": "IN_PROGRESS",
                "voidInfo": [],
                "createdBy": "00602SANDBOXUSER0001",
            }
            payment["fundingAmount"] = payment["amount"]
            store.payments[payment["id"]] = store._stamp_new(payment)
            self._apply(payment, scheduled=+1, paid=0)
            self._announce(payment, "payment.updated")
            if status != "SCHEDULED":
                return self.move(payment["id"], status)
            return copy.deepcopy(payment)

    def move(self, payment_id: str, status: str, reason: str = "") -> dict[str, Any]:
        store = self.store
        status = status.upper()
        with store.lock:
            payment = store._get(store.payments, payment_id, "Payment")
            if status not in ALLOWED_MOVES.get(payment["status"], set()):
                raise ApiError(400, "BDC_1002", f"A {payment['status']} payment cannot become {status}.")
            before = payment["status"]
            if before == "SCHEDULED":
                self._apply(payment, scheduled=-1, paid=+1 if status == "PAID" else 0)
            elif status == "VOID":
                self._apply(payment, scheduled=0, paid=-1)
                payment["voidInfo"].append(
                    {
                        "id": store.ids.new("0vd"),
                        "type": "VOID_AND_CREDIT",
                        "status": "DONE",
                        "reason": reason,
                        "requestedBy": payment["createdBy"],
                    }
                )
            payment["status"] = status
            payment["singleStatus"] = SINGLE_STATUS[status]
            payment["disbursementStatus"] = {"PAID": "DONE", "FAILED": "FAILED"}.get(
                status, payment["disbursementStatus"]
            )
            if status == "CANCELLED":
                payment["cancelRequestSubmitted"] = True
            self._announce(payment, "payment.failed" if status == "FAILED" else "payment.updated")
            return copy.deepcopy(payment)

    def _apply(self, payment: dict[str, Any], scheduled: int, paid: int) -> None:
        """Move each line's amount into or out of the bill's scheduled and paid amounts."""
        for line in payment["billPayments"]:
            bill = self.store.bills[line["billId"]]
            amount: Decimal = line["amount"]
            bill["scheduledAmount"] += scheduled * amount
            bill["paidAmount"] += paid * amount
            self.store._recompute(bill)

    def _announce(self, payment: dict[str, Any], event: str) -> None:
        store = self.store
        store._changed(payment, event, "payment")
        for line in payment["billPayments"]:
            store._changed(store.bills[line["billId"]], "bill.updated", "bill")

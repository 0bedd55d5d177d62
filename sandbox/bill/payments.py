"""Payments: what BILL does when someone pays bills in its UI, driven by the sandbox control API.

One payment covers one vendor's bills, each with its own (possibly partial) amount. `status` moves
SCHEDULED → PAID, or SCHEDULED → CANCELLED, or PAID → VOID, or → FAILED; every move updates the
bills' paidAmount/scheduledAmount/paymentStatus and emits `payment.updated` plus `bill.updated` for
each bill.

`singleStatus` (BILL's unified lifecycle, "Single status payment values") moves on its own: a PAID
payment whose ACH is returned becomes DISBURSEMENT_FAILED_ACTION_NEEDED while `status` still says
PAID and the bill stays paid, until someone voids it (VOIDED / FUNDING_FAILED_VOIDED then move
`status` to VOID and give the amount back to the bill). CANCELED is only possible while the payment
is SCHEDULED, as BILL's cancel endpoint documents.

`payment.failed` is what BILL sends when a *create* fails (POST /v3/payments): there is no payment,
so the payload names the request (vendor, bills, amount, funding account, transactionNumber) and
carries an `errors` array next to it — the shape BILL documents for `autopay.failed`.

`POST /v3/bills/record-payment` records a payment made outside BILL: no money moves
(`onlinePayment` false, disbursementType OFFLINE), the bills' paidAmount rises and dueAmount falls
at once.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .credits import VendorCredits, credit_amounts
from .store import ZERO, Store
from .wire import ApiError, bad_request, money

SINGLE_STATUS = {
    "SCHEDULED": "SCHEDULED",
    "PAID": "CLEARED",
    "VOID": "VOIDED",
    "CANCELLED": "CANCELED",
    "FAILED": "FUNDING_FAILED_ACTION_NEEDED",
}
# singleStatus → (the `status` it needs, the `status` it leaves, disbursementStatus or None to keep).
SINGLE_STATUS_MOVES: dict[str, tuple[frozenset[str], str | None, str | None]] = {
    "FUNDING_STARTED": (frozenset({"SCHEDULED"}), None, "IN_PROGRESS"),
    "PROCESSED": (frozenset({"SCHEDULED"}), None, "IN_PROGRESS"),
    "EXPIRING": (frozenset({"SCHEDULED"}), None, None),
    "SENT": (frozenset({"PAID"}), None, "DONE"),
    "DELIVERED": (frozenset({"PAID"}), None, "DONE"),
    "CLEARED": (frozenset({"PAID"}), None, "DONE"),
    "DISBURSEMENT_ON_HOLD": (frozenset({"SCHEDULED", "PAID"}), None, "HOLD"),
    "DISBURSEMENT_FAILED_ACTION_NEEDED": (frozenset({"PAID"}), None, "FAILED"),
    "DISBURSEMENT_FAILED_VENDOR_BANK_REJECTED": (frozenset({"PAID"}), None, "FAILED"),
    "FUNDING_FAILED_ACTION_NEEDED": (frozenset({"PAID"}), None, None),
    "FUNDS_ESCHEATED": (frozenset({"PAID"}), None, None),
    "VOID_PENDING": (frozenset({"PAID"}), None, None),
    "VOIDED": (frozenset({"PAID"}), "VOID", None),
    "FUNDING_FAILED_VOIDED": (frozenset({"PAID"}), "VOID", None),
    "CANCELED": (frozenset({"SCHEDULED"}), "CANCELLED", None),
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

    def __init__(self, store: Store, credits: VendorCredits | None = None) -> None:
        self.store = store
        self.credits = credits or VendorCredits(store)

    def pay(
        self,
        bills: list[dict[str, Any]],
        status: str = "PAID",
        process_date: str | None = None,
        funding_account_id: str | None = None,
        transaction_number: str | None = None,
        disbursement_type: str = "ACH",
        funding_type: str = "BANK_ACCOUNT",
    ) -> dict[str, Any]:
        """Pay `bills` ([{billId, amount?, vendorCredits?: [{id, amount}]}]) in one payment. `amount` is the
        money part (default: what is still due less the credits used); the credits used lower the bill's due
        at once (its creditAmount) and are given back if the payment is cancelled or voided."""
        store = self.store
        if not bills:
            raise bad_request("bills: at least one bill is needed")
        with store.lock:
            lines, vendor_ids = [], set()
            wanted: list[tuple[str, Decimal]] = []
            for n, item in enumerate(bills):
                bill = store._get(store.bills, item.get("billId", ""), "Bill")
                open_amount = bill["dueAmount"] - bill["scheduledAmount"]
                used = credit_amounts(item, f"bills[{n}]")
                credit = sum((a for _, a in used), ZERO)
                amount = (
                    money(item["amount"], f"bills[{n}].amount")
                    if item.get("amount") is not None
                    else open_amount - credit
                )
                if amount < 0 or amount + credit <= 0 or amount + credit > open_amount:
                    raise bad_request(
                        f"bills[{n}].amount: {amount + credit} is more than the {open_amount} still open"
                    )
                vendor_ids.add(bill["vendorId"])
                wanted.extend(used)
                lines.append(
                    {
                        "id": store.ids.new("0bp"),
                        "billId": bill["id"],
                        "amount": amount,
                        "vendorCredits": [{"id": c, "amount": a} for c, a in used],
                    }
                )
            if len(vendor_ids) != 1:
                raise bad_request("bills: one payment pays the bills of one vendor")
            vendor = store.vendors[vendor_ids.pop()]
            self.credits.take(vendor["id"], wanted, "bills")
            if funding_type not in ("BANK_ACCOUNT", "CARD_ACCOUNT", "WALLET", "AP_CARD"):
                raise bad_request(f"fundingAccount.type: {funding_type!r} is not a funding account type")
            funding = funding_account_id or (
                next(iter(store.bank_accounts), None)
                if funding_type == "BANK_ACCOUNT"
                else None
                if funding_type == "WALLET"
                else "cac02SANDBOXCARD00001"
            )
            payment = {
                "id": store.ids.new("stp"),
                "vendorId": vendor["id"],
                "vendorName": vendor["name"],
                "billId": lines[0]["billId"] if len(lines) == 1 else None,
                "billPayments": lines,
                "amount": sum((x["amount"] for x in lines), ZERO),
                "description": "",
                "processDate": process_date or (date.today() + timedelta(days=1)).isoformat(),
                "fundingAccount": {"type": funding_type, "id": funding},
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
            self._use_credits(payment, +1)
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
            if status == "CANCELLED" and payment["singleStatus"] != "SCHEDULED":
                raise ApiError(
                    400,
                    "BDC_1002",
                    f"A payment whose singleStatus is {payment['singleStatus']} "
                    "cannot be cancelled; void it instead.",
                )
            self._move_status(payment, status, reason)
            self._announce(payment, "payment.updated")
            return copy.deepcopy(payment)

    def _move_status(self, payment: dict[str, Any], status: str, reason: str) -> None:
        """Change `status` and what it does to the bills (the lock is held)."""
        store = self.store
        before = payment["status"]
        if before == "SCHEDULED":
            self._apply(payment, scheduled=-1, paid=+1 if status == "PAID" else 0)
        elif status == "VOID":
            self._apply(payment, scheduled=0, paid=-1)
        if status in ("CANCELLED", "VOID", "FAILED"):
            self._use_credits(payment, -1)  # the credit is the vendor's to use again
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

    def set_single_status(self, payment_id: str, single_status: str, reason: str = "") -> dict[str, Any]:
        """Move `singleStatus` as BILL does after the fact (a returned ACH, an uncashed check…);
        `status` only moves when the new single status says the payment was voided or cancelled."""
        single_status = single_status.upper()
        if single_status not in SINGLE_STATUS_MOVES:
            raise bad_request(
                f"singleStatus: {single_status!r} is not one this sandbox models; use one of "
                + ", ".join(SINGLE_STATUS_MOVES)
            )
        needs, new_status, disbursement = SINGLE_STATUS_MOVES[single_status]
        with self.store.lock:
            payment = self.store._get(self.store.payments, payment_id, "Payment")
            if payment["status"] not in needs:
                raise ApiError(
                    400, "BDC_1002", f"A {payment['status']} payment cannot become {single_status}."
                )
            if single_status == "CANCELED" and payment["singleStatus"] != "SCHEDULED":
                raise ApiError(
                    400, "BDC_1002", "Only a payment whose singleStatus is SCHEDULED can be cancelled."
                )
            if new_status and new_status != payment["status"]:
                self._move_status(payment, new_status, reason)
            payment["singleStatus"] = single_status
            if disbursement:
                payment["disbursementStatus"] = disbursement
            self._announce(payment, "payment.updated")
            return copy.deepcopy(payment)

    def record_outside(self, body: Any) -> dict[str, Any]:
        """POST /v3/bills/record-payment: apply a payment made outside BILL to one vendor's bills."""
        store = self.store
        if not isinstance(body, dict):
            raise bad_request("The request body must be a record payment object.")
        vendor_id = str(body.get("vendorId") or "")
        if not vendor_id:
            raise bad_request("vendorId: must not be blank")
        process_date = body.get("processDate")
        if not process_date:
            raise bad_request("processDate: must not be null")
        try:
            process_date = date.fromisoformat(str(process_date)).isoformat()
        except ValueError:
            raise bad_request("processDate: must be a date (yyyy-MM-dd)") from None
        if not isinstance(body.get("toPrintCheck"), bool):
            raise bad_request("toPrintCheck: must not be null")
        items = body.get("payments")
        if not isinstance(items, list) or not items:
            raise bad_request("payments: must not be empty")
        with store.lock:
            vendor = store._get(store.vendors, vendor_id, "Vendor")
            lines = []
            for n, item in enumerate(items):
                if not isinstance(item, dict) or not item.get("billId"):
                    raise bad_request(f"payments[{n}].billId: must not be blank")
                if item.get("amount") is None:
                    raise bad_request(f"payments[{n}].amount: must not be null")
                bill = store._get(store.bills, str(item["billId"]), "Bill")
                if bill["vendorId"] != vendor_id:
                    raise bad_request(f"payments[{n}].billId: bill {bill['id']} belongs to another vendor")
                if bill["archived"]:
                    raise bad_request(f"payments[{n}].billId: bill {bill['id']} is archived")
                amount = money(item["amount"], f"payments[{n}].amount")
                open_amount = bill["dueAmount"] - bill["scheduledAmount"]
                if amount <= 0 or amount > open_amount:
                    raise bad_request(
                        f"payments[{n}].amount: {amount} is more than the {open_amount} still open"
                    )
                lines.append(
                    {"id": store.ids.new("0bp"), "billId": bill["id"], "amount": amount, "vendorCredits": []}
                )
            payment = {
                "id": store.ids.new("stp"),
                "vendorId": vendor_id,
                "vendorName": vendor["name"],
                "billId": lines[0]["billId"] if len(lines) == 1 else None,
                "billPayments": lines,
                "amount": sum((x["amount"] for x in lines), ZERO),
                "description": str(body.get("description") or ""),
                "processDate": process_date,
                "toPrintCheck": body["toPrintCheck"],
                "transactionNumber": f"T{store.ids.new('')[2:12].upper()}",
                "confirmationNumber": f"P{store.ids.new('')[2:14].upper()}",
                "disbursementType": "OFFLINE",
                "onlinePayment": False,
                "status": "PAID",
                "singleStatus": "CLEARED",
                "disbursementStatus": "DONE",
                "voidInfo": [],
                "createdBy": "00602SANDBOXUSER0001",
            }
            if body.get("paymentReference") is not None:
                payment["paymentReference"] = str(body["paymentReference"])
            payment["fundingAmount"] = payment["amount"]
            store.payments[payment["id"]] = store._stamp_new(payment)
            self._apply(payment, scheduled=0, paid=+1)
            self._announce(payment, "payment.updated")
            return copy.deepcopy(payment)

    def create_failed(self, body: dict[str, Any], error: ApiError) -> None:
        """A refused POST /v3/payments: BILL's `payment.failed` names the request and its errors."""
        vendor = self.store.vendors.get(str(body.get("vendorId") or ""))
        request = {
            "vendor": {"id": body.get("vendorId"), "name": vendor["name"] if vendor else None},
            "billIds": [body["billId"]] if body.get("billId") else [],
            "amount": body.get("amount"),
            "processDate": body.get("processDate"),
            "transactionNumber": body.get("transactionNumber"),
            "fundingAccount": body.get("fundingAccount"),
            "createdBy": "00602SANDBOXUSER0001",
            "updatedTime": self.store.clock.stamp(),
        }
        errors = [
            {"code": item["code"], "message": item["message"], "timestamp": item["timestamp"]}
            for item in error.body()
        ]
        self.store.emit("payment.failed", "payment", {"payment": request, "errors": errors})

    def _apply(self, payment: dict[str, Any], scheduled: int, paid: int) -> None:
        """Move each line's amount into or out of the bill's scheduled and paid amounts."""
        for line in payment["billPayments"]:
            bill = self.store.bills[line["billId"]]
            amount: Decimal = line["amount"]
            bill["scheduledAmount"] += scheduled * amount
            bill["paidAmount"] += paid * amount
            self.store._recompute(bill)

    def _use_credits(self, payment: dict[str, Any], sign: int) -> None:
        """Credits used on the payment's bills: the bills' creditAmount and the credits' appliedAmount."""
        for line in payment["billPayments"]:
            credit = sum((c["amount"] for c in line.get("vendorCredits") or []), ZERO)
            if credit:
                bill = self.store.bills[line["billId"]]
                bill["creditAmount"] = bill.get("creditAmount", ZERO) + sign * credit
                self.store._recompute(bill)
        self.credits.use(payment, sign)

    def _announce(self, payment: dict[str, Any], event: str) -> None:
        store = self.store
        store._changed(payment, event, "payment")
        for line in payment["billPayments"]:
            store._changed(store.bills[line["billId"]], "bill.updated", "bill")

"""The BILL organization's data: vendors, bills, payments, classifications, bank accounts.

Records are kept in BILL's own JSON shape (camelCase, Decimal money), so a GET answers with a copy.
Every change calls `emit(event_type, entity_key, record)`, which the webhook hub turns into deliveries.
One lock guards everything: the sandbox is about behaviour, not throughput.
"""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from .wire import ApiError, Clock, IdMaker, bad_request, money, not_found

ZERO = Decimal("0.00")
Emit = Callable[[str, str, dict[str, Any]], None]

VENDOR_FIELDS = (
    "name shortName accountNumber accountType email phone address paymentInformation additionalInfo "
    "billCurrency"
).split()
BILL_WRITABLE = (
    "vendorId dueDate invoice description payFromChartOfAccountId classifications purchaseOrderNumber".split()
)
CLASSIFICATION_KINDS = {
    "chart-of-accounts": "0ca",
    "departments": "0de",
    "locations": "loc",
    "accounting-classes": "cls",
}
# A bill line's `classifications` field → the list it must name a record of (BILL's v3 bill line).
LINE_CLASSIFICATIONS = {
    "chartOfAccountId": "chart-of-accounts",
    "departmentId": "departments",
    "locationId": "locations",
    "accountingClassId": "accounting-classes",
}


def _date(value: Any, field: str) -> str:
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise bad_request(f"{field}: must be a date (yyyy-MM-dd)") from None


class Store:
    """All records of the one sandbox organization, with BILL's rules for changing them."""

    def __init__(
        self,
        ids: IdMaker,
        emit: Emit,
        duplicate_invoice_check: bool = False,
        patch_merges_nested: bool = False,
        shuffle_bulk_answers: bool = False,
    ) -> None:
        self.ids = ids
        self.clock = Clock()
        self.emit = emit
        self.duplicate_invoice_check = duplicate_invoice_check
        # BILL does not promise to merge a nested object (address, additionalInfo, ...) given in a
        # PATCH; by default the sandbox replaces it whole, the awkward way, so a client that sends
        # part of one is caught wiping the rest. True merges it key by key.
        self.patch_merges_nested = patch_merges_nested
        # BILL documents no order for a bulk create's answer: with this on, it comes back shuffled.
        self.shuffle_bulk_answers = shuffle_bulk_answers
        self._answer_order = random.Random(0)
        self.lock = threading.RLock()
        self.vendors: dict[str, dict[str, Any]] = {}
        self.bills: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.classifications: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in CLASSIFICATION_KINDS}
        self.bank_accounts: dict[str, dict[str, Any]] = {}

    # --- helpers ---------------------------------------------------------------------------------
    def _get(self, table: dict[str, dict[str, Any]], record_id: str, what: str) -> dict[str, Any]:
        record = table.get(record_id)
        if record is None:
            raise not_found(f"{what} {record_id}")
        return record

    def _stamp_new(self, record: dict[str, Any]) -> dict[str, Any]:
        record["createdTime"] = record["updatedTime"] = self.clock.stamp()
        return record

    def _changed(self, record: dict[str, Any], event: str, key: str) -> dict[str, Any]:
        record["updatedTime"] = self.clock.stamp()
        self.emit(event, key, copy.deepcopy(record))
        return copy.deepcopy(record)

    def bulk_answer(self, made: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The order a bulk create's HTTP answer lists its records in: the request's, unless shuffling
        is on (store methods themselves always return request order)."""
        answer = list(made)
        if self.shuffle_bulk_answers and len(answer) > 1:
            with self.lock:
                while answer == made:  # a shuffle that changed nothing would test nothing
                    self._answer_order.shuffle(answer)
        return answer

    # --- vendors ---------------------------------------------------------------------------------
    def _vendor_from(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a vendor object.")
        if not str(body.get("name") or "").strip():
            raise bad_request("name: must not be blank")
        vendor: dict[str, Any] = {"id": self.ids.new("009"), "archived": False}
        vendor.update({k: copy.deepcopy(body[k]) for k in VENDOR_FIELDS if k in body})
        vendor.setdefault("accountType", "BUSINESS")
        vendor.setdefault("billCurrency", "USD")
        vendor.setdefault("balance", {"amount": ZERO})
        vendor.setdefault("networkStatus", "NOT_CONNECTED")
        return self._stamp_new(vendor)

    def create_vendor(self, body: Any) -> dict[str, Any]:
        return self.bulk_create_vendors([body], limit=1)[0]

    def bulk_create_vendors(self, body: Any, limit: int = 20) -> list[dict[str, Any]]:
        if not isinstance(body, list) or not body:
            raise bad_request("The request body must be a non-empty array of vendors.")
        if len(body) > limit:
            raise bad_request(f"At most {limit} vendors can be created in one request.")
        with self.lock:
            made = [self._vendor_from(item) for item in body]  # all validated before any is stored
            for vendor in made:
                self.vendors[vendor["id"]] = vendor
                self.emit("vendor.created", "vendor", copy.deepcopy(vendor))
            return copy.deepcopy(made)

    def get_vendor(self, vendor_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._get(self.vendors, vendor_id, "Vendor"))

    def patch_vendor(self, vendor_id: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a vendor object.")
        with self.lock:
            vendor = self._get(self.vendors, vendor_id, "Vendor")
            if "name" in body and not str(body["name"] or "").strip():
                raise bad_request("name: must not be blank")
            for key in VENDOR_FIELDS:
                if key in body:
                    current = vendor.get(key)
                    if self.patch_merges_nested and isinstance(current, dict) and isinstance(body[key], dict):
                        current.update(copy.deepcopy(body[key]))
                    else:
                        vendor[key] = copy.deepcopy(body[key])
            return self._changed(vendor, "vendor.updated", "vendor")

    def set_vendor_archived(self, vendor_id: str, archived: bool) -> dict[str, Any]:
        with self.lock:
            vendor = self._get(self.vendors, vendor_id, "Vendor")
            if vendor["archived"] == archived:  # archiving an archived vendor changes nothing
                return copy.deepcopy(vendor)
            vendor["archived"] = archived
            return self._changed(vendor, "vendor.archived" if archived else "vendor.restored", "vendor")

    # --- bills -----------------------------------------------------------------------------------
    def _line_items(
        self, items: Any, existing: list[dict[str, Any]] | None = None, what: str = "billLineItems"
    ) -> list[dict[str, Any]]:
        if not isinstance(items, list) or not items:
            raise bad_request(f"{what}: must not be empty")
        known = {item["id"]: item for item in existing or []}
        accounts = self.classifications["chart-of-accounts"]
        result = []
        for n, raw in enumerate(items):
            if not isinstance(raw, dict) or "amount" not in raw:
                raise bad_request(f"{what}[{n}].amount: must not be null")
            item = copy.deepcopy(known.get(raw.get("id"), {})) if raw.get("id") else {}
            if raw.get("id") and raw["id"] not in known:
                raise bad_request(f"{what}[{n}].id: {raw['id']} is not a line item of this record")
            item.update({k: copy.deepcopy(v) for k, v in raw.items() if k != "id"})
            item["id"] = raw.get("id") or self.ids.new("00l")
            item["amount"] = money(raw["amount"], f"{what}[{n}].amount")
            account_id = (item.get("classifications") or {}).get("chartOfAccountId")
            if account_id and account_id not in accounts:
                raise bad_request(
                    f"{what}[{n}].classifications.chartOfAccountId: unknown account {account_id}"
                )
            for name, kind in LINE_CLASSIFICATIONS.items():
                value = (item.get("classifications") or {}).get(name)
                if name == "chartOfAccountId" or not value:
                    continue
                entry = self.classifications[kind].get(value)
                if entry is None:
                    raise bad_request(
                        f"billLineItems[{n}].classifications.{name}: unknown {kind[:-1]} {value}"
                    )
                if entry.get("archived"):
                    raise bad_request(
                        f"billLineItems[{n}].classifications.{name}: {kind[:-1]} {value} is archived"
                    )
            result.append(item)
        return result

    def _check_bill(self, bill: dict[str, Any]) -> None:
        vendor = self.vendors.get(bill.get("vendorId") or "")
        if vendor is None:
            raise bad_request(f"vendorId: vendor {bill.get('vendorId')} not found")
        if vendor["archived"]:
            raise bad_request(f"vendorId: vendor {vendor['id']} is archived")
        invoice = bill.get("invoice")
        if not isinstance(invoice, dict) or not str(invoice.get("invoiceNumber") or "").strip():
            raise bad_request("invoice.invoiceNumber: must not be blank")
        invoice["invoiceDate"] = _date(invoice.get("invoiceDate"), "invoice.invoiceDate")
        bill["dueDate"] = _date(bill.get("dueDate"), "dueDate")
        bill["vendorName"] = vendor["name"]

    def _is_duplicate(self, bill: dict[str, Any], pending: list[dict[str, Any]]) -> bool:
        number = bill["invoice"]["invoiceNumber"]
        others = [b for b in [*self.bills.values(), *pending] if b["id"] != bill["id"] and not b["archived"]]
        return any(
            b["vendorId"] == bill["vendorId"] and b["invoice"]["invoiceNumber"] == number for b in others
        )

    def _bill_from(self, body: Any, pending: list[dict[str, Any]]) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a bill object.")
        bill: dict[str, Any] = {"id": self.ids.new("00n"), "archived": False}
        bill.update({k: copy.deepcopy(body[k]) for k in BILL_WRITABLE if k in body})
        self._check_bill(bill)
        bill["billLineItems"] = self._line_items(body.get("billLineItems"))
        bill.update(paidAmount=ZERO, scheduledAmount=ZERO, creditAmount=ZERO, approvalStatus="UNASSIGNED")
        self._recompute(bill)
        if self.duplicate_invoice_check and self._is_duplicate(bill, pending):
            raise ApiError(422, "BDC_1171", f"Duplicate invoice number {bill['invoice']['invoiceNumber']}.")
        return self._stamp_new(bill)

    def _recompute(self, bill: dict[str, Any]) -> None:
        """Amounts and paymentStatus follow the line items and the payments against the bill."""
        bill["amount"] = sum((i["amount"] for i in bill["billLineItems"]), ZERO)
        bill["fundingAmount"] = bill["amount"]
        # A vendor credit used on the bill (creditAmount) lowers what is due as a payment does.
        bill["dueAmount"] = bill["amount"] - bill["paidAmount"] - bill.get("creditAmount", ZERO)
        if bill["paidAmount"] + bill.get("creditAmount", ZERO) >= bill["amount"] > 0:
            status = "PAID"
        elif bill["paidAmount"] > 0 or bill.get("creditAmount", ZERO) > 0:
            status = "PARTIAL"
        elif bill["scheduledAmount"] > 0:
            status = "SCHEDULED"
        else:
            status = "UNPAID"
        bill["paymentStatus"] = status

    def create_bills(self, body: Any, limit: int) -> list[dict[str, Any]]:
        """Create one or many bills, all or nothing."""
        if not isinstance(body, list) or not body:
            raise bad_request("The request body must be a non-empty array of bills.")
        if len(body) > limit:
            raise bad_request(f"At most {limit} bills can be created in one request.")
        with self.lock:
            made: list[dict[str, Any]] = []
            for item in body:
                made.append(self._bill_from(item, made))
            for bill in made:
                self.bills[bill["id"]] = bill
                self.emit("bill.created", "bill", copy.deepcopy(bill))
            return copy.deepcopy(made)

    def get_bill(self, bill_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._get(self.bills, bill_id, "Bill"))

    def update_bill(self, bill_id: str, body: Any, replace: bool) -> dict[str, Any]:
        """PATCH merges and keeps line item IDs; PUT replaces, adding items without `id`, dropping omitted."""
        if not isinstance(body, dict):
            raise bad_request("The request body must be a bill object.")
        with self.lock:
            bill = self._get(self.bills, bill_id, "Bill")
            updated = copy.deepcopy(bill)
            for key in BILL_WRITABLE:
                if key in body:
                    updated[key] = copy.deepcopy(body[key])
                elif replace and key not in ("vendorId", "dueDate", "invoice"):
                    updated.pop(key, None)
            self._check_bill(updated)
            if "billLineItems" in body:
                if replace:
                    updated["billLineItems"] = self._line_items(body["billLineItems"], bill["billLineItems"])
                else:
                    by_id = {i["id"]: i for i in updated["billLineItems"]}
                    merged = self._line_items(
                        [
                            {**by_id.get(i.get("id"), {}), **i} if isinstance(i, dict) else i
                            for i in body["billLineItems"]
                        ],
                        bill["billLineItems"],
                    )
                    changed = {i["id"]: i for i in merged}
                    updated["billLineItems"] = [changed.pop(i["id"], i) for i in updated["billLineItems"]]
                    updated["billLineItems"] += list(changed.values())
            self._recompute(updated)
            if updated["amount"] < updated["paidAmount"] + updated.get("creditAmount", ZERO):
                raise bad_request("amount: cannot be less than the amount already paid")
            if self.duplicate_invoice_check and self._is_duplicate(updated, []):
                raise ApiError(
                    422, "BDC_1171", f"Duplicate invoice number {updated['invoice']['invoiceNumber']}."
                )
            bill.clear()
            bill.update(updated)
            return self._changed(bill, "bill.updated", "bill")

    def set_bill_archived(self, bill_id: str, archived: bool) -> dict[str, Any]:
        with self.lock:
            bill = self._get(self.bills, bill_id, "Bill")
            if bill["archived"] == archived:
                return copy.deepcopy(bill)
            bill["archived"] = archived
            return self._changed(bill, "bill.archived" if archived else "bill.restored", "bill")

    # --- classifications and bank accounts -------------------------------------------------------
    def create_classification(self, kind: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not str(body.get("name") or "").strip():
            raise bad_request("name: must not be blank")
        record: dict[str, Any] = {"id": self.ids.new(CLASSIFICATION_KINDS[kind]), "archived": False}
        keys = ("name", "shortName", "description", "parentId", "account")
        record.update({k: copy.deepcopy(body[k]) for k in keys if k in body})
        with self.lock:
            self.classifications[kind][record["id"]] = self._stamp_new(record)
            return copy.deepcopy(record)

    def add_bank_account(
        self, name: str, last4: str, chart_of_account_id: str | None = None
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self.ids.new("bac"),
            "archived": False,
            "status": "VERIFIED",
            "bankName": name,
            "nameOnAccount": "Operating",
            "accountNumber": f"xxxxxx{last4}",
            "routingNumber": "xxxxx0010",
            "type": "CHECKING",
            "ownerType": "BUSINESS",
            "default": {"payables": not self.bank_accounts, "receivables": False},
            "chartOfAccountId": chart_of_account_id,
        }
        with self.lock:
            self.bank_accounts[record["id"]] = self._stamp_new(record)
            return copy.deepcopy(record)

    def _copy(self, table: dict[str, dict[str, Any]], record_id: str, what: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._get(table, record_id, what))

    def rows(self, table: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(table.values()))

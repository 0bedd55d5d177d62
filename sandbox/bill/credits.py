"""Vendor credits (`/v3/vendor-credits`), as BILL's v3 Postman collection shows them.

A credit: `vendorId`, `referenceNumber`, `creditDate`, `description`, `vendorCreditLineItems[{id, description,
amount, classifications}]`; BILL adds `amount` (the lines' sum), `appliedAmount`, `status` (NOT_APPLIED,
PARTIALLY_APPLIED, FULLY_APPLIED), `usage[{billId, paymentId, amount}]` and `archived`. Create one or up to 50
(`/bulk`), get, list (filters, sort, pages), PATCH (lines by id) and PUT (omitted lines dropped), archive
(one, or `/bulk/archive?ids=`); "an archived vendor credit cannot be restored".

What the collection leaves open, the sandbox decides the strict way: a credit cannot be changed below what
is already applied, nor changed or used once archived; a credit is used by a payment
(`billPayments[].vendorCredits[{id, amount}]`) only up to what is left of it, and a payment cancelled or
voided gives its credit back. BILL documents no vendor-credit webhooks, so none are sent. The ID prefix
(`vcr`) is the sandbox's own: BILL documents none for credits.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from .store import ZERO, Store, _date
from .wire import bad_request, money

WRITABLE = (
    "vendorId referenceNumber creditDate description applyToChartOfAccountId applyToBankAccountId".split()
)
MAX_BULK = 50


class VendorCredits:
    """The organization's vendor credits, kept in the store's lock and table."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.table: dict[str, dict[str, Any]] = {}

    # --- create, read, change ----------------------------------------------------------------------
    def _check(self, credit: dict[str, Any]) -> None:
        vendor = self.store.vendors.get(credit.get("vendorId") or "")
        if vendor is None:
            raise bad_request(f"vendorId: vendor {credit.get('vendorId')} not found")
        if vendor["archived"]:
            raise bad_request(f"vendorId: vendor {vendor['id']} is archived")
        if not str(credit.get("referenceNumber") or "").strip():
            raise bad_request("referenceNumber: must not be blank")
        credit["creditDate"] = _date(credit.get("creditDate"), "creditDate")

    def _recompute(self, credit: dict[str, Any]) -> None:
        credit["amount"] = sum((i["amount"] for i in credit["vendorCreditLineItems"]), ZERO)
        if credit["amount"] <= 0:
            raise bad_request("vendorCreditLineItems: the credit's amount must be above zero")
        if credit["amount"] < credit["appliedAmount"]:
            raise bad_request(f"amount: cannot be less than the {credit['appliedAmount']} already applied")
        applied = credit["appliedAmount"]
        credit["status"] = (
            "NOT_APPLIED"
            if applied == 0
            else "FULLY_APPLIED"
            if applied >= credit["amount"]
            else "PARTIALLY_APPLIED"
        )

    def _from(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a vendor credit object.")
        credit: dict[str, Any] = {"id": self.store.ids.new("vcr"), "archived": False}
        credit.update({k: copy.deepcopy(body[k]) for k in WRITABLE if k in body})
        self._check(credit)
        credit["vendorCreditLineItems"] = self.store._line_items(
            body.get("vendorCreditLineItems"), what="vendorCreditLineItems"
        )
        credit.update(appliedAmount=ZERO, usage=[])
        self._recompute(credit)
        return self.store._stamp_new(credit)

    def create(self, body: Any, limit: int = 1) -> list[dict[str, Any]]:
        """Create one or many credits, all or nothing."""
        if not isinstance(body, list) or not body:
            raise bad_request("The request body must be a non-empty array of vendor credits.")
        if len(body) > limit:
            raise bad_request(f"At most {limit} vendor credits can be created in one request.")
        with self.store.lock:
            made = [self._from(item) for item in body]
            for credit in made:
                self.table[credit["id"]] = credit
            return copy.deepcopy(made)

    def get(self, credit_id: str) -> dict[str, Any]:
        return self.store._copy(self.table, credit_id, "Vendor credit")

    def update(self, credit_id: str, body: Any, replace: bool) -> dict[str, Any]:
        """PATCH merges lines by id and keeps the rest; PUT replaces them (lines without `id` are new)."""
        if not isinstance(body, dict):
            raise bad_request("The request body must be a vendor credit object.")
        store = self.store
        with store.lock:
            credit = store._get(self.table, credit_id, "Vendor credit")
            if credit["archived"]:
                raise bad_request(f"Vendor credit {credit_id} is archived and cannot be changed.")
            updated = copy.deepcopy(credit)
            updated.update({k: copy.deepcopy(body[k]) for k in WRITABLE if k in body})
            self._check(updated)
            if "vendorCreditLineItems" in body:
                lines = body["vendorCreditLineItems"]
                if not replace and isinstance(lines, list):
                    by_id = {i["id"]: i for i in credit["vendorCreditLineItems"]}
                    changed = {i.get("id"): i for i in lines if isinstance(i, dict)}
                    lines = [{**i, **changed.pop(i["id"], {})} for i in by_id.values()]
                    lines += [i for k, i in changed.items() if k is None or k not in by_id]
                updated["vendorCreditLineItems"] = store._line_items(
                    lines, credit["vendorCreditLineItems"], what="vendorCreditLineItems"
                )
            self._recompute(updated)
            credit.clear()
            credit.update(updated)
            credit["updatedTime"] = store.clock.stamp()
            return copy.deepcopy(credit)

    def archive(self, credit_ids: list[str]) -> list[dict[str, Any]]:
        store = self.store
        with store.lock:
            credits = [store._get(self.table, i, "Vendor credit") for i in credit_ids]
            for credit in credits:
                if not credit["archived"]:
                    credit["archived"] = True
                    credit["updatedTime"] = store.clock.stamp()
            return copy.deepcopy(credits)

    # --- used by payments (the store's lock is held) ------------------------------------------------
    def take(self, vendor_id: str, wanted: list[tuple[str, Decimal]], where: str) -> None:
        """Check a payment line's credits can be used: the vendor's, not archived, enough left."""
        left: dict[str, Decimal] = {}
        for n, (credit_id, amount) in enumerate(wanted):
            credit = self.store._get(self.table, credit_id, "Vendor credit")
            if credit["vendorId"] != vendor_id:
                raise bad_request(
                    f"{where}.vendorCredits[{n}].id: credit {credit_id} belongs to another vendor"
                )
            if credit["archived"]:
                raise bad_request(f"{where}.vendorCredits[{n}].id: credit {credit_id} is archived")
            usable = left.setdefault(credit_id, credit["amount"] - credit["appliedAmount"])
            if amount <= 0 or amount > usable:
                raise bad_request(
                    f"{where}.vendorCredits[{n}].amount: {amount} is more than the {usable} left "
                    f"on credit {credit_id}"
                )
            left[credit_id] = usable - amount

    def use(self, payment: dict[str, Any], sign: int) -> None:
        """Apply (+1) or give back (-1) the payment's credits: usage, appliedAmount, status."""
        for line in payment["billPayments"]:
            for used in line.get("vendorCredits") or []:
                credit = self.table[used["id"]]
                credit["appliedAmount"] += sign * used["amount"]
                if sign > 0:
                    credit["usage"].append(
                        {"billId": line["billId"], "paymentId": payment["id"], "amount": used["amount"]}
                    )
                else:
                    credit["usage"] = [
                        u
                        for u in credit["usage"]
                        if not (u["paymentId"] == payment["id"] and u["billId"] == line["billId"])
                    ]
                applied = credit["appliedAmount"]
                credit["status"] = (
                    "NOT_APPLIED"
                    if applied == 0
                    else "FULLY_APPLIED"
                    if applied >= credit["amount"]
                    else "PARTIALLY_APPLIED"
                )
                credit["updatedTime"] = self.store.clock.stamp()


def credit_amounts(item: dict[str, Any], where: str) -> list[tuple[str, Decimal]]:
    """A payment line's `vendorCredits[{id, amount}]` as (id, Decimal)."""
    raw = item.get("vendorCredits") or []
    if not isinstance(raw, list):
        raise bad_request(f"{where}.vendorCredits: must be an array")
    out = []
    for n, c in enumerate(raw):
        if not isinstance(c, dict) or not c.get("id"):
            raise bad_request(f"{where}.vendorCredits[{n}].id: must not be blank")
        out.append((str(c["id"]), money(c.get("amount"), f"{where}.vendorCredits[{n}].amount")))
    return out

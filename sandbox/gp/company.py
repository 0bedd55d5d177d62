"""One GP company's data and the business rules the sandbox enforces on it (Part A facts, Part B shape).

Every change goes through here, from the GP API and from the control API alike, so ModifiedDate,
locks and posting rules are the same for both.
"""

from __future__ import annotations

import builtins  # `list` in this class names its method GPCompany.list
import copy
import dataclasses
import datetime as dt
import threading
from decimal import Decimal
from typing import Any

from . import builders, query, seeds
from .store import EMPTY_DATE, GPFault, Record, Table, money, norm_key, parse_stamp, stamp, to_decimal
from .variants import Variant, day_stamp

# Part B resource path -> table name.
RESOURCES = {
    "Purchasing/Vendors": "Vendors",
    "Purchasing/PayablesInvoices": "PayablesInvoices",
    "Purchasing/PayablesPayments": "PayablesPayments",
    # Modelled, not in Part B: GP's "Apply Payables Documents" (eConnect taPMApply) as a resource.
    "Purchasing/PayablesApplies": "PayablesApplies",
    "Purchasing/PurchaseOrders": "PurchaseOrders",
    "Financials/GLAccounts": "GLAccounts",
    "Financials/Checkbooks": "Checkbooks",
}
PAYMENT_SOURCE, INVOICE_SOURCE = "PM_Payment", "PM_Trxent"
POSTABLE_WORKFLOW = ("Approved", "NoApprovalNeeded")
VENDOR_PATCHABLE = {
    "Name",
    "ShortName",
    "CheckName",
    "ClassKey",
    "Status",
    "IsOnHold",
    "TaxIdNumber",
    "PaymentTermsKey",
    "DefaultAddressKey",
    "RemitToAddressKey",
    "Addresses",
}
INVOICE_PATCHABLE = {
    "VendorDocumentNumber",
    "Description",
    "Date",
    "DueDate",
    "BatchKey",
    "PONumber",
    "PurchasesAmount",
    "TradeDiscountAmount",
    "FreightAmount",
    "MiscellaneousAmount",
    "TaxAmount",
    "WorkflowStatus",
    "IsOnHold",
    "Distributions",
}
AMOUNT_FIELDS = (
    "PurchasesAmount",
    "TradeDiscountAmount",
    "FreightAmount",
    "MiscellaneousAmount",
    "TaxAmount",
)
VENDOR_STATUSES = ("Active", "Inactive", "Temporary")
PAYMENT_METHODS = ("Check", "EFT", "Cash", "CreditCard")
CREDIT_TYPES = ("CreditMemo", "Return")  # payables document types 5 and 4: what may be applied to a voucher


def _id(value: Any) -> str:
    """A key given as {"Id": "…"} or as a plain string."""
    return norm_key(str(value.get("Id", "") if isinstance(value, dict) else value or ""))


class GPCompany:
    def __init__(self, name: str, seed: str = "small", variant: Variant | None = None) -> None:
        self.name = name
        self.variant = variant or Variant()
        self.lock = threading.RLock()
        self.tables = {name: Table(name) for name in RESOURCES.values()}
        self.locked: set[tuple[str, str]] = set()
        self.applied: list[dict[str, str]] = []
        self.fixed_now: dt.datetime | None = None
        self._last_stamp = ""
        self.reseed(seed)

    def reseed(self, seed: str) -> None:
        with self.lock:
            seeds.load(self, seed)
            self.seed = seed
            self.locked.clear()
            self.applied.clear()
            self.fixed_now = None
            self._last_stamp = max(t.latest_stamp() or "" for t in self.tables.values())

    def now(self) -> str:
        """A fresh ModifiedDate: the (possibly fixed) clock, never earlier than any stamp given out."""
        moment = self.fixed_now or dt.datetime.now(dt.UTC)
        self._last_stamp = max(stamp(moment), self._last_stamp)
        return day_stamp(self._last_stamp) if self.variant.day_stamps else self._last_stamp

    def stamps_to_days(self) -> None:
        """The `stamps=day` variant: every stored ModifiedDate keeps its date only (as GP's MODIFDT)."""
        with self.lock:
            for table in self.tables.values():
                table.restamp(day_stamp)

    # --- reads -------------------------------------------------------------------------------------
    def list(self, table: str, params: dict[str, str]) -> tuple[list[Record], dict[str, int]]:
        q = query.parse(params)
        if self.variant.skip == "ignored":
            q = dataclasses.replace(q, skip=0)
        rows, total = self.tables[table].query(q.since, q.predicate, q.equals, q.skip, q.top)
        return rows, {"Top": q.top, "Skip": q.skip, "Total": total}

    def vendor_address_rows(self, params: dict[str, str]) -> tuple[builtins.list[Record], dict[str, int]]:
        """The `vendor_addresses=separate` variant's address list: every vendor's addresses, one row each,
        with the vendor's key and ModifiedDate (`VendorId eq '…'` picks one vendor's)."""
        q = query.parse(params)
        with self.lock:
            vendors = [self.tables["Vendors"].get(k) for _, k in self.tables["Vendors"]._index]
        rows = [
            {**copy.deepcopy(a), "VendorKey": {"Id": v["Key"]["Id"]}, "ModifiedDate": v["ModifiedDate"]}
            for v in vendors
            if v and (q.since is None or v["ModifiedDate"] >= q.since)
            for a in v.get("Addresses") or []
        ]
        if q.predicate is not None:
            rows = [r for r in rows if q.predicate(r)]
        rows.sort(key=lambda r: (r["ModifiedDate"], r["VendorKey"]["Id"], r["Key"]["Id"]))
        return rows[q.skip : q.skip + q.top], {"Top": q.top, "Skip": q.skip, "Total": len(rows)}

    def get(self, table: str, key: str) -> Record:
        row = self.tables[table].get(key)
        if row is None:
            raise GPFault(404, "NotFound", f"{table} '{key}' was not found.")
        return row

    def _editable(self, table: str, key: str) -> Record:
        if (table, norm_key(key)) in self.locked:
            raise GPFault(409, "RecordLocked", f"{table} '{key}' is being edited by another user.")
        return copy.deepcopy(self.get(table, key))

    def _save(self, table: str, record: Record) -> Record:
        record["ModifiedDate"] = self.now()
        self.tables[table].put(record)
        return record

    # --- vendors -----------------------------------------------------------------------------------
    def create_vendor(self, body: dict[str, Any]) -> Record:
        with self.lock:
            key = builders.check_key("Vendors", body.get("Key"))
            if key in self.tables["Vendors"]:
                raise GPFault(409, "DuplicateKey", f"Vendor '{key}' already exists.")
            if not str(body.get("Name", "")).strip():
                raise GPFault(400, "MissingField", "Name is required.")
            now = self.now()
            record = builders.build_vendor(key, body["Name"], modified=now)
            return self._save("Vendors", self._apply_vendor_fields(record, body, VENDOR_PATCHABLE))

    def patch_vendor(self, key: str, body: dict[str, Any], allowed: set[str] = VENDOR_PATCHABLE) -> Record:
        with self.lock:
            record = self._editable("Vendors", key)
            return self._save("Vendors", self._apply_vendor_fields(record, body, allowed))

    def _apply_vendor_fields(self, record: Record, body: dict[str, Any], allowed: set[str]) -> Record:
        for field, value in body.items():
            if field in ("Key", "ModifiedDate", "CreatedDate"):
                continue
            if field not in allowed:
                raise GPFault(400, "UnknownField", f"Vendor field '{field}' cannot be set.")
            if field == "Status" and value not in VENDOR_STATUSES:
                raise GPFault(400, "InvalidValue", f"Status must be one of {', '.join(VENDOR_STATUSES)}.")
            if field == "Addresses":
                record["Addresses"] = self._merge_addresses(record["Addresses"], value)
            else:
                record[field] = builders.truncate(field, value)
        return record

    @staticmethod
    def _merge_addresses(
        current: builtins.list[Record], changes: builtins.list[Record]
    ) -> builtins.list[Record]:
        by_key = {_id(a["Key"]): a for a in current}
        for change in changes or []:
            key = _id(change.get("Key", "PRIMARY"))
            base = by_key.get(key) or builders.build_address(key=key)
            by_key[key] = {**base, **{f: builders.truncate(f, v) for f, v in change.items() if f != "Key"}}
        return list(by_key.values())

    # --- payables invoices -------------------------------------------------------------------------
    def create_invoice(self, body: dict[str, Any], state: str = "Work") -> Record:
        with self.lock:
            key = builders.check_key("PayablesInvoices", body.get("Key"))
            if key in self.tables["PayablesInvoices"]:
                raise GPFault(409, "DuplicateKey", f"Voucher '{key}' already exists.")
            vendor = _id(body.get("VendorKey"))
            if vendor not in self.tables["Vendors"]:
                raise GPFault(400, "VendorNotFound", f"Vendor '{vendor}' does not exist.")
            record = builders.build_invoice(
                key,
                vendor,
                modified=self.now(),
                date=body.get("Date") or self.now()[:10],
                purchases=body.get("PurchasesAmount", 0),
                state=state,
                workflow="Approved" if state != "Work" else "NotSubmitted",
            )
            return self._save("PayablesInvoices", self._apply_invoice_fields(record, body, None))

    def patch_invoice(self, key: str, body: dict[str, Any]) -> Record:
        with self.lock:
            record = self._editable("PayablesInvoices", key)
            if record["TransactionState"] != "Work":
                raise GPFault(409, "DocumentPosted", f"Voucher '{key}' is posted and cannot be changed.")
            return self._save("PayablesInvoices", self._apply_invoice_fields(record, body, INVOICE_PATCHABLE))

    def _apply_invoice_fields(self, record: Record, body: dict[str, Any], allowed: set[str] | None) -> Record:
        """Set fields (all of them when `allowed` is None: the control API), then recompute amounts."""
        for field, value in body.items():
            if field in ("Key", "ModifiedDate", "CreatedDate"):
                continue
            if allowed is not None and field not in allowed:
                raise GPFault(400, "UnknownField", f"Invoice field '{field}' cannot be set.")
            if field in AMOUNT_FIELDS or field in ("DocumentAmount", "CurrentTransactionAmount"):
                record[field] = money(value)
            elif field in ("Date", "DueDate", "PostingDate"):
                record[field] = builders.date_stamp(value)
            elif field in ("VendorKey", "BatchKey", "CurrencyKey") and not isinstance(value, dict):
                record[field] = {"Id": norm_key(str(value)) if field == "VendorKey" else str(value)}
            else:
                record[field] = builders.truncate(field, value)
        if any(f in body for f in AMOUNT_FIELDS):
            builders.recompute(record, regenerate_distributions="Distributions" not in body)
        return record

    # --- payments and posting ----------------------------------------------------------------------
    def create_payment(self, body: dict[str, Any]) -> Record:
        with self.lock:
            if self.variant.payment_numbers == "gp_assigns":  # GP's next number, whatever Key was sent
                body = {**body, "Key": {"Id": self._next_payment_number()}}
            key = builders.check_key("PayablesPayments", body.get("Key"))
            if key in self.tables["PayablesPayments"]:
                raise GPFault(409, "DuplicateKey", f"Payment number '{key}' already exists.")
            vendor = self.tables["Vendors"].get(_id(body.get("VendorKey")))
            if vendor is None:
                raise GPFault(400, "VendorNotFound", f"Vendor '{_id(body.get('VendorKey'))}' does not exist.")
            if vendor["IsOnHold"]:
                raise GPFault(400, "VendorOnHold", f"Vendor '{_id(vendor['Key'])}' is on hold.")
            checkbook = self.tables["Checkbooks"].get(_id(body.get("CheckbookKey")))
            if checkbook is None or checkbook["IsInactive"]:
                raise GPFault(
                    400,
                    "InvalidCheckbook",
                    f"Checkbook '{_id(body.get('CheckbookKey'))}' is missing or inactive.",
                )
            if body.get("PaymentMethod") not in PAYMENT_METHODS:
                raise GPFault(
                    400, "InvalidValue", f"PaymentMethod must be one of {', '.join(PAYMENT_METHODS)}."
                )
            # GP's manual payment entry takes a credit card payment only with a card name (Credit Card Setup).
            card_name = str(body.get("CardName") or "").strip()
            if body["PaymentMethod"] == "CreditCard" and not card_name:
                raise GPFault(400, "MissingField", "CardName is required for a credit card payment.")
            batch = str(_id(body.get("BatchKey")))
            if not batch:
                raise GPFault(400, "MissingField", "BatchKey is required.")
            if ("Batches", f"{PAYMENT_SOURCE};{batch}") in self.locked:
                raise GPFault(409, "BatchLocked", f"Batch '{batch}' is being posted or edited.")
            amount = to_decimal(body.get("Amount"))
            if amount <= 0:
                raise GPFault(400, "InvalidAmount", "Amount must be greater than zero.")
            lines = [
                (_id(a.get("VoucherKey")), to_decimal(a.get("Amount"))) for a in body.get("ApplyTo") or []
            ]
            self._check_applies(_id(vendor["Key"]), lines)
            if sum((a for _, a in lines), Decimal(0)) > amount:
                raise GPFault(400, "OverApplied", "The apply lines add up to more than the payment amount.")
            now = self.now()
            record = {
                "Key": {"Id": key},
                "VendorKey": vendor["Key"],
                "CheckbookKey": checkbook["Key"],
                "PaymentMethod": body["PaymentMethod"],
                "CardName": card_name,
                "DocumentNumber": builders.truncate("DocumentNumber", str(body.get("DocumentNumber") or "")),
                "Date": builders.date_stamp(body.get("Date") or now[:10]),
                "Amount": money(amount),
                "BatchKey": {"Id": batch},
                "TransactionState": "Work",
                "ApplyTo": [{"VoucherKey": {"Id": v}, "Amount": money(a)} for v, a in lines],
                "CreatedDate": now,
                "ModifiedDate": now,
            }
            return self._save("PayablesPayments", record)

    def _next_payment_number(self) -> str:
        taken = [
            int(k[5:])
            for k in self.tables["PayablesPayments"]._stamps
            if k.startswith("PYMNT") and k[5:].isdigit()
        ]
        return f"PYMNT{max(taken, default=0) + 1:012d}"

    def _pending_applies(self, voucher: str) -> Decimal:
        """What unposted payments already intend to apply to a voucher."""
        total = Decimal(0)
        for _, key in self.tables["PayablesPayments"]._index:
            payment = self.tables["PayablesPayments"].get(key)
            if payment and payment["TransactionState"] == "Work":
                total += sum(
                    (to_decimal(a["Amount"]) for a in payment["ApplyTo"] if _id(a["VoucherKey"]) == voucher),
                    Decimal(0),
                )
        return total

    def _check_applies(
        self, vendor: str, lines: builtins.list[tuple[str, Decimal]], pending: bool = True
    ) -> None:
        for voucher, amount in lines:
            inv = self.tables["PayablesInvoices"].get(voucher)
            if inv is None:
                raise GPFault(400, "VoucherNotFound", f"Voucher '{voucher}' does not exist.")
            if ("PayablesInvoices", voucher) in self.locked:
                raise GPFault(409, "RecordLocked", f"Voucher '{voucher}' is being edited by another user.")
            if _id(inv["VendorKey"]) != vendor:
                raise GPFault(400, "WrongVendor", f"Voucher '{voucher}' belongs to another vendor.")
            if inv["TransactionState"] != "Open" or inv["IsVoided"]:
                raise GPFault(
                    400, "NotOpen", f"Voucher '{voucher}' is not open (it is {inv['TransactionState']})."
                )
            if inv["IsOnHold"]:
                raise GPFault(400, "DocumentOnHold", f"Voucher '{voucher}' is on hold.")
            available = to_decimal(inv["CurrentTransactionAmount"]) - (
                self._pending_applies(voucher) if pending else 0
            )
            if amount <= 0 or amount > available:
                raise GPFault(
                    400, "OverApplied", f"Voucher '{voucher}' has only {available:.2f} left to apply."
                )

    def create_apply(self, body: dict[str, Any]) -> Record:
        """POST Purchasing/PayablesApplies (modelled on GP's Apply Payables Documents / eConnect taPMApply):
        apply a posted credit memo or return to open vouchers of its vendor. Both documents' open amounts
        fall at once (an apply is not batched); a voucher or credit at zero moves to History."""
        with self.lock:
            key = builders.check_key("PayablesApplies", body.get("Key"))
            if key in self.tables["PayablesApplies"]:
                raise GPFault(409, "DuplicateKey", f"Apply '{key}' already exists.")
            credit_key = _id(body.get("CreditVoucherKey"))
            credit = self.tables["PayablesInvoices"].get(credit_key)
            if credit is None:
                raise GPFault(400, "VoucherNotFound", f"Voucher '{credit_key}' does not exist.")
            if credit["DocumentType"] not in CREDIT_TYPES:
                raise GPFault(
                    400,
                    "NotACredit",
                    f"Voucher '{credit_key}' is a {credit['DocumentType']}, not a credit memo or return.",
                )
            if credit["TransactionState"] != "Open" or credit["IsVoided"]:
                raise GPFault(
                    400, "NotOpen", f"Credit '{credit_key}' is not open (it is {credit['TransactionState']})."
                )
            if ("PayablesInvoices", credit_key) in self.locked:
                raise GPFault(409, "RecordLocked", f"Voucher '{credit_key}' is being edited by another user.")
            lines = [
                (_id(a.get("VoucherKey")), to_decimal(a.get("Amount"))) for a in body.get("ApplyTo") or []
            ]
            if not lines:
                raise GPFault(400, "MissingField", "ApplyTo needs at least one voucher.")
            vendor = _id(credit["VendorKey"])
            self._check_applies(vendor, lines)
            total = sum((a for _, a in lines), Decimal(0))
            left = to_decimal(credit["CurrentTransactionAmount"])
            if total > left:
                raise GPFault(400, "OverApplied", f"Credit '{credit_key}' has only {left:.2f} left to apply.")
            for voucher, amount in lines:
                self._lower_open(voucher, amount)
            self._lower_open(credit_key, total)
            now = self.now()
            record = {
                "Key": {"Id": key},
                "VendorKey": credit["VendorKey"],
                "CreditVoucherKey": {"Id": credit_key},
                "Date": builders.date_stamp(body.get("Date") or now[:10]),
                "Amount": money(total),
                "ApplyTo": [{"VoucherKey": {"Id": v}, "Amount": money(a)} for v, a in lines],
                "CreatedDate": now,
                "ModifiedDate": now,
            }
            for voucher, amount in lines:
                self.applied.append(
                    {
                        "payment": key,
                        "voucher": voucher,
                        "amount": f"{amount:.2f}",
                        "vendor": vendor,
                        "batch": "APPLY",
                        "kind": "credit",
                        "credit": credit_key,
                    }
                )
            return self._save("PayablesApplies", record)

    def _lower_open(self, voucher: str, amount: Decimal) -> None:
        inv = copy.deepcopy(self.get("PayablesInvoices", voucher))
        remaining = to_decimal(inv["CurrentTransactionAmount"]) - amount
        inv["CurrentTransactionAmount"] = money(remaining, inv["CurrentTransactionAmount"]["Currency"])
        if remaining == 0:
            inv["TransactionState"] = "History"
        self._save("PayablesInvoices", inv)

    def post_batch(self, source: str, batch: str) -> dict[str, Any]:
        with self.lock:
            if ("Batches", f"{source};{norm_key(batch)}") in self.locked:
                raise GPFault(409, "BatchLocked", f"Batch '{batch}' is being posted or edited.")
            table = {PAYMENT_SOURCE: "PayablesPayments", INVOICE_SOURCE: "PayablesInvoices"}.get(source)
            if table is None:
                raise GPFault(
                    400, "InvalidValue", f"Batch source must be {PAYMENT_SOURCE} or {INVOICE_SOURCE}."
                )
            docs = [
                copy.deepcopy(self.get(table, k))
                for _, k in list(self.tables[table]._index)
                if (d := self.tables[table].get(k))
                and d["TransactionState"] == "Work"
                and _id(d["BatchKey"]) == norm_key(batch)
            ]
            if not docs:
                raise GPFault(404, "BatchNotFound", f"Batch '{batch}' ({source}) has nothing to post.")
            posted, skipped = (
                self._post_payments(docs) if table == "PayablesPayments" else self._post_invoices(docs)
            )
            return {
                "Source": source,
                "Batch": batch,
                "PostedCount": len(posted),
                "Posted": posted,
                "Skipped": skipped,
            }

    def _post_payments(
        self, payments: builtins.list[Record]
    ) -> tuple[builtins.list[str], builtins.list[dict[str, str]]]:
        for p in payments:  # check all before changing any: a batch posts whole or not at all
            self._check_applies(
                _id(p["VendorKey"]),
                [(_id(a["VoucherKey"]), to_decimal(a["Amount"])) for a in p["ApplyTo"]],
                pending=False,
            )
        for p in payments:
            applied = Decimal(0)
            for line in p["ApplyTo"]:
                voucher, amount = _id(line["VoucherKey"]), to_decimal(line["Amount"])
                inv = copy.deepcopy(self.get("PayablesInvoices", voucher))
                remaining = to_decimal(inv["CurrentTransactionAmount"]) - amount
                inv["CurrentTransactionAmount"] = money(
                    remaining, inv["CurrentTransactionAmount"]["Currency"]
                )
                if remaining == 0:
                    inv["TransactionState"] = "History"
                self._save("PayablesInvoices", inv)
                applied += amount
                self.applied.append(
                    {
                        "payment": _id(p["Key"]),
                        "voucher": voucher,
                        "amount": f"{amount:.2f}",
                        "vendor": _id(p["VendorKey"]),
                        "batch": _id(p["BatchKey"]),
                    }
                )
            p["TransactionState"] = "History" if applied == to_decimal(p["Amount"]) else "Open"
            self._save("PayablesPayments", p)
        return [_id(p["Key"]) for p in payments], []

    def _post_invoices(
        self, invoices: builtins.list[Record]
    ) -> tuple[builtins.list[str], builtins.list[dict[str, str]]]:
        posted, skipped = [], []
        for inv in invoices:
            reason = ("on hold" if inv["IsOnHold"] else None) or (
                None if inv["WorkflowStatus"] in POSTABLE_WORKFLOW else f"workflow is {inv['WorkflowStatus']}"
            )
            if reason:
                skipped.append({"Key": _id(inv["Key"]), "Reason": reason})
                continue
            self._mark_posted(inv)
            posted.append(_id(inv["Key"]))
        return posted, skipped

    def _mark_posted(self, inv: Record) -> None:
        inv["TransactionState"] = "Open"
        if inv["PostingDate"] == EMPTY_DATE:
            inv["PostingDate"] = builders.date_stamp(self.now()[:10])
        self._save("PayablesInvoices", inv)

    # --- control API (not GP): what a GP user or GP itself would do --------------------------------
    def change(self, table: str, key: str, fields: dict[str, Any]) -> Record:
        """Change any field of a record, posted or not, and bump its ModifiedDate."""
        with self.lock:
            record = copy.deepcopy(self.get(table, key))
            if table == "PayablesInvoices":
                return self._save(table, self._apply_invoice_fields(record, fields, None))
            if table == "Vendors":
                return self._save(table, self._apply_vendor_fields(record, fields, VENDOR_PATCHABLE))
            record.update({k: v for k, v in fields.items() if k != "Key"})
            return self._save(table, record)

    def insert_invoice(self, fields: dict[str, Any]) -> Record:
        """A new invoice (Open and approved unless said otherwise); the voucher is numbered if not given."""
        with self.lock:
            fields = dict(fields)
            if not fields.get("Key"):
                last = max((k for k in self.tables["PayablesInvoices"]._stamps if k.isdigit()), default="0")
                fields["Key"] = f"{int(last) + 1:017d}"
            state = fields.pop("TransactionState", "Open")
            record = self.create_invoice(fields, state=state)
            if state != "Work" and "WorkflowStatus" not in fields:
                record = self.change("PayablesInvoices", _id(record["Key"]), {"WorkflowStatus": "Approved"})
            return record

    def void_invoice(self, key: str) -> Record:
        with self.lock:
            return self.change(
                "PayablesInvoices",
                key,
                {"IsVoided": True, "TransactionState": "History", "CurrentTransactionAmount": 0},
            )

    def apply_outside(self, key: str, amount: Any, document: str = "", kind: str = "check") -> Record:
        """What a GP clerk does outside BILL: a posted check (a payment numbered `document`) or a credit
        memo applied to an open voucher; its remaining amount falls, and at zero it moves to History."""
        if kind not in ("check", "credit"):
            raise GPFault(400, "InvalidValue", "kind must be check or credit.")
        with self.lock:
            inv = copy.deepcopy(self.get("PayablesInvoices", key))
            value = to_decimal(amount)
            vendor = _id(inv["VendorKey"])
            self._check_applies(vendor, [(key, value)])
            now = self.now()
            if kind == "check":
                number = builders.check_key("PayablesPayments", document or f"CHK{len(self.applied) + 1:06d}")
                if number in self.tables["PayablesPayments"]:
                    raise GPFault(409, "DuplicateKey", f"Payment number '{number}' already exists.")
                checkbook = next(
                    c
                    for _, k in self.tables["Checkbooks"]._index
                    if (c := self.tables["Checkbooks"].get(k)) and not c["IsInactive"]
                )
                self._save(
                    "PayablesPayments",
                    {
                        "Key": {"Id": number},
                        "VendorKey": inv["VendorKey"],
                        "CheckbookKey": checkbook["Key"],
                        "PaymentMethod": "Check",
                        "CardName": "",
                        "DocumentNumber": number[:20],
                        "Date": builders.date_stamp(now[:10]),
                        "Amount": money(value),
                        "BatchKey": {"Id": "CLERK"},
                        "TransactionState": "History",
                        "ApplyTo": [{"VoucherKey": inv["Key"], "Amount": money(value)}],
                        "CreatedDate": now,
                        "ModifiedDate": now,
                    },
                )
            else:
                number = document or f"CM{len(self.applied) + 1:06d}"
                memo = self.tables["PayablesInvoices"].get(number)
                if (
                    memo is not None and memo["DocumentType"] in CREDIT_TYPES
                ):  # a clerk's Apply Payables Documents
                    if _id(memo["VendorKey"]) != vendor:
                        raise GPFault(400, "WrongVendor", f"Credit '{number}' belongs to another vendor.")
                    if (
                        value > to_decimal(memo["CurrentTransactionAmount"])
                        or memo["TransactionState"] != "Open"
                    ):
                        raise GPFault(
                            400,
                            "OverApplied",
                            f"Credit '{number}' has only "
                            f"{to_decimal(memo['CurrentTransactionAmount']):.2f} left to apply.",
                        )
                    self._lower_open(number, value)
            remaining = to_decimal(inv["CurrentTransactionAmount"]) - value
            inv["CurrentTransactionAmount"] = money(remaining, inv["CurrentTransactionAmount"]["Currency"])
            if remaining == 0:
                inv["TransactionState"] = "History"
            self.applied.append(
                {
                    "payment": number,
                    "voucher": key,
                    "amount": f"{value:.2f}",
                    "vendor": vendor,
                    "batch": "CLERK",
                    "kind": kind,
                }
            )
            return self._save("PayablesInvoices", inv)

    def post_invoice(self, key: str) -> Record:
        with self.lock:
            inv = copy.deepcopy(self.get("PayablesInvoices", key))
            if inv["TransactionState"] != "Work":
                raise GPFault(409, "DocumentPosted", f"Voucher '{key}' is already posted.")
            if inv["WorkflowStatus"] not in POSTABLE_WORKFLOW:
                inv["WorkflowStatus"] = "Approved"
            self._mark_posted(inv)
            return inv

    def set_lock(self, table: str, key: str, locked: bool = True) -> None:
        with self.lock:
            (self.locked.add if locked else self.locked.discard)((table, norm_key(key)))

    def set_clock(self, now: str | None = None, advance_seconds: float = 0) -> str:
        with self.lock:
            if now is not None:
                self.fixed_now = parse_stamp(now)
            elif advance_seconds:
                base = self.fixed_now or dt.datetime.now(dt.UTC)
                self.fixed_now = base + dt.timedelta(seconds=advance_seconds)
            else:
                self.fixed_now = None
            return self.now()

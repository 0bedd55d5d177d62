"""What each Web Services operation does to the sandbox company: the same data and rules as SBA
(`sandbox.gp.company`), seen through the Web Services object model.

Documented behaviour modelled here: every call names its company by the integer CompanyKey in the
Context (GetCompanyList gives the IDs); a GetList answers summaries matching the criteria's
restrictions, at most `LIST_LIMIT` of them, silently cut (callers narrow the criteria); full objects
come from Get…ByKey; UpdateVendor takes a Policy from GetPolicyByOperation; a refused call is a SOAP
fault whose validation details are logged under a GUID that GetLoggedValidationResultByKey returns.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sandbox.gp.company import GPCompany
from sandbox.gp.store import GPFault, Record, norm_key, parse_stamp

from . import objects

LIST_LIMIT = 1000
Params = dict[str, Any]


class WSFault(Exception):
    """A SOAP fault. `validation` messages are logged under `log_id` for GetLoggedValidationResultByKey."""

    def __init__(self, message: str, validation: list[str] | None = None, code: str = "Client") -> None:
        super().__init__(message)
        self.message, self.validation, self.code = message, validation or [], code
        self.log_id: str | None = None


class ValidationLog:
    """GP's exception log: validation results by log ID (kept for the sandbox's life)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[str, dict[str, Any]] = {}

    def log(self, fault: WSFault) -> str:
        log_id = str(uuid.uuid4())
        with self._lock:
            self._results[log_id] = {
                "Errors": {
                    "ValidationError": [
                        {"Id": str(n), "Message": m}
                        for n, m in enumerate(fault.validation or [fault.message], start=1)
                    ]
                },
                "Warnings": {"ValidationError": []},
            }
        fault.log_id = log_id
        return log_id

    def get(self, log_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._results.get(log_id.strip().lower())


# --- restrictions ----------------------------------------------------------------------------------
def _text(value: Any) -> str:
    return norm_key(str(value or ""))


def _like(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in norm_key(pattern))
    return re.fullmatch(regex, value, flags=re.S) is not None


def string_matches(r: Params | None, value: Any) -> bool:
    if not r:
        return True
    v = _text(value)
    if r.get("EqualValue") is not None and v != _text(r["EqualValue"]):
        return False
    if r.get("NotEqualValue") is not None and v == _text(r["NotEqualValue"]):
        return False
    items = (r.get("Items") or {}).get("string") if isinstance(r.get("Items"), dict) else None
    if items and v not in {_text(i) for i in items}:
        return False
    if r.get("From") is not None and v < _text(r["From"]):
        return False
    if r.get("To") is not None and v > _text(r["To"]):
        return False
    return not (r.get("Like") is not None and not _like(r["Like"], v))


def _moment(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return parse_stamp(str(value))


def datetime_matches(r: Params | None, value: Any) -> bool:
    if not r:
        return True
    v = _moment(objects.when(value))
    checks: list[tuple[str, Callable[[dt.datetime, dt.datetime], bool]]] = [
        ("EqualValue", lambda a, b: a == b),
        ("NotEqualValue", lambda a, b: a != b),
        ("From", lambda a, b: a >= b),
        ("To", lambda a, b: a <= b),
        ("GreaterThan", lambda a, b: a > b),
        ("LessThan", lambda a, b: a < b),
    ]
    for name, ok in checks:
        bound = _moment(r.get(name))
        if bound is not None and (v is None or not ok(v, bound)):
            return False
    return True


def enum_matches(r: Params | None, value: Any, items_name: str) -> bool:
    if not r:
        return True
    if r.get("EqualValue") is not None and value != r["EqualValue"]:
        return False
    if r.get("NotEqualValue") is not None and value == r["NotEqualValue"]:
        return False
    items = (r.get("Items") or {}).get(items_name) if isinstance(r.get("Items"), dict) else None
    return not (items and value not in items)


def bool_matches(r: Params | None, value: bool) -> bool:
    if not r:
        return True
    return not (
        (r.get("EqualValue") is not None and value != r["EqualValue"])
        or (r.get("NotEqualValue") is not None and value == r["NotEqualValue"])
    )


def _id(value: Any) -> str:
    return str(value.get("Id", "") if isinstance(value, dict) else value or "")


def select(company: GPCompany, table: str, criteria: Params, match: Callable[[Record], bool]) -> list[Record]:
    """Matching records in key order, at most LIST_LIMIT. ModifiedDate is not an index in GP: a
    `From` only narrows the scan here; the cut at LIST_LIMIT is GP's, silent."""
    since_r = criteria.get("ModifiedDate") or {}
    since = _moment(since_r.get("From") or since_r.get("GreaterThan"))
    store = company.tables[table]
    frozen = repr(sorted((k, repr(v)) for k, v in criteria.items()))
    rows, _ = store.query(
        objects.when(since.strftime("%Y-%m-%dT%H:%M:%SZ")) if since else None,
        match,
        ("ws", table, frozen),
        0,
        len(store) + 1,
    )
    rows.sort(key=lambda r: _text(_id(r["Key"])))
    return rows[:LIST_LIMIT]


# --- operations --------------------------------------------------------------------------------------
class Service:
    """The operations, for one sandbox app (its companies, users and validation log)."""

    def __init__(self) -> None:
        self.validation_log = ValidationLog()
        self._gl_categories: dict[str, int] = {}

    def call(self, operation: str, company: GPCompany, params: Params) -> Any:
        handler = getattr(self, f"op_{operation}", None)
        if handler is None:
            raise WSFault(f"The operation {operation} is not supported by this service.", code="Client")
        try:
            return handler(company, params)
        except GPFault as fault:  # the shared company's rules, in GP Web Services words
            raise WSFault(fault.message, validation=[fault.message]) from None

    def op_GetVendorList(self, company: GPCompany, p: Params) -> Any:
        c = p.get("criteria") or {}

        def match(r: Record) -> bool:
            return (
                string_matches(c.get("Id"), _id(r["Key"]))
                and string_matches(c.get("Name"), r.get("Name"))
                and string_matches(c.get("ClassId"), _id(r.get("ClassKey")))
                and bool_matches(c.get("IsActive"), r.get("Status") == "Active")
                and bool_matches(c.get("IsOnHold"), bool(r.get("IsOnHold")))
                and datetime_matches(c.get("CreatedDate"), r.get("CreatedDate"))
                and datetime_matches(c.get("ModifiedDate"), r.get("ModifiedDate"))
            )

        return {"VendorSummary": [objects.vendor_summary(r) for r in select(company, "Vendors", c, match)]}

    def op_GetVendorByKey(self, company: GPCompany, p: Params) -> Any:
        key = _id(p.get("key"))
        record = company.tables["Vendors"].get(key)
        if record is None:
            raise WSFault(f"The vendor '{key}' was not found.", validation=[f"Vendor {key} was not found."])
        return objects.vendor(record)

    def op_UpdateVendor(self, company: GPCompany, p: Params) -> Any:
        if not (p.get("policy") or {}).get("Key", {}).get("Id"):
            raise WSFault(
                "A policy is required: get it with GetPolicyByOperation('UpdateVendor').",
                validation=["The policy parameter is required."],
            )
        vendor = p.get("vendor") or {}
        key = _id(vendor.get("Key"))
        if not key or company.tables["Vendors"].get(key) is None:
            raise WSFault(f"The vendor '{key}' was not found.", validation=[f"Vendor {key} was not found."])
        patch = objects.vendor_patch(vendor)
        if patch:
            company.patch_vendor(key, patch)
        return None

    def _documents(
        self, company: GPCompany, table: str, c: Params, extra: Callable[[Record], bool]
    ) -> list[Record]:
        def match(r: Record) -> bool:
            return (
                string_matches(c.get("DocumentId"), _id(r["Key"]))
                and datetime_matches(c.get("Date"), r.get("Date"))
                and string_matches(c.get("VendorId"), _id(r.get("VendorKey")))
                and string_matches(c.get("BatchId"), _id(r.get("BatchKey")))
                and datetime_matches(c.get("ModifiedDate"), r.get("ModifiedDate"))
                and enum_matches(
                    c.get("TransactionState"), r.get("TransactionState"), "PayablesTransactionState"
                )
                and extra(r)
            )

        return select(company, table, c, match)

    def _vendor_name(self, company: GPCompany, r: Record) -> str:
        vendor = company.tables["Vendors"].get(_id(r.get("VendorKey")))
        return vendor["Name"] if vendor else ""

    def op_GetPayablesDocumentList(self, company: GPCompany, p: Params) -> Any:
        c = p.get("criteria") or {}
        rows = self._documents(
            company,
            "PayablesInvoices",
            c,
            lambda r: enum_matches(c.get("Type"), r.get("DocumentType"), "PayablesDocumentType"),
        )
        return {
            "PayablesDocumentSummary": [
                {**objects.document_summary(r, self._vendor_name(company, r)), "Type": r.get("DocumentType")}
                for r in rows
            ]
        }

    def op_GetPayablesInvoiceList(self, company: GPCompany, p: Params) -> Any:
        rows = self._documents(
            company,
            "PayablesInvoices",
            p.get("criteria") or {},
            lambda r: r.get("DocumentType", "Invoice") == "Invoice",
        )
        return {
            "PayablesInvoiceSummary": [
                objects.document_summary(r, self._vendor_name(company, r)) for r in rows
            ]
        }

    def op_GetPayablesInvoiceByKey(self, company: GPCompany, p: Params) -> Any:
        key = _id(p.get("key"))
        record = company.tables["PayablesInvoices"].get(key)
        if record is None or record.get("DocumentType", "Invoice") != "Invoice":
            raise WSFault(
                f"The payables invoice '{key}' was not found.", validation=[f"Invoice {key} was not found."]
            )
        credits = sum(
            (
                Decimal(a["amount"])
                for a in list(company.applied)
                if norm_key(str(a.get("voucher") or "")) == norm_key(_id(record["Key"]))
                and a.get("kind") == "credit"
            ),
            Decimal(0),
        )
        return objects.invoice(record, self._vendor_name(company, record), credits)

    def op_GetPostedPayablesVendorPaymentsList(self, company: GPCompany, p: Params) -> Any:
        c = p.get("criteria") or {}
        if c.get("Scope") not in ("Return All", "Return Based on VendorId"):
            raise WSFault(
                "Scope is required.", validation=["Scope must be 'Return All' or 'Return Based on VendorId'."]
            )
        rows = self._documents(company, "PayablesPayments", c, lambda r: r.get("TransactionState") != "Work")
        return {
            "PostedPayablesVendorPaymentSummary": [
                objects.posted_payment_summary(r, self._vendor_name(company, r)) for r in rows
            ]
        }

    def op_GetGLAccountList(self, company: GPCompany, p: Params) -> Any:
        c = p.get("criteria") or {}
        rows = select(
            company,
            "GLAccounts",
            c,
            lambda r: (
                string_matches(c.get("Id"), _id(r["Key"]))
                and datetime_matches(c.get("ModifiedDate"), r.get("ModifiedDate"))
            ),
        )
        return {"GLAccountSummary": [objects.gl_account_summary(r, self._gl_categories) for r in rows]}

    def op_GetCheckbookList(self, company: GPCompany, p: Params) -> Any:
        c = p.get("criteria") or {}
        rows = select(
            company,
            "Checkbooks",
            c,
            lambda r: (
                string_matches(c.get("Id"), _id(r["Key"]))
                and datetime_matches(c.get("ModifiedDate"), r.get("ModifiedDate"))
            ),
        )
        return {"CheckbookSummary": [objects.checkbook_summary(r) for r in rows]}

    def op_GetPolicyByOperation(self, company: GPCompany, p: Params) -> Any:
        name = str(p.get("operationName") or "")
        if name != "UpdateVendor":
            raise WSFault(
                f"No policy is defined for the operation '{name}'.", validation=[f"Unknown operation {name}."]
            )
        return {
            "Key": {"Id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"gp-policy:{name}"))},
            "Behaviors": {"Behavior": []},
        }

    def op_GetLoggedValidationResultByKey(self, company: GPCompany, p: Params) -> Any:
        result = self.validation_log.get(str(p.get("logId") or ""))
        if result is None:
            raise WSFault("No logged validation result has this log ID.")
        return result

"""Build complete Part B records from a few facts; the seeds and the control API's inserts share these."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from .store import EMPTY_DATE, GPFault, Record, money, norm_key, parse_stamp, stamp, to_decimal

ZERO = Decimal("0")
PAYABLES_ACCOUNT = "000-2100-00"
DEFAULT_ACCOUNTS = {
    "Purchase": "000-6100-00",
    "Freight": "000-6500-00",
    "Tax": "000-6600-00",
    "Misc": "000-6700-00",
    "Discount": "000-4910-00",
}
# Lengths GP's web services truncate to, silently (Part A).
MAX_LENGTHS = {
    "Name": 64,
    "ShortName": 15,
    "CheckName": 64,
    "TaxIdNumber": 11,
    "VendorDocumentNumber": 20,
    "Description": 30,
    "PONumber": 17,
    "DocumentNumber": 20,
    "Line1": 61,
    "Line2": 61,
    "Line3": 61,
    "City": 35,
    "State": 29,
    "PostalCode": 11,
    "Phone1": 21,
    "Email": 80,
    "ContactPerson": 61,
}
MAX_KEY = {"Vendors": 15, "PayablesInvoices": 17, "PayablesPayments": 17, "PayablesApplies": 17}


def truncate(field: str, value: Any) -> Any:
    limit = MAX_LENGTHS.get(field)
    return value[:limit] if limit and isinstance(value, str) else value


def check_key(table: str, key: Any) -> str:
    """A new record's key: present, upper-cased, within GP's length (keys are refused, not truncated)."""
    if isinstance(key, dict):
        key = key.get("Id")
    if not isinstance(key, str) or not key.strip():
        raise GPFault(400, "MissingKey", "The record key (Key.Id) is required.")
    key = norm_key(key)
    if len(key) > MAX_KEY.get(table, 30):
        raise GPFault(400, "KeyTooLong", f"'{key}' is longer than {MAX_KEY[table]} characters.")
    return key


def date_stamp(value: str | dt.date | None) -> str:
    if value is None or value == "":
        return EMPTY_DATE
    if isinstance(value, dt.date):
        return f"{value.isoformat()[:10]}T00:00:00Z"
    return stamp(parse_stamp(value))


def build_address(
    line1: str = "",
    city: str = "",
    state: str = "",
    postal_code: str = "",
    country: str = "US",
    *,
    key: str = "PRIMARY",
    line2: str = "",
    line3: str = "",
    contact: str = "",
    phone: str = "",
    email: str = "",
) -> Record:
    return {
        "Key": {"Id": key},
        "ContactPerson": contact,
        "Line1": line1,
        "Line2": line2,
        "Line3": line3,
        "City": city,
        "State": state,
        "PostalCode": postal_code,
        "CountryCode": country,
        "Phone1": phone,
        "Email": email,
    }


def build_vendor(
    key: str,
    name: str,
    *,
    modified: str,
    status: str = "Active",
    on_hold: bool = False,
    tax_id: str = "",
    short_name: str | None = None,
    check_name: str | None = None,
    class_id: str = "USA-US-M",
    terms: str = "Net 30",
    address: Record | None = None,
    created: str | None = None,
) -> Record:
    address = address or build_address()
    return {
        "Key": {"Id": norm_key(key)},
        "Name": truncate("Name", name),
        "ShortName": truncate("ShortName", short_name if short_name is not None else name.upper()),
        "CheckName": truncate("CheckName", check_name if check_name is not None else name),
        "ClassKey": {"Id": class_id},
        "Status": status,
        "IsOnHold": on_hold,
        "TaxIdNumber": tax_id,
        "PaymentTermsKey": {"Id": terms},
        "DefaultAddressKey": address["Key"],
        "RemitToAddressKey": address["Key"],
        "Addresses": [address],
        "CreatedDate": created or modified,
        "ModifiedDate": modified,
    }


def distributions(inv: Record, purchase_lines: list[tuple[str, Any]] | None = None) -> list[Record]:
    """Balanced distributions for an invoice: debits for what was bought, a credit to payables."""
    amount = {
        name: to_decimal(inv[field])
        for name, field in (
            ("Purchase", "PurchasesAmount"),
            ("Freight", "FreightAmount"),
            ("Tax", "TaxAmount"),
            ("Misc", "MiscellaneousAmount"),
            ("Discount", "TradeDiscountAmount"),
        )
    }
    lines = purchase_lines or [(DEFAULT_ACCOUNTS["Purchase"], amount["Purchase"])]
    credit_memo = inv["DocumentType"] in ("CreditMemo", "Return")
    currency, digits = inv["DocumentAmount"]["Currency"], inv["DocumentAmount"]["DecimalDigits"]

    def line(account: str, kind: str, value: Decimal, is_debit: bool, reference: str) -> Record:
        is_debit = is_debit != credit_memo  # a credit memo reverses every line
        return {
            "GLAccountKey": {"Id": account},
            "DistributionType": kind,
            "DebitAmount": money(value if is_debit else ZERO, currency, digits),
            "CreditAmount": money(ZERO if is_debit else value, currency, digits),
            "Reference": reference,
        }

    out = [line(acct, "Purchase", to_decimal(value), True, inv["Description"]) for acct, value in lines]
    for kind in ("Freight", "Tax", "Misc"):
        if amount[kind]:
            out.append(line(DEFAULT_ACCOUNTS[kind], kind, amount[kind], True, kind))
    if amount["Discount"]:
        out.append(
            line(DEFAULT_ACCOUNTS["Discount"], "Discount", amount["Discount"], False, "Trade discount")
        )
    out.append(line(PAYABLES_ACCOUNT, "Payable", to_decimal(inv["DocumentAmount"]), False, "Payables"))
    return out


def recompute(inv: Record, regenerate_distributions: bool = True) -> Record:
    """Document amount = purchases + misc + tax + freight − trade discount; remaining keeps what was paid."""
    old_doc = to_decimal(inv["DocumentAmount"]) if inv.get("DocumentAmount") else None
    old_rem = to_decimal(inv["CurrentTransactionAmount"]) if inv.get("CurrentTransactionAmount") else None
    parts = [
        to_decimal(inv[f]) for f in ("PurchasesAmount", "MiscellaneousAmount", "TaxAmount", "FreightAmount")
    ]
    doc = sum(parts, ZERO) - to_decimal(inv["TradeDiscountAmount"])
    currency, digits = inv.get("CurrencyKey", {}).get("Id", "USD"), inv.get("DecimalDigits", 2)
    for field in (
        "PurchasesAmount",
        "MiscellaneousAmount",
        "TaxAmount",
        "FreightAmount",
        "TradeDiscountAmount",
    ):
        inv[field] = money(inv[field], currency, digits)
    paid = (old_doc - old_rem) if old_doc is not None and old_rem is not None else ZERO
    inv["DocumentAmount"] = money(doc, currency, digits)
    remaining = ZERO if inv.get("IsVoided") else max(doc - paid, ZERO)
    inv["CurrentTransactionAmount"] = money(remaining, currency, digits)
    if regenerate_distributions:
        inv["Distributions"] = distributions(inv)
    return inv


def build_invoice(
    voucher: str,
    vendor: str,
    *,
    modified: str,
    date: str,
    purchases: Any,
    freight: Any = 0,
    tax: Any = 0,
    misc: Any = 0,
    discount: Any = 0,
    state: str = "Open",
    workflow: str = "Approved",
    doc_type: str = "Invoice",
    doc_number: str = "",
    description: str = "",
    due_date: str | None = None,
    batch: str = "",
    po: str = "",
    on_hold: bool = False,
    voided: bool = False,
    paid: Any = 0,
    currency: str = "USD",
    purchase_lines: list[tuple[str, Any]] | None = None,
    created: str | None = None,
) -> Record:
    when = parse_stamp(date)
    inv: Record = {
        "Key": {"Id": norm_key(voucher)},
        "VendorKey": {"Id": norm_key(vendor)},
        "DocumentType": doc_type,
        "VendorDocumentNumber": truncate("VendorDocumentNumber", doc_number or voucher),
        "Description": truncate("Description", description),
        "Date": date_stamp(date),
        "DueDate": date_stamp(due_date) if due_date else date_stamp((when + dt.timedelta(days=30)).date()),
        "PostingDate": EMPTY_DATE if state == "Work" else date_stamp(date),
        "BatchKey": {"Id": batch},
        "PONumber": po,
        "CurrencyKey": {"Id": currency},
        "DecimalDigits": 2,
        "PurchasesAmount": purchases,
        "TradeDiscountAmount": discount,
        "FreightAmount": freight,
        "MiscellaneousAmount": misc,
        "TaxAmount": tax,
        "TransactionState": state,
        "WorkflowStatus": workflow,
        "IsOnHold": on_hold,
        "IsVoided": voided,
        "CreatedDate": created or modified,
        "ModifiedDate": modified,
    }
    recompute(inv, regenerate_distributions=False)
    remaining = ZERO if voided else to_decimal(inv["DocumentAmount"]) - to_decimal(paid)
    inv["CurrentTransactionAmount"] = money(remaining, currency)
    inv["Distributions"] = distributions(inv, purchase_lines)
    return inv

"""The sandbox's company records (Part B dicts, shared with the SBA sandbox) as GP Web Services objects.

Web Services shows less than SBA: a payables document has no hold flag, no workflow status and no
unapplied ("current transaction") amount; distributions carry an integer DistributionTypeKey. These
conversions drop what the Web Services object model does not have, so the sandbox shows what a real
Web Services client would see (docs/gp_web_services.md): a held invoice looks like any other.
What it does document on a payables invoice is served: TotalPayments ("the total of all payments on the
document": here what checks and payments applied, i.e. the document amount less the current amount less
credit memos applied, which are not payments), WriteoffAmount and Terms.DiscountTakenAmount (0: the
sandbox takes no writeoffs or terms discounts).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.gp.store import EMPTY_DATE, Record, to_decimal

Obj = dict[str, Any]
# DistributionTypeKey.Id values (GP's PM distribution types); SBA's names on the left.
DISTRIBUTION_TYPE_IDS = {
    "Cash": 1,
    "Payable": 2,
    "Discount": 3,
    "Writeoff": 5,
    "Purchase": 6,
    "Tax": 7,
    "Freight": 8,
    "Misc": 9,
    "Other": 11,
    "Rounding": 12,
}


def _id(value: Any) -> str:
    return str(value.get("Id", "") if isinstance(value, dict) else value or "")


def when(value: Any) -> str | None:
    """A Part B stamp as xs:dateTime, or None (xsi:nil) for GP's empty date."""
    text = str(value or "")
    return None if not text or text == EMPTY_DATE else text


def money(value: Any) -> Obj:
    if isinstance(value, dict):
        return {
            "Currency": value.get("Currency", "USD"),
            "Value": to_decimal(value),
            "DecimalDigits": value.get("DecimalDigits", 2),
        }
    return {"Currency": "USD", "Value": to_decimal(value), "DecimalDigits": 2}


def vendor_summary(r: Record) -> Obj:
    return {
        "Key": {"Id": _id(r["Key"])},
        "Name": r["Name"],
        "ClassKey": {"Id": _id(r.get("ClassKey"))},
        "CreatedDate": when(r.get("CreatedDate")),
        "ModifiedDate": when(r.get("ModifiedDate")),
        "IsOnHold": bool(r.get("IsOnHold")),
        "IsActive": r.get("Status") == "Active",
        "IsOneTime": r.get("Status") == "Temporary",
    }


def vendor(r: Record) -> Obj:
    return {
        "Key": {"Id": _id(r["Key"])},
        "Name": r["Name"],
        "ShortName": r.get("ShortName", ""),
        "CheckName": r.get("CheckName", ""),
        "ClassKey": {"Id": _id(r.get("ClassKey"))},
        "Status": r.get("Status"),
        "IsOnHold": bool(r.get("IsOnHold")),
        "TaxIdentificationNumber": r.get("TaxIdNumber", ""),
        "PaymentTermsKey": {"Id": _id(r.get("PaymentTermsKey"))},
        "DefaultAddressKey": {"Id": _id(r.get("DefaultAddressKey"))},
        "RemitToAddressKey": {"Id": _id(r.get("RemitToAddressKey"))},
        "Addresses": {"VendorAddress": [_address(a) for a in r.get("Addresses") or []]},
        "CreatedDate": when(r.get("CreatedDate")),
        "ModifiedDate": when(r.get("ModifiedDate")),
    }


def _address(a: Record) -> Obj:
    return {
        "Key": {"Id": _id(a.get("Key"))},
        "ContactPerson": a.get("ContactPerson", ""),
        "Line1": a.get("Line1", ""),
        "Line2": a.get("Line2", ""),
        "Line3": a.get("Line3", ""),
        "City": a.get("City", ""),
        "State": a.get("State", ""),
        "PostalCode": a.get("PostalCode", ""),
        "CountryRegion": a.get("CountryCode", ""),
        "Phone1": {"Value": a.get("Phone1", "")},
        "EmailAddress": a.get("Email", ""),
    }


def vendor_patch(v: Obj) -> Record:
    """An UpdateVendor `vendor` as a Part B patch: an element left out (None) keeps GP's value."""
    simple = {
        "Name": "Name",
        "ShortName": "ShortName",
        "CheckName": "CheckName",
        "Status": "Status",
        "IsOnHold": "IsOnHold",
        "TaxIdentificationNumber": "TaxIdNumber",
    }
    patch: Record = {sba: v[ws] for ws, sba in simple.items() if v.get(ws) is not None}
    for ws in ("ClassKey", "PaymentTermsKey", "DefaultAddressKey", "RemitToAddressKey"):
        if v.get(ws) and v[ws].get("Id") is not None:
            patch[ws] = {"Id": v[ws]["Id"]}
    addresses = ((v.get("Addresses") or {}).get("VendorAddress")) or []
    if addresses:
        names = {
            "ContactPerson": "ContactPerson",
            "Line1": "Line1",
            "Line2": "Line2",
            "Line3": "Line3",
            "City": "City",
            "State": "State",
            "PostalCode": "PostalCode",
            "CountryRegion": "CountryCode",
            "EmailAddress": "Email",
        }
        patch["Addresses"] = []
        for a in addresses:
            change: Record = {"Key": {"Id": _id(a.get("Key")) or "PRIMARY"}}
            change.update({sba: a[ws] for ws, sba in names.items() if a.get(ws) is not None})
            if a.get("Phone1") and a["Phone1"].get("Value") is not None:
                change["Phone1"] = a["Phone1"]["Value"]
            patch["Addresses"].append(change)
    return patch


def _document_base(r: Record) -> Obj:
    return {
        "Key": {"Id": _id(r["Key"])},
        "VendorKey": {"Id": _id(r.get("VendorKey"))},
        "BatchKey": {"Id": _id(r.get("BatchKey"))},
        "CurrencyKey": {"ISOCode": _id(r.get("CurrencyKey")) or "USD"},
        "Date": when(r.get("Date")),
        "ModifiedDate": when(r.get("ModifiedDate")),
        "TransactionState": r.get("TransactionState"),
    }


def document_summary(r: Record, vendor_name: str = "") -> Obj:
    out = _document_base(r)
    out.update(
        {
            "VendorName": vendor_name,
            "DocumentAmount": money(r["DocumentAmount"]),
            "TradeDiscountAmount": money(r["TradeDiscountAmount"]),
            "FreightAmount": money(r["FreightAmount"]),
            "MiscellaneousAmount": money(r["MiscellaneousAmount"]),
            "TaxAmount": money(r["TaxAmount"]),
        }
    )
    return out


def total_payments(r: Record, credits: Decimal = Decimal(0)) -> Decimal:
    """What payments applied to the voucher: all it no longer owes but credit memos (a voided one: none)."""
    if r.get("IsVoided"):
        return Decimal(0)
    return max(
        to_decimal(r["DocumentAmount"]) - to_decimal(r["CurrentTransactionAmount"]) - credits, Decimal(0)
    )


def invoice(r: Record, vendor_name: str = "", credits: Decimal = Decimal(0)) -> Obj:
    dists = []
    for n, d in enumerate(r.get("Distributions") or [], start=1):
        dists.append(
            {
                "Key": {"SequenceNumber": n * 16384},
                "GLAccountKey": {"Id": _id(d.get("GLAccountKey"))},
                "DistributionTypeKey": {"Id": DISTRIBUTION_TYPE_IDS.get(d.get("DistributionType", ""), 11)},
                "DebitAmount": money(d["DebitAmount"]),
                "CreditAmount": money(d["CreditAmount"]),
                "Reference": d.get("Reference", ""),
            }
        )
    return {
        "Key": {"Id": _id(r["Key"])},
        "VendorDocumentNumber": r.get("VendorDocumentNumber", ""),
        "DocumentAmount": money(r["DocumentAmount"]),
        "Date": when(r.get("Date")),
        "GeneralLedgerPostingDate": when(r.get("PostingDate")),
        "PurchasesAmount": money(r["PurchasesAmount"]),
        "Description": r.get("Description", ""),
        "TradeDiscountAmount": money(r["TradeDiscountAmount"]),
        "TaxAmount": money(r["TaxAmount"]),
        "FreightAmount": money(r["FreightAmount"]),
        "MiscellaneousAmount": money(r["MiscellaneousAmount"]),
        "PONumber": r.get("PONumber", ""),
        "Type": r.get("DocumentType", "Invoice"),
        "TransactionState": r.get("TransactionState"),
        "VendorName": vendor_name,
        "ModifiedDate": when(r.get("ModifiedDate")),
        "IsVoided": bool(r.get("IsVoided")),
        "BatchKey": {"Id": _id(r.get("BatchKey"))},
        "VendorKey": {"Id": _id(r.get("VendorKey"))},
        "CurrencyKey": {"ISOCode": _id(r.get("CurrencyKey")) or "USD"},
        "Distributions": {"PayablesDistribution": dists},
        "Terms": {
            "DueDate": when(r.get("DueDate")),
            "DiscountDate": None,
            "DiscountAvailableAmount": money(0),
            "DiscountTakenAmount": money(0),
        },
        "WriteoffAmount": money(0),
        "TotalPayments": money(total_payments(r, credits)),
        "PaymentTermsKey": {"Id": ""},
    }


def posted_payment_summary(r: Record, vendor_name: str = "") -> Obj:
    out = _document_base(r)
    amount = money(r["Amount"])
    zero = money(Decimal(0))
    out.update(
        {
            "VendorName": vendor_name,
            "DocumentAmount": amount,
            "TradeDiscountAmount": zero,
            "FreightAmount": zero,
            "MiscellaneousAmount": zero,
            "TaxAmount": zero,
            "VendorDocumentNumber": r.get("DocumentNumber", ""),
            "CheckbookKey": {"Id": _id(r.get("CheckbookKey"))},
        }
    )
    return out


def gl_account_summary(r: Record, category_ids: dict[str, int]) -> Obj:
    category = str(r.get("Category", ""))
    return {
        "Key": {"Id": _id(r["Key"])},
        "Description": r.get("Description", ""),
        "CategoryKey": {"Id": category_ids.setdefault(category, len(category_ids) + 1)},
        "IsActive": bool(r.get("IsActive")),
        "IsPostingAccount": bool(r.get("AllowAccountEntry")),
        "ModifiedDate": when(r.get("ModifiedDate")),
    }


def checkbook_summary(r: Record) -> Obj:
    return {
        "Key": {"Id": _id(r["Key"])},
        "Description": r.get("Description", ""),
        "CurrencyKey": {"ISOCode": _id(r.get("CurrencyKey")) or "USD"},
        "IsInactive": bool(r.get("IsInactive")),
        "ModifiedDate": when(r.get("ModifiedDate")),
    }

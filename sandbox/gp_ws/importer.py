"""What a GP user does with the connector's manual-payments file: import it into a Payables Manual
Payment batch (Integration Manager, or eConnect's taPMManualCheck/taPMApply behind it) and post it.

The file layout (one row per apply line, header fields repeated; a payment is the rows sharing its
Payment Number) is the connector's (`connectors/gp/soap/manual_payments.py`), documented in the README.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.gp.company import GPCompany
from sandbox.gp.store import GPFault

COLUMNS = (
    "Batch ID",
    "Payment Number",
    "Vendor ID",
    "Document Date",
    "Checkbook ID",
    "Payment Method",
    "Document Number",
    "Payment Amount",
    "Apply To Voucher",
    "Apply Amount",
    "BILL Payment ID",
)
METHODS = {
    "CHECK": "Check",
    "EFT": "EFT",
    "CASH": "Cash",
    "CREDIT CARD": "CreditCard",
    "CREDITCARD": "CreditCard",
}


def import_manual_payments(company: GPCompany, text: str) -> dict[str, Any]:
    """Create and post the payments in the file; a payment GP refuses is reported, the rest go on."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"The file has no column {missing[0]!r}; expected: {', '.join(COLUMNS)}.")
    payments: dict[str, dict[str, Any]] = {}
    for row in reader:
        number = row["Payment Number"].strip()
        try:
            apply_amount = Decimal(row["Apply Amount"])
            amount = Decimal(row["Payment Amount"])
        except InvalidOperation:
            raise ValueError(f"Payment {number}: an amount is not a number.") from None
        p = payments.setdefault(
            number,
            {
                "Key": {"Id": number},
                "VendorKey": {"Id": row["Vendor ID"]},
                "CheckbookKey": {"Id": row["Checkbook ID"]},
                "PaymentMethod": METHODS.get(row["Payment Method"].strip().upper(), row["Payment Method"]),
                "DocumentNumber": row["Document Number"],
                "Date": row["Document Date"],
                "Amount": amount,
                "BatchKey": {"Id": row["Batch ID"]},
                "ApplyTo": [],
            },
        )
        p["ApplyTo"].append({"VoucherKey": {"Id": row["Apply To Voucher"]}, "Amount": apply_amount})
    imported, errors, batches = [], [], set()
    for number, body in payments.items():
        try:
            company.create_payment(body)
        except GPFault as fault:
            errors.append({"payment": number, "error": fault.message})
            continue
        imported.append(number)
        batches.add(body["BatchKey"]["Id"])
    for batch in sorted(batches):
        company.post_batch("PM_Payment", batch)
    return {"imported": imported, "errors": errors, "batches_posted": sorted(batches)}

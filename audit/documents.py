"""The document a ledger row stands for, as a clerk names it: vendor, invoice number, dates, amount.

The flows note these facts when they read a GP invoice or a BILL payment, so the lists can show
columns and money totals without reading GP or BILL again. Written only when they change (one UPDATE,
without touching `updated_at`, so the ledger's compare-and-set on it is not disturbed).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from .models import SyncRecord

FACT_FIELDS = ("gp_vendor", "document_number", "document_date", "due_date", "amount", "currency")


def _valid(day: Any) -> date | None:
    return day if isinstance(day, date) and 1900 < day.year < 2200 else None


def note(record: SyncRecord, **facts: Any) -> None:
    """Store the given facts on the row if they differ from what it holds (in memory too)."""
    changed = {}
    for name, value in facts.items():
        if name not in FACT_FIELDS:
            raise ValueError(f"not a document fact: {name}")
        if name in ("document_date", "due_date"):
            value = _valid(value)
        elif name == "amount":
            value = None if value is None else Decimal(value)
        else:
            value = (value or "")[: SyncRecord._meta.get_field(name).max_length]
        if getattr(record, name) != value:
            changed[name] = value
    if not changed:
        return
    for name, value in changed.items():
        setattr(record, name, value)
    if record.pk is not None:
        SyncRecord.objects.filter(pk=record.pk).update(**changed)


def note_invoice(record: SyncRecord, invoice: Any) -> None:
    """A GP payables invoice: its vendor, the vendor's own invoice number, dates and document amount."""
    note(
        record,
        gp_vendor=invoice.vendor_id,
        document_number=invoice.invoice_number,
        document_date=invoice.date,
        due_date=invoice.due_date,
        amount=invoice.document_amount,
        currency=(invoice.currency or "USD")[:3],
    )


def note_payment(record: SyncRecord, payment: Any, gp_vendor: str = "") -> None:
    """A BILL payment: its amount and date (and the GP vendor once the vouchers it pays are known)."""
    facts: dict[str, Any] = {
        "amount": payment.amount,
        "document_date": payment.process_date,
        "currency": "USD",
    }
    if gp_vendor:
        facts["gp_vendor"] = gp_vendor
    note(record, **facts)

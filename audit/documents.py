"""The document a ledger row stands for, as a clerk names it: vendor, invoice number, dates, amount.

The flows note these facts when they read a GP invoice or a BILL payment, so the lists can show
columns and money totals without reading GP or BILL again. Written only when they change (one UPDATE,
without touching `updated_at`, so the ledger's compare-and-set on it is not disturbed).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Field

from .models import Kind, SyncRecord
from .words import CURRENCY_SIGNS

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
            value = (value or "")[: _max_length(name)]
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


# --- Rows saved before the facts were kept: what their stored label already says -------------------
# The labels the flows wrote: "ACME0001 invoice INV-77 ($7,091.52)" (connectors/sync/bill_payload._label)
# and "BILL payment 00PAY1 ($5,000.00) → GP PMT1" (connectors/sync/payments). Dates are not in them:
# the next sync that reads the invoice notes those.
BILL_LABEL = re.compile(r"^(?P<vendor>\S+) invoice (?P<number>.+) \((?P<money>[^()]+)\)$")
PAYMENT_LABEL = re.compile(r"^BILL payment \S+ \((?P<money>[^()]+)\)")
SIGN_CODES = sorted(((sign, code) for code, sign in CURRENCY_SIGNS.items()), key=lambda sc: -len(sc[0]))


def parse_money(text: str) -> tuple[Decimal, str] | None:
    """ "$7,091.52" → (7091.52, "USD"), "-€12.00", "1,234.56 CHF".

    None when it is not money as we write it."""
    text = text.strip()
    negative = text.startswith("-")
    text = text.removeprefix("-")
    code = ""
    for sign, sign_code in SIGN_CODES:
        if text.startswith(sign):
            text, code = text[len(sign) :], sign_code
            break
    else:
        number, _, code = text.rpartition(" ")
        if not re.fullmatch(r"[A-Z]{3}", code):
            return None
        text = number
    if not re.fullmatch(r"\d{1,3}(,\d{3})*(\.\d+)?", text):
        return None
    amount = Decimal(text.replace(",", ""))
    return (-amount if negative else amount), code


def facts_from_label(kind: str, label: str) -> dict[str, Any]:
    """The document facts a stored label states, or {} when it is not one of the flows' labels."""
    patterns: dict[str, re.Pattern[str]] = {Kind.BILL: BILL_LABEL, Kind.GP_PAYMENT: PAYMENT_LABEL}
    pattern = patterns.get(kind)
    found = pattern.match(label or "") if pattern else None
    money = parse_money(found["money"]) if found else None
    if found is None or money is None:
        return {}
    facts: dict[str, Any] = {"amount": money[0], "currency": money[1]}
    if kind == Kind.BILL:
        facts["gp_vendor"] = found["vendor"][: _max_length("gp_vendor")]
        facts["document_number"] = found["number"][: _max_length("document_number")]
    return facts


def _max_length(name: str) -> int | None:
    """How long a text fact may be (its SyncRecord column)."""
    column = SyncRecord._meta.get_field(name)
    return column.max_length if isinstance(column, Field) else None


def backfill_from_labels(model: Any, batch: int = 1000) -> int:
    """Fill empty document facts of invoice and payment rows from their labels; a payment's GP vendor
    from the invoices it paid (its snapshot lists the vouchers). Only empty facts are written, in
    batches, without touching `updated_at`: safe to run again, and it never overrides what a sync noted.
    `model` is SyncRecord (or its historical version in a migration). Returns the rows filled."""
    filled = 0
    for kind in (Kind.BILL, Kind.GP_PAYMENT):  # invoices first: a payment's vendor is found from them
        rows = (
            model.objects.filter(kind=kind, amount__isnull=True, document_number="")
            .only("id", "tenant_id", "kind", "label", "snapshot", "gp_vendor")
            .order_by("id")
        )
        last = 0
        while chunk := list(rows.filter(id__gt=last)[:batch]):
            last = chunk[-1].id
            changed = []
            for row in chunk:
                facts = facts_from_label(kind, row.label)
                if kind == Kind.GP_PAYMENT and facts and not row.gp_vendor:
                    facts["gp_vendor"] = _paid_vendor(model, row)
                for name, value in facts.items():
                    setattr(row, name, value)
                if facts:
                    changed.append(row)
            if changed:
                model.objects.bulk_update(changed, ["gp_vendor", "document_number", "amount", "currency"])
                filled += len(changed)
    return filled


def _paid_vendor(model: Any, payment: Any) -> str:
    """The one GP vendor of the invoices a payment applied to ("" when none is known, or several)."""
    snap = payment.snapshot if isinstance(payment.snapshot, dict) else {}
    applied = snap.get("applied")
    applied = applied if isinstance(applied, list) else []
    vouchers = [a.get("voucher") for a in applied if isinstance(a, dict) and a.get("voucher")]
    if not vouchers:
        return ""
    vendors = set(
        model.objects.filter(tenant_id=payment.tenant_id, kind=Kind.BILL, source_key__in=vouchers)
        .exclude(gp_vendor="")
        .values_list("gp_vendor", flat=True)
    )
    return vendors.pop() if len(vendors) == 1 else ""

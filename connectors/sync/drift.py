"""Drift report: where GP and BILL disagree, found by reading both in full. Writes nothing.

Open approved GP invoices are compared with BILL bills (tied by the GP voucher in the bill's
description): missing on either side, amount or due date different. Then what BILL has paid on
each bill is compared with what GP has applied to the invoice. The ledger is not trusted here — the
point is to catch what the ledger missed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from audit import waits
from audit.models import Kind, State, SyncRecord
from audit.words import money_text
from connectors.bill.records import BillBill, BillVendorCredit
from connectors.gp.records import GPInvoice
from connectors.models import Tenant

from .context import SyncContext
from .gp_to_bill.bill_payload import is_approved, money, voucher_from_description
from .gp_to_bill.credit_payload import is_credit, is_credit_approved, kind_word

# Each section: its title, columns, which columns hold money (formatted on the page, plain in the CSV), the
# column its total adds up, and its group (money problems first, then missing records, then the rest).
SECTIONS: dict[str, dict[str, Any]] = {
    "amount": {
        "title": "Amount differs",
        "group": "money",
        "columns": ["GP voucher", "Vendor / invoice", "BILL bill", "GP amount", "BILL amount", "Difference"],
        "money": [3, 4, 5],
        "total": 5,
    },
    "due_over_open": {
        "title": "BILL shows more due than GP has open (BILL could pay it twice)",
        "group": "money",
        "columns": ["GP voucher", "Vendor / invoice", "BILL bill", "GP open", "BILL due", "Too much due"],
        "money": [3, 4, 5],
        "total": 5,
    },
    "paid_bill_only": {
        "title": "Paid in BILL only (GP shows nothing applied)",
        "group": "money",
        "columns": ["GP voucher", "Vendor / invoice", "BILL bill", "BILL paid (credits too)", "GP applied"],
        "money": [3, 4],
        "total": 3,
    },
    "paid_gp_only": {
        "title": "Paid in GP only (BILL shows nothing paid)",
        "group": "money",
        "columns": ["GP voucher", "Vendor / invoice", "BILL bill", "BILL paid (credits too)", "GP applied"],
        "money": [3, 4],
        "total": 4,
    },
    "paid": {
        "title": "Paid in both, but different amounts",
        "group": "money",
        "columns": ["GP voucher", "Vendor / invoice", "BILL bill", "BILL paid (credits too)", "GP applied"],
        "money": [3, 4],
        "total": None,
    },
    "credit_over_open": {
        "title": "BILL lets more of a vendor credit be used than GP has left of the credit memo",
        "group": "money",
        "columns": [
            "GP voucher",
            "Vendor / credit memo",
            "BILL credit",
            "GP left to apply",
            "BILL usable",
            "Too much usable",
        ],
        "money": [3, 4, 5],
        "total": 5,
    },
    "credit_missing": {
        "title": "Approved GP credit memo or return, missing in BILL",
        "group": "missing",
        "columns": ["GP voucher", "Vendor / credit memo", "GP amount", "Why"],
        "money": [2],
        "total": 2,
    },
    "missing_in_gp": {
        "title": "In BILL with money due, but not an approved open invoice in GP",
        "group": "missing",
        "columns": ["BILL bill", "GP voucher in its description", "BILL amount", "Why"],
        "money": [2],
        "total": 2,
    },
    "due_date": {
        "title": "Due date differs",
        "group": "other",
        "columns": ["GP voucher", "Vendor / invoice", "BILL bill", "GP due date", "BILL due date"],
        "money": [],
        "total": None,
    },
}
MISSING_COLUMNS = ["GP voucher", "Vendor / invoice", "GP amount", "GP due date"]
MISSING_TITLE = "Approved and open in GP, missing in BILL"
# Why an approved GP invoice is not in BILL, from its ledger row, in the order a clerk would fix them.
MISSING_REASONS = [
    "waiting for a mapping",
    "GP vendor on hold or inactive",
    "failed or outcome unknown (retried by itself)",
    "needs a person",
    "Don't sync chosen",
    "not read by a sync yet",
    "synced before, BILL no longer has it",
    "other",
]


def _missing_reason(record: SyncRecord | None) -> str:
    if record is None:
        return "not read by a sync yet"
    if any(w.kind in (waits.VENDOR, waits.ACCOUNT, *waits.SEGMENT_KINDS) for w in waits.shown(record)):
        return "waiting for a mapping"
    if "on hold" in record.reason or "inactive" in record.reason:
        return "GP vendor on hold or inactive"
    why: dict[str, str] = {
        State.FAILED: "failed or outcome unknown (retried by itself)",
        State.IN_DOUBT: "failed or outcome unknown (retried by itself)",
        State.SENDING: "failed or outcome unknown (retried by itself)",
        State.FLAGGED: "needs a person",
        State.CONFLICT: "needs a person",
        State.SKIPPED: "Don't sync chosen",
        State.SYNCED: "synced before, BILL no longer has it",
    }
    return why.get(record.state, "other")


def drift_report(tenant: Tenant, *, ctx: SyncContext | None = None) -> dict[str, Any]:
    ctx = ctx or SyncContext.for_tenant(tenant, dry_run=True)
    invoices = {i.voucher: i for i in ctx.gp.iter_invoices()}
    bills: dict[str, BillBill] = {}
    for listed in ctx.bill.iter_bills():
        voucher = voucher_from_description(listed.description)
        if voucher and not listed.archived:
            bills[voucher] = listed
    found: dict[str, list[list[str]]] = {key: [] for key in SECTIONS}
    missing: list[tuple[str, list[str]]] = []
    for voucher, invoice in sorted(invoices.items()):
        approved, why = is_approved(invoice, tenant)
        bill = bills.get(voucher)
        digits = invoice.decimal_digits if invoice.decimal_digits is not None else 2
        amount = money(invoice.document_amount, digits)
        label = f"{invoice.vendor_id} {invoice.invoice_number}"
        if approved and bill is None:
            missing.append((voucher, [voucher, label, str(amount), _date(invoice.due_date)]))
            continue
        if bill is None:
            continue
        if not approved and bill.due_amount > 0 and invoice.remaining > 0:
            found["missing_in_gp"].append([bill.id, voucher, str(bill.amount), f"GP: {why}"])
        if bill.amount != amount:
            found["amount"].append(
                [voucher, label, bill.id, str(amount), str(bill.amount), str(bill.amount - amount)]
            )
        if invoice.due_date and bill.due_date and invoice.due_date != bill.due_date:
            found["due_date"].append([voucher, label, bill.id, _date(invoice.due_date), _date(bill.due_date)])
        if due_over_open(invoice, bill):
            found["due_over_open"].append(
                [
                    voucher,
                    label,
                    bill.id,
                    str(gp_open(invoice)),
                    str(bill.due_amount),
                    str(bill.due_amount - gp_open(invoice)),
                ]
            )
        applied = money(invoice.document_amount - invoice.remaining, digits)
        paid = money(
            bill.paid_amount + bill.credit_amount, digits
        )  # a vendor credit used pays it as money does
        if not invoice.is_voided and paid != applied:
            key = "paid_bill_only" if not applied else "paid_gp_only" if not paid else "paid"
            found[key].append([voucher, label, bill.id, str(paid), str(applied)])
    _credits(ctx, tenant, invoices, found)
    for voucher, bill in sorted(bills.items()):
        if voucher not in invoices and bill.due_amount > 0:
            found["missing_in_gp"].append(
                [bill.id, voucher, str(bill.amount), "GP has no invoice with this voucher"]
            )
    sections = [
        _section(key, SECTIONS[key], found[key]) for key in SECTIONS if SECTIONS[key]["group"] == "money"
    ]
    sections += _missing_sections(tenant, missing)
    sections += [
        _section(key, SECTIONS[key], found[key]) for key in SECTIONS if SECTIONS[key]["group"] != "money"
    ]
    return {
        "version": 2,
        "generated_at": timezone.now().isoformat(),
        "summary": _summary(sections, len(invoices), len(bills)),
        "sections": sections,
        "quiet": [_lower_first(s["title"]) for s in sections if not s["rows"]],
    }


def _credits(
    ctx: SyncContext, tenant: Tenant, documents: dict[str, GPInvoice], found: dict[str, list[list[str]]]
) -> None:
    """GP credit memos / returns against BILL vendor credits: missing in BILL, or usable beyond what GP has
    left (BILL could let the vendor's credit be used twice)."""
    memos = {v: d for v, d in documents.items() if is_credit(d)}
    if not memos or not getattr(ctx.gp, "writes_payments", True):  # over Web Services credits stay in GP
        return
    credits: dict[str, BillVendorCredit] = {}
    for listed in ctx.bill.iter_vendor_credits():
        voucher = voucher_from_description(listed.description)
        if voucher and not listed.archived:
            credits[voucher] = listed
    records = {r.source_key: r for r in SyncRecord.objects.filter(tenant=tenant, kind=Kind.VENDOR_CREDIT)}
    for voucher, memo in sorted(memos.items()):
        label = f"{memo.vendor_id} {kind_word(memo)} {memo.invoice_number}"
        credit = credits.get(voucher)
        approved, _why = is_credit_approved(memo, tenant)
        if credit is None:
            if approved:
                found["credit_missing"].append(
                    [voucher, label, str(gp_open(memo)), _missing_reason(records.get(voucher))]
                )
            continue
        left = gp_open(memo)
        if credit.usable > left:
            found["credit_over_open"].append(
                [voucher, label, credit.id, str(left), str(credit.usable), str(credit.usable - left)]
            )


def _section(key: str, spec: dict[str, Any], rows: list[list[str]], title: str = "") -> dict[str, Any]:
    column = spec.get("total")
    total = sum((Decimal(row[column]) for row in rows), Decimal(0)) if column is not None and rows else None
    return {
        "key": key,
        "title": title or spec["title"],
        "group": spec["group"],
        "columns": spec["columns"],
        "money_cols": spec["money"],
        "rows": rows,
        "total": len(rows),
        "more": False,
        "money_total": money_text(total) if total is not None else "",
    }


def _missing_sections(tenant: Tenant, missing: list[tuple[str, list[str]]]) -> list[dict[str, Any]]:
    """Approved GP invoices missing in BILL, grouped by why (from their ledger rows)."""
    records = {
        r.source_key: r
        for r in SyncRecord.objects.filter(
            tenant=tenant, kind=Kind.BILL, source_key__in=[voucher for voucher, _ in missing]
        )
    }
    groups: dict[str, list[list[str]]] = {}
    for voucher, row in missing:
        groups.setdefault(_missing_reason(records.get(voucher)), []).append(row)
    spec = {"group": "missing", "columns": MISSING_COLUMNS, "money": [2], "total": 2}
    return [
        _section("missing_in_bill", spec, groups[reason], title=f"{MISSING_TITLE}: {reason}")
        for reason in MISSING_REASONS
        if reason in groups
    ]


def _lower_first(text: str) -> str:
    """ "Amount differs" → "amount differs"; "BILL shows…" stays (a name, not a capital)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _summary(sections: list[dict[str, Any]], invoices: int, bills: int) -> str:
    problems = [s for s in sections if s["group"] == "money" and s["rows"]]
    missing = [s for s in sections if s["group"] == "missing" and s["rows"]]
    if not problems and not missing and not any(s["rows"] for s in sections):
        return f"GP and BILL agree on all {invoices} GP invoice(s) and {bills} BILL bill(s)."
    parts = []
    count = sum(s["total"] for s in problems)
    parts.append(f"{count} money problem{'s' if count != 1 else ''}" if count else "No money problems")
    count = sum(s["total"] for s in missing)
    if count:
        parts.append(f"{count} record{'s' if count != 1 else ''} missing on one side")
    other = sum(s["total"] for s in sections if s["group"] == "other")
    if other:
        parts.append(f"{other} due date{'s' if other != 1 else ''} differ")
    return "; ".join(parts) + f" (of {invoices} GP invoice(s) and {bills} BILL bill(s))."


def gp_open(invoice: GPInvoice) -> Decimal:
    """What GP still owes on the voucher (nothing once voided), in the currency's decimals."""
    digits = invoice.decimal_digits if invoice.decimal_digits is not None else 2
    return money(Decimal(0) if invoice.is_voided else invoice.remaining, digits)


def due_over_open(invoice: GPInvoice, bill: BillBill) -> bool:
    """The rule at every moment: BILL's amount due on a synced bill is at most GP's open amount."""
    return not bill.archived and bill.due_amount > gp_open(invoice)


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""

"""Drift report: where GP and BILL disagree, found by reading both in full. Writes nothing.

Open approved GP invoices are compared with BILL bills (tied by the GP voucher in the bill's
description): missing on either side, amount or due date different. Then what BILL has paid on
each bill is compared with what GP has applied to the invoice. The ledger is not trusted here — the
point is to catch what the ledger missed.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from connectors.models import Tenant

from .bill_payload import is_approved, money, voucher_from_description
from .context import SyncContext

COLUMNS = {
    "missing_in_bill": ["GP voucher", "Vendor / invoice", "GP amount", "GP due date"],
    "missing_in_gp": ["BILL bill", "GP voucher in its description", "BILL amount", "Why"],
    "amount": ["GP voucher", "BILL bill", "GP amount", "BILL amount"],
    "due_date": ["GP voucher", "BILL bill", "GP due date", "BILL due date"],
    "paid": ["GP voucher", "BILL bill", "BILL paid", "GP applied"],
    "due_over_open": ["GP voucher", "BILL bill", "GP open", "BILL due"],
}
TITLES = {
    "missing_in_bill": "Approved and open in GP, missing in BILL",
    "missing_in_gp": "In BILL with money due, but not an approved open invoice in GP",
    "amount": "Amount differs",
    "due_date": "Due date differs",
    "paid": "BILL paid amount differs from the amount applied in GP",
    "due_over_open": "BILL shows more due than GP has open (BILL could pay it twice)",
}


def drift_report(tenant: Tenant, *, ctx: SyncContext | None = None) -> dict[str, Any]:
    ctx = ctx or SyncContext.for_tenant(tenant, dry_run=True)
    invoices = {i.voucher: i for i in ctx.gp.iter_invoices()}
    bills: dict[str, Any] = {}
    for bill in ctx.bill.iter_bills():
        voucher = voucher_from_description(bill.description)
        if voucher and not bill.archived:
            bills[voucher] = bill
    found: dict[str, list[list[str]]] = {key: [] for key in TITLES}
    for voucher, invoice in sorted(invoices.items()):
        approved, why = is_approved(invoice, tenant)
        bill = bills.get(voucher)
        digits = invoice.decimal_digits if invoice.decimal_digits is not None else 2
        amount = money(invoice.document_amount, digits)
        label = f"{invoice.vendor_id} {invoice.invoice_number}"
        if approved and bill is None:
            found["missing_in_bill"].append([voucher, label, str(amount), _date(invoice.due_date)])
            continue
        if bill is None:
            continue
        if not approved and bill.due_amount > 0 and invoice.remaining > 0:
            found["missing_in_gp"].append([bill.id, voucher, str(bill.amount), f"GP: {why}"])
        if bill.amount != amount:
            found["amount"].append([voucher, bill.id, str(amount), str(bill.amount)])
        if invoice.due_date and bill.due_date and invoice.due_date != bill.due_date:
            found["due_date"].append([voucher, bill.id, _date(invoice.due_date), _date(bill.due_date)])
        if due_over_open(invoice, bill):
            found["due_over_open"].append([voucher, bill.id, str(gp_open(invoice)), str(bill.due_amount)])
        applied = money(invoice.document_amount - invoice.remaining, digits)
        if not invoice.is_voided and money(bill.paid_amount, digits) != applied:
            found["paid"].append([voucher, bill.id, str(bill.paid_amount), str(applied)])
    for voucher, bill in sorted(bills.items()):
        if voucher not in invoices and bill.due_amount > 0:
            found["missing_in_gp"].append([bill.id, voucher, str(bill.amount), "GP has no invoice with this voucher"])
    total = sum(len(rows) for rows in found.values())
    return {
        "generated_at": timezone.now().isoformat(),
        "summary": (f"{total} difference(s) between GP and BILL." if total else
                    f"GP and BILL agree on all {len(invoices)} GP invoice(s) and {len(bills)} BILL bill(s)."),
        "sections": [{"title": TITLES[key], "columns": COLUMNS[key], "rows": rows, "total": len(rows), "more": False}
                     for key, rows in found.items()],
    }


def gp_open(invoice: Any) -> Any:
    """What GP still owes on the voucher (nothing once voided), in the currency's decimals."""
    digits = invoice.decimal_digits if invoice.decimal_digits is not None else 2
    return money(0 if invoice.is_voided else invoice.remaining, digits)


def due_over_open(invoice: Any, bill: Any) -> bool:
    """The rule at every moment: BILL's amount due on a synced bill is at most GP's open amount."""
    return not bill.archived and bill.due_amount > gp_open(invoice)


def _date(value: Any) -> str:
    return value.isoformat() if value else ""

"""Do GP and BILL agree? Counted by reading both systems' APIs, not the ledger.

Used by `demo --once`, the chaos run and the benchmarks: exactly one bill per approved GP invoice (right
amount and lines), exactly one GP payment application per BILL bill payment, and nothing else. A
development tool (connectors.devtools): it is not in the wheel.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from audit.models import Kind, State, SyncRecord
from connectors.models import Tenant
from connectors.sync.bill_to_gp.payment_rules import not_disbursed
from connectors.sync.context import SyncContext
from connectors.sync.drift import due_over_open
from connectors.sync.gp_to_bill.bill_due import open_risks
from connectors.sync.gp_to_bill.bill_payload import (
    build_draft,
    hold_unknown,
    is_approved,
    money,
    voucher_from_description,
)
from connectors.sync.gp_to_bill.credit_payload import is_credit, is_credit_approved
from connectors.sync.keys import apply_key, gp_payment_number


def measure_bills(tenant: Tenant, ctx: SyncContext | None = None) -> dict[str, Any]:
    """Bills against GP's approved invoices. Take it before payments: an invoice BILL has paid in full
    moves to History in GP and is no longer 'approved and open'."""
    ctx = ctx or SyncContext.for_tenant(tenant)
    held_vendors = {v.vendor_id for v in ctx.gp.iter_vendors() if v.is_on_hold or v.status == "Inactive"}
    invoices = {i.voucher: i for i in ctx.gp.iter_invoices()}
    approved = {v: i for v, i in invoices.items() if is_approved(i, tenant)[0]}
    # Over GP Web Services an invoice whose hold GP cannot show waits (visible, not lost) until the tenant
    # accepts sending without a hold check: not missing from BILL.
    waiting_hold = {v for v, i in approved.items() if hold_unknown(i, tenant)}
    payable = {v: i for v, i in approved.items() if i.vendor_id not in held_vendors and v not in waiting_hold}

    bills = [b for b in ctx.bill.iter_bills() if not b.archived]
    per_voucher = Counter(voucher_from_description(b.description) for b in bills)
    ours = {
        voucher_from_description(b.description): b for b in bills if voucher_from_description(b.description)
    }
    # Bad GP data parked for a person is visible, not lost; anything else without a bill is missing.
    parked = set(
        SyncRecord.objects.filter(
            tenant=tenant, kind=Kind.BILL, state__in=[State.FLAGGED, State.SKIPPED]
        ).values_list("source_key", flat=True)
    )
    missing = [v for v in payable if v not in ours and v not in parked]
    wrong_amount = [
        v
        for v, b in ours.items()
        if v in invoices and b.amount != money(invoices[v].document_amount, invoices[v].decimal_digits or 2)
    ]
    wrong_lines = [
        v for v, b in ours.items() if sum((li.amount for li in b.line_items), Decimal(0)) != b.amount
    ]
    due_over = [v for v, b in ours.items() if v in invoices and due_over_open(invoices[v], b)]

    states = Counter(SyncRecord.objects.filter(tenant=tenant).values_list("state", flat=True))
    return {
        "gp_approved_invoices": len(payable),
        "gp_invoices_of_held_vendors": len({v for v, i in approved.items() if i.vendor_id in held_vendors}),
        "gp_invoices_waiting_hold_check": len(waiting_hold),
        "bill_bills": len(ours),
        "duplicates": sum(n - 1 for v, n in per_voucher.items() if v and n > 1),
        "missing": len(missing),
        "amount_mismatches": len(wrong_amount) + len(wrong_lines),
        "blocked": states.get(State.BLOCKED, 0),
        "failed": states.get(State.FAILED, 0) + states.get(State.IN_DOUBT, 0),
        "flagged": states.get(State.FLAGGED, 0) + states.get(State.CONFLICT, 0),
        "stuck_sending": states.get(State.SENDING, 0),
        "bill_due_over_gp_open": len(due_over),
        "double_payment_risks_open": open_risks(tenant),
    }


def measure_payments(tenant: Tenant, ctx: SyncContext | None = None) -> dict[str, Any]:
    """Every paid BILL payment of GP bills applied once in GP, with the same vouchers and amounts."""
    ctx = ctx or SyncContext.for_tenant(tenant)
    bills = [b for b in ctx.bill.iter_bills() if not b.archived]
    bill_voucher = {
        b.id: voucher_from_description(b.description)
        for b in bills
        if voucher_from_description(b.description)
    }
    # BILL's own money out: not a payment recorded as made outside BILL, not one whose disbursement failed.
    all_paid = [
        p
        for p in ctx.bill.iter_payments()
        if p.status.upper() in tenant.paid_status_set and p.online_payment and not not_disbursed(p)
    ]
    # A payment of bills that never came from GP has nothing to apply to: it is parked, not lost.
    paid = [p for p in all_paid if all(b in bill_voucher for b, _ in p.bill_payments)]
    gp_payments = {p.payment_number: p for p in ctx.gp.iter_payments()}
    applied_ok, not_applied, apply_mismatch, by_hand = 0, [], [], 0
    # GP Web Services lists posted payments without their apply lines: a payment a GP user recorded from
    # our file is matched by number, vendor and amount (each voucher's remaining amount is GP's to check).
    lines_readable = getattr(ctx.gp, "reads_apply_lines", True)
    for payment in paid:
        gp = gp_payments.get(gp_payment_number(payment.id))
        # The cash part only: what a vendor credit paid is a credit memo apply in GP (measure_credits).
        expected = sorted(
            (bill_voucher.get(bill_id, "?"), amount)
            for bill_id, amount in payment.bill_payments
            if amount > 0
        )
        if not expected:  # paid wholly with vendor credits: no GP payment is right
            if gp is None:
                applied_ok += 1
            else:
                apply_mismatch.append(payment.id)
            continue
        if gp is None:
            not_applied.append(payment.id)
            continue
        if sorted(gp.apply_to) == expected:
            applied_ok += 1
        elif not lines_readable and gp.amount == sum((a for _, a in expected), Decimal(0)):
            applied_ok += 1
            by_hand += 1
        else:
            apply_mismatch.append(payment.id)
    foreign_gp = [
        n
        for n in gp_payments
        if n.startswith("BL") and n not in {gp_payment_number(p.id) for p in ctx.bill.iter_payments()}
    ]
    return {
        "bill_payments_paid": len(paid),
        "bill_payments_not_from_gp": len(all_paid) - len(paid),
        "gp_payments_applied": applied_ok,
        "gp_payments_recorded_by_hand": by_hand,
        "payments_not_applied": len(not_applied),
        "payment_mismatches": len(apply_mismatch) + len(foreign_gp),
    }


def measure_credits(tenant: Tenant, ctx: SyncContext | None = None) -> dict[str, Any]:
    """GP's approved credit memos and returns against BILL's vendor credits (one each, right amount), and
    every use of a credit in a paid BILL payment against its credit memo apply in GP (found by its key).
    Take the credit counts before payments, as for bills: a credit used up moves to History in GP."""
    ctx = ctx or SyncContext.for_tenant(tenant)
    held = {v.vendor_id for v in ctx.gp.iter_vendors() if v.is_on_hold or v.status == "Inactive"}
    docs = {d.voucher: d for d in ctx.gp.iter_invoices() if is_credit(d)}
    sendable = getattr(
        ctx.gp, "writes_payments", True
    )  # over GP Web Services credits stay in GP (said in words)
    approved = {
        v
        for v, d in docs.items()
        if sendable and is_credit_approved(d, tenant)[0] and d.vendor_id not in held
    }
    credits = list(ctx.bill.iter_vendor_credits())
    live = [c for c in credits if not c.archived]
    per_voucher = Counter(voucher_from_description(c.description) for c in live)
    ours = {
        voucher_from_description(c.description): c for c in live if voucher_from_description(c.description)
    }
    wrong = [
        v
        for v, c in ours.items()
        if v in docs
        and (
            sum((li.amount for li in c.line_items), Decimal(0)) != c.amount
            or c.amount > money(docs[v].document_amount, docs[v].decimal_digits or 2)
        )
    ]
    credit_voucher = {
        c.id: voucher_from_description(c.description)
        for c in credits
        if voucher_from_description(c.description)
    }
    bill_voucher = {
        b.id: voucher_from_description(b.description)
        for b in ctx.bill.iter_bills()
        if voucher_from_description(b.description)
    }
    uses, applied, mismatched = 0, 0, 0
    for payment in ctx.bill.iter_payments():
        if (
            payment.status.upper() not in tenant.paid_status_set
            or not payment.online_payment
            or not_disbursed(payment)
        ):
            continue
        for bill_id, credit_id, amount in payment.vendor_credits:
            if bill_id not in bill_voucher or credit_id not in credit_voucher:
                continue
            uses += 1
            found = ctx.gp.get_apply(apply_key(payment.id, credit_id, bill_id))
            if found is None:
                continue
            if found.credit_voucher == credit_voucher[credit_id] and found.apply_to == (
                (bill_voucher[bill_id], amount),
            ):
                applied += 1
            else:
                mismatched += 1
    return {
        "gp_approved_credits": len(approved),
        "credits_in_bill": len([v for v in ours if v in approved]),
        "credit_duplicates": sum(n - 1 for v, n in per_voucher.items() if v and n > 1),
        "credit_amount_mismatches": len(wrong),
        "bill_credit_uses": uses,
        "credit_applies_in_gp": applied,
        "credit_apply_mismatches": mismatched,
    }


def measure(tenant: Tenant, ctx: SyncContext | None = None) -> dict[str, Any]:
    ctx = ctx or SyncContext.for_tenant(tenant)
    return {**measure_bills(tenant, ctx), **measure_payments(tenant, ctx)}


def agrees(m: dict[str, Any]) -> bool:
    """Both sides agree: nothing duplicated, lost, wrong, or stuck."""
    return bool(
        m["duplicates"] == 0
        and m["missing"] == 0
        and m["amount_mismatches"] == 0
        and m["stuck_sending"] == 0
        and m["payment_mismatches"] == 0
        and m.get("bill_due_over_gp_open", 0) == 0
        and m.get("double_payment_risks_open", 0) == 0
        and m["gp_payments_applied"] == m["bill_payments_paid"]
        and m.get("credits_in_bill", 0) == m.get("gp_approved_credits", 0)
        and m.get("credit_duplicates", 0) == 0
        and m.get("credit_amount_mismatches", 0) == 0
        and m.get("credit_applies_in_gp", 0) == m.get("bill_credit_uses", 0)
        and m.get("credit_apply_mismatches", 0) == 0
    )


def measure_classifications(tenant: Tenant, ctx: SyncContext | None = None) -> dict[str, Any]:
    """Bill lines carrying a BILL department / location / accounting class, as BILL shows them, against
    what the GP account segments and the approved mappings say each line should carry now."""
    ctx = ctx or SyncContext.for_tenant(tenant)
    invoices = {i.voucher: i for i in ctx.gp.iter_invoices()}
    shown: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    mismatched = 0
    for bill in ctx.bill.iter_bills():
        voucher = voucher_from_description(bill.description)
        if bill.archived or voucher not in invoices:
            continue
        draft = build_draft(invoices[voucher], ctx)
        if not draft.ready:
            continue
        want = sorted(
            (
                str(li["amount"]),
                li["classifications"].get("departmentId") or "",
                li["classifications"].get("locationId") or "",
                li["classifications"].get("accountingClassId") or "",
            )
            for li in draft.payload["billLineItems"]
        )
        have = sorted(
            (str(li.amount), li.department_id or "", li.location_id or "", li.accounting_class_id or "")
            for li in bill.line_items
        )
        mismatched += want != have
        for lines, tally in ((want, expected), (have, shown)):
            for _, department, location, klass in lines:
                tally["department"] += bool(department)
                tally["location"] += bool(location)
                tally["class"] += bool(klass)
    return {
        "lines_with_department": shown["department"],
        "lines_with_location": shown["location"],
        "lines_with_class": shown["class"],
        "lines_with_department_expected": expected["department"],
        "lines_with_location_expected": expected["location"],
        "lines_with_class_expected": expected["class"],
        "classification_mismatches": mismatched,
    }

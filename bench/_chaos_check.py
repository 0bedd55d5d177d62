"""What the chaos run proves, read from both sandboxes' APIs (not from the ledger), plus the two
ledger facts only the ledger holds: every record's trail says how its target came to be, and
nothing is left `sending`."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from audit.models import Attempt, Kind, State, SyncRecord, WebhookEvent
from connectors.bill.client import BillClient
from connectors.gp.client import GPClient
from connectors.sync import vendor_fields as vf
from connectors.sync.gp_to_bill.bill_payload import (
    DISCOUNT_TYPES,
    LINE_TYPES,
    money,
    voucher_from_description,
)
from connectors.sync.keys import gp_payment_number

# How a record's target came to exist, per kind: one of these must be in its trail.
ORIGIN_OUTCOMES = {
    Kind.BILL: {"created", "adopted"},
    Kind.VENDOR: {"created", "adopted"},
    Kind.GP_PAYMENT: {"created", "already_in_gp", "adopted"},
}
UNSETTLED = (State.SENDING, State.IN_DOUBT, State.FAILED)


def expected_lines(invoice: Any) -> list[Decimal]:
    digits = invoice.decimal_digits if invoice.decimal_digits is not None else 2
    out = []
    for dist in invoice.distributions:
        if (dist.type or "").upper() in LINE_TYPES or (dist.type or "").upper() in DISCOUNT_TYPES:
            amount = money(dist.debit - dist.credit, digits)
            if amount:
                out.append(amount)
    return sorted(out)


def check(tenant: Any, vouchers: set[str], vendor_ids: set[str]) -> dict[str, Any]:
    """Compare GP and BILL for the invoices and vendors the run created; every number must be 0."""
    gp = GPClient.for_connection(tenant.gp_connection)
    bill = BillClient.for_connection(tenant.bill_connection)
    try:
        return _check(tenant, gp, bill, vouchers, vendor_ids)
    finally:
        gp.close()


def _check(tenant: Any, gp: Any, bill: Any, vouchers: set[str], vendor_ids: set[str]) -> dict[str, Any]:
    invoices = {i.voucher: i for i in gp.iter_invoices() if i.voucher in vouchers}
    bills = [b for b in bill.iter_bills() if not b.archived]
    by_voucher: dict[str, list[Any]] = defaultdict(list)
    for b in bills:
        if v := voucher_from_description(b.description):
            by_voucher[v].append(b)
    bill_duplicates = sum(len(by_voucher[v]) - 1 for v in vouchers if len(by_voucher[v]) > 1)
    bills_missing = [v for v in vouchers if not by_voucher[v]]
    bill_wrong = [
        v
        for v in vouchers
        if len(by_voucher[v]) == 1
        and v in invoices
        and (
            by_voucher[v][0].amount != money(invoices[v].document_amount, invoices[v].decimal_digits or 2)
            or sorted(li.amount for li in by_voucher[v][0].line_items) != expected_lines(invoices[v])
        )
    ]

    # Payments: every PAID BILL payment of our bills applied once in GP, to the right vouchers.
    bill_to_voucher = {b.id: voucher_from_description(b.description) for b in bills}
    paid = [
        p
        for p in bill.iter_payments()
        if (p.status or "").upper() == "PAID"
        and all(bill_to_voucher.get(b) in vouchers for b, _ in p.bill_payments)
    ]
    gp_payments = {p.payment_number: p for p in gp.iter_payments()}
    ours = {gp_payment_number(p.id) for p in paid}
    payments_missing, payments_wrong = [], []
    bill_paid_per_voucher: Counter[str] = Counter()
    for p in paid:
        expected = sorted((bill_to_voucher[b], Decimal(a)) for b, a in p.bill_payments)
        for v, a in expected:
            bill_paid_per_voucher[v] += a
        found = gp_payments.get(gp_payment_number(p.id))
        if found is None:
            payments_missing.append(p.id)
        elif sorted((v, Decimal(a)) for v, a in found.apply_to) != expected:
            payments_wrong.append(p.id)
    gp_extra = [n for n in gp_payments if n.startswith("BL") and n not in ours]
    gp_applied_per_voucher: Counter[str] = Counter()
    for p in gp_payments.values():
        for v, a in p.apply_to:
            if v in vouchers:
                gp_applied_per_voucher[v] += Decimal(a)
    over_applied = [v for v in vouchers if gp_applied_per_voucher[v] > bill_paid_per_voucher[v]]
    remaining_wrong = [
        v
        for v, inv in invoices.items()
        if inv.remaining != money(inv.document_amount, inv.decimal_digits or 2) - gp_applied_per_voucher[v]
    ]

    # Vendors: every aligned field equal on both sides.
    mapped = dict(
        SyncRecord.objects.filter(tenant=tenant, kind=Kind.VENDOR, source_key__in=vendor_ids).values_list(
            "source_key", "target_id"
        )
    )
    bill_vendors = {v.id: v for v in bill.iter_vendors()}
    vendors_unaligned, names = [], set()
    for gp_vendor in gp.iter_vendors():
        if gp_vendor.vendor_id not in vendor_ids:
            continue
        names.add(vf.from_gp(gp_vendor)["name"])
        target = bill_vendors.get(mapped.get(gp_vendor.vendor_id, ""))
        if target is None or vf.from_gp(gp_vendor) != vf.from_bill(target.raw):
            vendors_unaligned.append(gp_vendor.vendor_id)
    bill_vendor_names = Counter(vf.from_bill(v.raw)["name"] for v in bill_vendors.values() if not v.archived)
    vendor_duplicates = sum(n - 1 for name, n in bill_vendor_names.items() if n > 1 and name in names)

    # The ledger: settled, and every record's trail says how its target came to be.
    records = SyncRecord.objects.filter(tenant=tenant)
    states = Counter(records.values_list("state", flat=True))
    origins = defaultdict(set)
    for record_id, outcome in Attempt.objects.filter(record__tenant=tenant).values_list(
        "record_id", "outcome"
    ):
        origins[record_id].add(outcome)
    trail_incomplete = [
        r.pk
        for r in records.filter(kind__in=list(ORIGIN_OUTCOMES), state=State.SYNCED).exclude(target_id="")
        if not origins[r.pk] & ORIGIN_OUTCOMES[r.kind]
        and not (r.kind == Kind.VENDOR and r.source_key not in vendor_ids)  # seed vendors linked by a person
    ]
    unsettled = sum(states.get(s, 0) for s in UNSETTLED)
    events_waiting = WebhookEvent.objects.filter(tenant=tenant, state=WebhookEvent.RECEIVED).count()

    duplicates = bill_duplicates + len(gp_extra) + len(over_applied) + vendor_duplicates
    lost = len(bills_missing) + len(payments_missing)
    return {
        "invoices": len(vouchers),
        "bills": sum(1 for v in vouchers if by_voucher[v]),
        "payments": len(paid),
        "gp_payments_applied": len(paid) - len(payments_missing),
        "vendors": len(vendor_ids),
        "duplicates": duplicates,
        "lost": lost,
        "bill_duplicates": bill_duplicates,
        "vendor_duplicates": vendor_duplicates,
        "gp_payments_not_from_bill": len(gp_extra),
        "vouchers_over_applied": len(over_applied),
        "bills_missing": len(bills_missing),
        "payments_missing": len(payments_missing),
        "wrong_amount_or_lines": len(bill_wrong),
        "payments_wrong": len(payments_wrong),
        "gp_remaining_wrong": len(remaining_wrong),
        "vendors_unaligned": len(vendors_unaligned),
        "trail_incomplete": len(trail_incomplete),
        "records": records.count(),
        "stuck_sending": states.get(State.SENDING, 0),
        "unsettled": unsettled,
        "events_unprocessed": events_waiting,
        "states": dict(states),
        "examples": {
            "bills_missing": bills_missing[:5],
            "payments_missing": payments_missing[:5],
            "vendors_unaligned": vendors_unaligned[:5],
            "trail_incomplete": trail_incomplete[:5],
            "wrong": bill_wrong[:5],
            "payments_wrong": payments_wrong[:5],
        },
    }


def converged(result: dict[str, Any]) -> bool:
    return all(
        result[k] == 0
        for k in (
            "duplicates",
            "lost",
            "wrong_amount_or_lines",
            "payments_wrong",
            "gp_remaining_wrong",
            "vendors_unaligned",
            "trail_incomplete",
            "unsettled",
            "events_unprocessed",
        )
    )

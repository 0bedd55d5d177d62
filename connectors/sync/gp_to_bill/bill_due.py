"""BILL never asks to pay more than GP owes: what GP applied outside BILL is recorded in BILL.

GP lowers a voucher's open (current) amount in two ways: our write-back applies a BILL payment (BILL
knows: it is in the bill's paidAmount), or a clerk applies a check or a credit memo in GP (BILL does
not know, and would pay it again). The bill's lines stay what GP's distributions say; the second kind
is told to BILL with `POST /v3/bills/record-payment` — BILL's documented way to record "a bill payment
made outside BILL" (no money moves; the bill's paidAmount rises and dueAmount falls). Editing the bill's
lines down to the open amount would make the bill lie about what was bought; a vendor credit would
need a GP credit memo behind it, which a check is not.

Everything is computed from both systems, read fresh, never from the ledger alone:
- GP: document amount and open amount of the voucher; our own GP payments (numbered from BILL payment
  IDs) that are posted and apply to it;
- BILL: the bill, and the payments against it — online ones (BILL's money, scheduled or paid) and
  offline ones (recorded as paid outside BILL).
So a repeat records nothing twice: once BILL's recorded total equals GP's outside total, there is
nothing left to record.

When BILL has scheduled or paid money that, with what GP applied outside BILL, is more than the invoice
(or GP voided the invoice), the bill record is flagged **double-payment risk** and an alert goes out at
once (audit/alerts.py `alert_now`), not in the next digest.

Every recording is an external write: its `bill_due` ledger row (one per voucher) commits `sending`
with the recording's marker first; an unanswered call leaves it `in_doubt`, and before anything is
recorded again BILL's payments on the bill are read back for that marker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from audit.alerts import alert_now
from audit.ledger import attempt, get_record, is_uncertain, settle, stuck_sending, write_ahead
from audit.models import Kind, State, SyncRecord
from connectors.bill.http import BillError

from ..context import SyncContext
from ..keys import apply_key, gp_payment_number, outside_marker
from .bill_payload import BillDraft, money

if TYPE_CHECKING:
    from connectors.bill.records import BillBill
    from connectors.gp.records import GPInvoice
    from connectors.models import Tenant

log = logging.getLogger(__name__)
FLOW = "gp_bill_due"
RISK = "double_payment_risk"
COMMITTED = {"SCHEDULED", "PAID", "APPROVING"}  # BILL's own money on its way or gone
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class GPSide:
    """What GP says about one voucher."""

    voucher: str
    gp_vendor: str
    invoice_number: str
    document: Decimal
    open: Decimal
    voided: bool

    @classmethod
    def from_invoice(cls, invoice: GPInvoice) -> GPSide:
        digits = invoice.decimal_digits if invoice.decimal_digits is not None else 2
        return cls(
            invoice.voucher,
            invoice.vendor_id,
            invoice.invoice_number,
            money(invoice.document_amount, digits),
            money(invoice.remaining, digits),
            bool(invoice.is_voided),
        )

    @classmethod
    def from_draft(cls, draft: BillDraft) -> GPSide:
        return cls(
            draft.voucher, draft.gp_vendor, draft.invoice_number, draft.amount, draft.open_amount, False
        )

    @property
    def applied(self) -> Decimal:
        return max(self.document - self.open, ZERO)


def needed(invoice: GPInvoice, record: SyncRecord) -> bool:
    """Whether BILL must be read for this voucher: GP applied something, voided it, or a risk is open."""
    gp = GPSide.from_invoice(invoice)
    return gp.voided or gp.applied > 0 or bool(record.snapshot.get(RISK))


@dataclass
class Position:
    """Both sides' money on one bill."""

    gp: GPSide
    bill: BillBill
    recorded: Decimal = ZERO  # in BILL as paid outside BILL (offline payments not voided)
    markers: set[str] = field(default_factory=set)
    committed: Decimal = ZERO  # BILL's online payments, scheduled or paid
    ours_in_gp: Decimal = ZERO  # posted in GP by our write-back of BILL payments
    online: list[str] = field(default_factory=list)

    @property
    def outside_in_gp(self) -> Decimal:
        """Applied in GP by anything but our write-back: a clerk's check, a credit memo."""
        return ZERO if self.gp.voided else max(self.gp.applied - self.ours_in_gp, ZERO)

    @property
    def to_record(self) -> Decimal:
        return max(self.outside_in_gp - self.recorded, ZERO)

    @property
    def bill_open(self) -> Decimal:
        """What BILL would still let anyone pay or record."""
        return max(self.bill.due_amount - self.bill.scheduled_amount, ZERO)

    @property
    def risk(self) -> bool:
        """BILL's own money plus GP's outside money is more than GP says the vendor is owed."""
        owed = ZERO if self.gp.voided else self.gp.document
        return self.committed > 0 and self.committed + self.outside_in_gp > owed


def read_position(ctx: SyncContext, gp: GPSide, bill_id: str) -> Position:
    bill = ctx.bill.get_bill(bill_id)
    position = Position(gp=gp, bill=bill)
    for payment in ctx.bill.iter_payments(filters=[("vendorId", "eq", bill.vendor_id)]):
        amount = sum((a for b, a in payment.bill_payments if b == bill.id), ZERO)
        if not amount and not any(b == bill.id for b, _c, _a in payment.vendor_credits):
            continue
        status = (payment.status or "").upper()
        if not payment.online_payment:
            if status not in ("VOID", "CANCELLED"):
                position.recorded += amount
                position.markers.add(payment.description or "")
            continue
        credit = sum((a for b, _c, a in payment.vendor_credits if b == bill.id), ZERO)
        if status in COMMITTED:
            position.committed += amount + credit  # a vendor credit used on the bill pays it as money does
            position.online.append(payment.id)
        # Written to GP by us? Asked whatever BILL says now: a voided or cancelled one may still be applied
        # there.
        if amount:
            gp_payment = ctx.gp.get_payment(gp_payment_number(payment.id))
            if gp_payment is not None and gp_payment.state != "Work":
                position.ours_in_gp += sum((a for v, a in gp_payment.apply_to if v == gp.voucher), Decimal(0))
        # Credit memos we applied in GP for BILL's use of a credit on this bill (credit_applies.py).
        for bill_id, credit_id, _a in payment.vendor_credits:
            if bill_id == bill.id:
                found = ctx.gp.get_apply(apply_key(payment.id, credit_id, bill.id))
                if found is not None:
                    position.ours_in_gp += sum((a for v, a in found.apply_to if v == gp.voucher), Decimal(0))
    position.ours_in_gp = money(position.ours_in_gp, 2)
    return position


def align(ctx: SyncContext, gp: GPSide, bill_record: SyncRecord) -> Position | None:
    """Bring BILL's due down to GP's open amount, or flag a double-payment risk. Safe to repeat."""
    if not bill_record.target_id:
        return None
    row = get_record(ctx.tenant, Kind.BILL_DUE, gp.voucher)
    if row.state == State.SENDING and not stuck_sending().filter(pk=row.pk).exists():
        return None  # a live writer is recording right now: never second-guess a call in flight
    position = read_position(ctx, gp, bill_record.target_id)
    if is_uncertain(row):
        _reconcile(ctx, row, position)
    if position.risk:
        flag_risk(ctx, bill_record, position)
    elif bill_record.snapshot.get(RISK) and bill_record.state == State.FLAGGED:
        _clear_risk(ctx, bill_record)
    amount = min(position.to_record, position.bill_open)
    if amount > 0 and not gp.voided and row.state != State.SKIPPED:
        _record(ctx, row, position, amount)
    elif row.state == State.FAILED and position.to_record == 0:
        settle(
            row,
            State.SYNCED,
            reason="BILL's due is within GP's open amount; nothing left to record.",
            snapshot={**row.snapshot, "recorded": str(position.recorded)},
        )
    return position


def _reconcile(ctx: SyncContext, row: SyncRecord, position: Position) -> None:
    """An earlier recording was not confirmed: did it reach BILL? Decided before anything is sent."""
    pending = row.snapshot.get("pending") or {}
    landed = pending.get("marker") in position.markers
    with attempt(row, FLOW, ctx.trigger, ctx.user) as log_:
        log_.request = {"reconciled": True, **pending}
        log_.outcome = "adopted" if landed else "not_in_bill"
        snapshot = {k: v for k, v in row.snapshot.items() if k != "pending"}
        if landed:
            settle(
                row,
                State.SYNCED,
                snapshot={**snapshot, "recorded": str(position.recorded)},
                reason="BILL had taken the recording whose answer was lost.",
            )
        else:  # not there: the fresh computation below records what is still missing
            settle(
                row,
                State.FAILED,
                snapshot=snapshot,
                reason="BILL did not confirm the recording and has no copy of it; it is recorded again.",
                fix="Nothing: it is retried automatically.",
            )


def _record(ctx: SyncContext, row: SyncRecord, position: Position, amount: Decimal) -> None:
    gp, bill = position.gp, position.bill
    marker = outside_marker(gp.voucher, position.outside_in_gp)
    label = (
        f"{gp.gp_vendor} invoice {gp.invoice_number}: {position.outside_in_gp} applied in GP outside BILL "
        f"→ BILL bill {bill.id}"
    )
    row.snapshot = {**row.snapshot, "pending": {"amount": str(amount), "marker": marker, "bill": bill.id}}
    row.label = label[:255]
    row.target_id = bill.id
    row.save(update_fields=["snapshot", "label", "target_id", "updated_at"])
    if not write_ahead([row]):  # committed before the call leaves the process; a compare-and-set
        ctx.tally["bill_due_busy"] += 1  # another writer changed the row since it was read: it has it
        return
    with attempt(row, FLOW, ctx.trigger, ctx.user) as log_:
        log_.request = {
            "recordPayment": bill.id,
            "amount": str(amount),
            "gp_open": str(gp.open),
            "bill_due_before": str(bill.due_amount),
            "description": marker,
        }
        try:
            recorded = ctx.bill.record_payment(
                bill.vendor_id, timezone.now().date(), [(bill.id, amount)], description=marker
            )
        except BillError as exc:
            log_.response_status, log_.error = str(exc.status or ""), exc.message
            if exc.in_doubt:
                log_.outcome = State.IN_DOUBT
                settle(
                    row,
                    State.IN_DOUBT,
                    label=label,
                    snapshot=row.snapshot,
                    reason=f"BILL did not confirm recording {amount} paid in GP ({exc.message}); checking "
                    "before recording again.",
                    fix="Nothing: it is checked and retried automatically.",
                )
                ctx.tally["bill_due_in_doubt"] += 1
            else:
                state = State.FAILED if exc.retryable else State.FLAGGED
                log_.outcome = state
                settle(
                    row,
                    state,
                    label=label,
                    snapshot={k: v for k, v in row.snapshot.items() if k != "pending"},
                    reason=f"BILL did not take the record of {amount} paid in GP: {exc.message}",
                    fix="Retried automatically."
                    if exc.retryable
                    else "Record the payment on the bill in BILL by hand, then choose Don't sync.",
                )
                ctx.tally["bill_due_failed"] += 1
            return
        log_.outcome, log_.response_status = "recorded", "200"
        settle(
            row,
            State.SYNCED,
            label=label,
            snapshot={
                "recorded": str(position.recorded + amount),
                "outside_in_gp": str(position.outside_in_gp),
                "payments": [*row.snapshot.get("payments", []), recorded.id],
            },
            reason=f"BILL bill {bill.id}: {amount} recorded as paid outside BILL; due now "
            f"{bill.due_amount - amount}, GP open {gp.open}.",
        )
    ctx.tally["bill_due_recorded"] += 1


def risk_details(position: Position) -> dict[str, str]:
    gp, bill = position.gp, position.bill
    return {
        "vendor": gp.gp_vendor,
        "invoice": gp.invoice_number,
        "voucher": gp.voucher,
        "gp_document": str(gp.document),
        "gp_open": str(gp.open),
        "gp_applied_outside_bill": str(position.outside_in_gp),
        "gp_voided": "yes" if gp.voided else "no",
        "bill": bill.id,
        "bill_due": str(bill.due_amount),
        "bill_paid_or_scheduled": str(position.committed),
        "bill_payments": ", ".join(position.online),
    }


def flag_risk(ctx: SyncContext, record: SyncRecord, position: Position) -> None:
    """Flag the bill record and alert at once (once per distinct risk, not once per poll)."""
    gp, details = position.gp, risk_details(position)
    same = {k: v for k, v in (record.snapshot.get(RISK) or {}).items() if k != "bill_due"}
    if record.state == State.FLAGGED and same == {k: v for k, v in details.items() if k != "bill_due"}:
        return
    gp_said = (
        "GP voided the invoice"
        if gp.voided
        else f"GP has {position.outside_in_gp} applied outside BILL (open now {gp.open} of {gp.document})"
    )
    reason = (
        f"Double-payment risk: GP vendor {gp.gp_vendor}, invoice {gp.invoice_number} (voucher {gp.voucher}). "
        f"{gp_said}, and BILL has {position.committed} scheduled or paid on bill {position.bill.id} "
        f"(payment {', '.join(position.online) or '?'})."
    )
    fix = (
        "Stop one of the two: cancel or void the BILL payment, or void the GP check / credit memo. "
        "Then choose Replay (or Don't sync once settled by hand)."
    )
    with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
        log_.outcome = "double_payment_risk"
        log_.error = reason
        settle(record, State.FLAGGED, reason=reason, fix=fix, snapshot={**record.snapshot, RISK: details})
    ctx.tally["double_payment_risk"] += 1
    alert_now(
        record, f"Double-payment risk: {gp.gp_vendor} invoice {gp.invoice_number}", reason, fix, details
    )


def _clear_risk(ctx: SyncContext, record: SyncRecord) -> None:
    with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
        log_.outcome = "risk_cleared"
        settle(
            record,
            State.SYNCED,
            reason="The double-payment risk is gone: GP and BILL agree again.",
            snapshot={k: v for k, v in record.snapshot.items() if k != RISK},
        )


def open_risks(tenant: Tenant) -> int:
    """Bill records flagged double-payment risk and not yet settled by a person."""
    rows = SyncRecord.objects.filter(tenant=tenant, kind=Kind.BILL, state=State.FLAGGED)
    return sum(1 for snapshot in rows.values_list("snapshot", flat=True) if (snapshot or {}).get(RISK))

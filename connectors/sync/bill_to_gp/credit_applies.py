"""A BILL payment that used a vendor credit → the GP credit memo applied to the same voucher, exactly once.

BILL's payment lists, per bill, the credits it used (`billPayments[].vendorCredits[{id, amount}]`). The cash
part becomes a GP manual payment (payments.py); each (payment, credit, bill) use becomes one GP apply of the
credit memo to the bill's voucher, through GP's Apply Payables Documents (the modelled
`Purchasing/PayablesApplies`, eConnect taPMApply; see docs/credits.md). So the voucher's open amount in GP
ends where BILL says the bill stands.

Exactly once: one `credit_apply` ledger row per use (keyed "<payment>:<credit>:<bill>") commits `sending`
before the call; the GP apply key is derived from the same three IDs, so GP refuses a repeat (409) and an
uncertain row is looked up in GP by that key before anything is sent again. GP Web Services has no apply:
there the use is flagged for a person, never faked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from audit import documents
from audit.ledger import (
    AttemptLog,
    attempt,
    fail_unless_uncertain,
    get_record,
    may_have_written,
    owned_elsewhere,
    settle,
)
from audit.models import Kind, State, SyncRecord
from audit.send_once import Sent, Trail, Words, error_message, send_once
from connectors.bill.records import BillPayment
from connectors.gp.records import GPApply

from ..context import SyncContext
from ..errors import explain
from ..keys import apply_key

log = logging.getLogger(__name__)
FLOW = "bill_credit_applies"


@dataclass(frozen=True)
class CreditUse:
    """One BILL payment's use of one vendor credit on one bill, with the GP documents behind them."""

    payment_id: str
    credit_id: str
    bill_id: str
    amount: Decimal
    credit_voucher: str = ""  # the GP credit memo / return
    voucher: str = ""  # the GP invoice the bill came from

    @property
    def source_key(self) -> str:
        return f"{self.payment_id}:{self.credit_id}:{self.bill_id}"

    @property
    def key(self) -> str:
        return apply_key(self.payment_id, self.credit_id, self.bill_id)


def credit_uses(ctx: SyncContext, payment: BillPayment) -> tuple[list[CreditUse], str]:
    """The payment's credit uses with their GP vouchers (from the ledger rows that made the bill and the
    credit), or a problem in words when a credit or bill did not come from GP."""
    if not payment.vendor_credits:
        return [], ""
    bills = {
        r.target_id: r.source_key
        for r in SyncRecord.objects.filter(
            tenant=ctx.tenant, kind=Kind.BILL, target_id__in=[b for b, _, _ in payment.vendor_credits]
        )
    }
    credits = {
        r.target_id: r.source_key
        for r in SyncRecord.objects.filter(
            tenant=ctx.tenant,
            kind=Kind.VENDOR_CREDIT,
            target_id__in=[c for _, c, _ in payment.vendor_credits],
        )
    }
    uses = []
    for bill_id, credit_id, amount in payment.vendor_credits:
        if credit_id not in credits:
            return [], (
                f"BILL payment {payment.id} used vendor credit {credit_id}, which did not come from a GP "
                f"credit "
                "memo; there is nothing in GP to apply."
            )
        if bill_id not in bills:
            return (
                [],
                f"BILL bill {bill_id} (paid by {payment.id} with a vendor credit) did not come from GP.",
            )
        uses.append(CreditUse(payment.id, credit_id, bill_id, amount, credits[credit_id], bills[bill_id]))
    return uses, ""


def apply_uses(ctx: SyncContext, payment: BillPayment, uses: list[CreditUse]) -> None:
    for use in uses:
        record = get_record(ctx.tenant, Kind.CREDIT_APPLY, use.source_key)
        try:
            apply_one(ctx, record, use, payment)
        except Exception as exc:  # one use must not stop the others, nor the cash part
            log.exception("credit apply failed for %s", use.source_key)
            fail_unless_uncertain(record, explain(exc), maybe_written=may_have_written(exc))
            ctx.tally["credit_apply_failed"] += 1


def _label(use: CreditUse) -> str:
    return (
        f"BILL payment {use.payment_id} used {use.amount} of credit {use.credit_id} → GP credit memo "
        f"{use.credit_voucher} applied to voucher {use.voucher}"
    )


def _matches(found: GPApply, use: CreditUse) -> bool:
    return found.credit_voucher == use.credit_voucher and sorted(found.apply_to) == [
        (use.voucher, use.amount)
    ]


def apply_one(
    ctx: SyncContext, record: SyncRecord, use: CreditUse, payment: BillPayment, *, again: bool = False
) -> None:
    """Write one use to GP after the write-ahead; reconcile by the deterministic key first."""
    label = _label(use)[:255]
    memo = SyncRecord.objects.filter(
        tenant=ctx.tenant, kind=Kind.VENDOR_CREDIT, source_key=use.credit_voucher
    ).first()
    documents.note(
        record,
        gp_vendor=memo.gp_vendor if memo else "",
        document_number=(memo.document_number if memo else "") or use.credit_voucher,
        amount=use.amount,
        document_date=payment.process_date,
        currency="USD",
    )
    # A use a person is asked to settle is tried again only when they say so (Replay: `again`).
    if record.state in (State.SYNCED, State.SKIPPED) or (record.state == State.FLAGGED and not again):
        return
    if owned_elsewhere(record):  # another live writer has it: its answer settles the row
        ctx.tally["credit_apply_busy"] += 1
        return
    if not getattr(ctx.gp, "writes_payments", True):
        settle(
            record,
            State.FLAGGED,
            label=label,
            reason=(
                f"{use.amount} of a vendor credit paid this bill in BILL, but GP Web Services has no "
                f"way to "
                f"apply credit memo {use.credit_voucher} to voucher {use.voucher}."
            ),
            fix=(
                "Apply it in GP (Transactions › Purchasing › Apply Payables Documents), then choose "
                "Don't sync."
            ),
        )
        ctx.tally["credit_apply_parked"] += 1
        return
    sent = send_once(
        record,
        trail=Trail(FLOW, ctx.trigger, ctx.user),
        request={
            "apply": use.key,
            "credit": use.credit_voucher,
            "voucher": use.voucher,
            "amount": str(use.amount),
        },
        # By the deterministic key; a `failed` row is looked up too (the answer to a write may be lost).
        find=lambda: ctx.gp.get_apply(use.key),
        look_up_failed=True,
        send=lambda log_: _apply(ctx, use, payment, log_),
        done=lambda found, log_: _settle_found(ctx, record, use, found, label, log_),
        window=ctx.settle_window("gp"),
        label=label,
        settling_reason=f"GP did not confirm apply {use.key} and does not show it yet; it is looked up "
        "again before anything is sent.",
        duplicate_outcome="already_in_gp",
        words=Words(
            reason=lambda exc: _reason(use, exc),
            fix_refused=(
                "If the credit memo was applied in GP first, BILL used it twice: void the BILL "
                "payment "
                "or unapply in GP; then Replay, or choose Don't sync once settled by hand."
            ),
        ),
    )
    if sent in TALLY:
        ctx.tally[TALLY[sent]] += 1


TALLY = {
    Sent.SETTLING: "credit_apply_in_doubt",
    Sent.IN_DOUBT: "credit_apply_in_doubt",
    Sent.BUSY: "credit_apply_busy",
    Sent.FAILED: "credit_apply_failed",
    Sent.REFUSED: "credit_apply_parked",
}


def _reason(use: CreditUse, exc: BaseException) -> str:
    if may_have_written(exc):
        return f"GP did not confirm apply {use.key}: {error_message(exc)}"
    return (
        f"GP did not apply credit memo {use.credit_voucher} ({use.amount}) to voucher {use.voucher}: "
        f"{error_message(exc)}"
    )


def _apply(ctx: SyncContext, use: CreditUse, payment: BillPayment, log_: AttemptLog) -> GPApply:
    made = ctx.gp.create_apply(
        use.key,
        use.credit_voucher,
        [(use.voucher, use.amount)],
        payment.process_date or timezone.now().date(),
    )
    log_.outcome, log_.response_status = "applied", "201"
    return made


def _settle_found(
    ctx: SyncContext, record: SyncRecord, use: CreditUse, found: GPApply, label: str, log_: AttemptLog
) -> None:
    if not _matches(found, use):
        log_.outcome = State.FLAGGED
        settle(
            record,
            State.FLAGGED,
            label=label,
            reason=f"GP already has apply {use.key}, but it does not match BILL's use of the credit.",
            fix="Compare the two in GP; unapply the wrong one.",
        )
        return
    settle(
        record,
        State.SYNCED,
        target_id=use.key,
        label=label,
        snapshot={
            "credit": use.credit_voucher,
            "voucher": use.voucher,
            "amount": str(use.amount),
            "bill_credit": use.credit_id,
            "bill": use.bill_id,
            "payment": use.payment_id,
        },
    )
    ctx.tally["credit_applied"] += 1


def replay_apply(ctx: SyncContext, record: SyncRecord) -> None:
    """Re-read the payment from BILL (never a stored copy) and write this one use again (reconcile first)."""
    payment_id, _, rest = record.source_key.partition(":")
    credit_id, _, bill_id = rest.partition(":")
    payment = ctx.bill.get_payment(payment_id)
    if record.snapshot.get("reversed") or (payment.status or "").upper() not in ctx.tenant.paid_status_set:
        return  # BILL no longer pays with this credit: nothing to apply (a reversed apply waits for a person)
    uses, problem = credit_uses(ctx, payment)
    use = next((u for u in uses if u.credit_id == credit_id and u.bill_id == bill_id), None)
    if use is None:
        settle(
            record,
            State.FLAGGED,
            reason=problem
            or f"BILL payment {payment_id} no longer uses credit {credit_id} on bill {bill_id}.",
            fix="Compare the payment in BILL with GP; choose Don't sync once settled.",
        )
        return
    apply_one(ctx, record, use, payment, again=record.state == State.FLAGGED)


def flag_reversed_uses(ctx: SyncContext, payment: BillPayment) -> None:
    """BILL voided or cancelled a payment whose credit part we applied in GP: BILL gave the credit back, GP
    still has it applied. Posted GP documents are not changed by the connector: a person unapplies it."""
    rows = SyncRecord.objects.filter(
        tenant=ctx.tenant, kind=Kind.CREDIT_APPLY, state=State.SYNCED, source_key__startswith=f"{payment.id}:"
    )
    for row in rows:
        reason = (
            f"BILL payment {payment.id} was {payment.status.lower() or 'reversed'} after credit memo "
            f"{row.snapshot.get('credit', '')} was applied in GP to voucher "
            f"{row.snapshot.get('voucher', '')} "
            f"({row.snapshot.get('amount', '')}); BILL gave the credit back, GP still has it applied."
        )
        with attempt(row, FLOW, ctx.trigger, ctx.user) as log_:
            log_.outcome, log_.error = "reversed", reason
            settle(
                row,
                State.FLAGGED,
                reason=reason,
                fix=(
                    "Unapply it in GP (Transactions › Purchasing › Apply Payables Documents), then "
                    "choose Don't sync."
                ),
                snapshot={**row.snapshot, "reversed": payment.status or "reversed"},
            )
        ctx.tally["credit_apply_reversed"] += 1

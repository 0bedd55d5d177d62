"""BILL payments → GP manual payments applied to the GP vouchers the bills came from.

Exactly once: the GP payment number is derived from the BILL payment ID (GP itself refuses a
repeat), the ledger row commits `sending` before the create, and an uncertain row is looked up in
GP by that number before anything is sent again. Posted GP documents are never edited.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.utils import timezone

from audit import documents, waits
from audit.ledger import (
    AttemptLog,
    attempt,
    fail_unless_uncertain,
    get_record,
    is_uncertain,
    may_have_written,
    owned_elsewhere,
    settle,
)
from audit.models import Kind, State, SyncRecord
from audit.send_once import Sent, Trail, Words, error_message, send_once
from audit.waits import WaitFor
from audit.words import money_text
from connectors.bill.records import BillPayment
from connectors.gp.http import GPError
from connectors.gp.records import GPPayment
from connectors.gp.resource_map import GPShapeError
from mappings.models import CheckbookMapping, MappingState

from ..context import SyncContext
from ..cursors import poll_run
from ..errors import explain
from ..keys import gp_batch, gp_payment_number, payment_reference
from ..suggest import suggest_checkbook
from .credit_applies import CreditUse, apply_uses, credit_uses, flag_reversed_uses
from .manual_payments import record_in_gp
from .payment_rules import (
    FUNDING_FAILED,
    gp_method,
    is_ours,
    not_disbursed,
    single_status,
    what_happened,
)

log = logging.getLogger(__name__)
FLOW = "bill_payments"
REVERSED = {"VOID", "VOIDED", "CANCELLED", "CANCELED"}


def sync_payments(ctx: SyncContext, *, full: bool = False) -> dict[str, int]:
    """Poll BILL payments changed since the cursor; also re-check payments waiting on GP posting."""
    with poll_run(ctx, FLOW, "payment_", full=full) as run:
        for payment in ctx.bill.iter_payments(updated_since=run.since_with_overlap):
            try:
                process_payment(ctx, payment)
            except GPShapeError:  # GP is not answering as mapped: the run fails, it does not "succeed"
                raise
            except Exception as exc:  # one bad payment must not stop the run
                log.exception("payment flow failed for %s", payment.id)
                fail_unless_uncertain(
                    get_record(ctx.tenant, Kind.GP_PAYMENT, payment.id),
                    explain(exc),
                    maybe_written=may_have_written(exc),
                )
        waiting = SyncRecord.objects.filter(
            tenant=ctx.tenant, kind=Kind.GP_PAYMENT, state__in=[State.BLOCKED, State.FAILED, State.IN_DOUBT]
        )
        # Only rows this run has not already looked at (a payment is processed once per run).
        for record in waiting.exclude(next_retry_at__gt=timezone.now()).filter(updated_at__lt=run.started):
            replay_payment(ctx, record)
    return run.summary


def replay_payment(ctx: SyncContext, record: SyncRecord) -> None:
    """Re-read the payment from BILL (never trust a stored copy) and run it again."""
    process_payment(ctx, ctx.bill.get_payment(record.source_key), record=record)


def process_payment(ctx: SyncContext, payment: BillPayment, record: SyncRecord | None = None) -> None:
    paid_states = ctx.tenant.paid_status_set
    status = (payment.status or "").upper()
    if record is None:
        record = SyncRecord.objects.filter(
            tenant=ctx.tenant, kind=Kind.GP_PAYMENT, source_key=payment.id
        ).first()
    if is_ours(payment):
        return  # our own record of what GP applied outside BILL: GP has it already
    reversed_ = status in REVERSED or not_disbursed(payment) or single_status(payment) in FUNDING_FAILED
    written = (
        record is not None
        and bool(record.target_id)
        and (
            record.state == State.SYNCED
            or (record.state == State.FLAGGED and bool(record.snapshot.get("reversal")))
        )
    )
    if reversed_:
        flag_reversed_uses(ctx, payment)  # credit memos applied in GP for a payment BILL then voided
    if record is not None and written and reversed_:
        _flag_reversal(ctx, record, payment)  # written to GP, then the money did not (or not cleanly) go
        return
    if status not in paid_states:
        if record is not None and record.state == State.BLOCKED and status in REVERSED:
            settle(
                record,
                State.SKIPPED,
                reason=f"BILL payment {payment.id}: {what_happened(payment)} before "
                "it was written to GP; nothing to write.",
            )
        return
    if record is None:
        record = get_record(ctx.tenant, Kind.GP_PAYMENT, payment.id)
    if owned_elsewhere(record):  # another live worker is writing it to GP: its answer settles the row
        ctx.tally["payment_busy"] += 1
        return
    if record.state in (State.SYNCED, State.SKIPPED, State.FLAGGED) and not is_uncertain(record):
        if record.state != State.FLAGGED or record.snapshot.get("reversal"):
            return
    number = gp_payment_number(payment.id)
    label = f"BILL payment {payment.id} ({money_text(payment.amount)}) → GP {number}"
    documents.note_payment(record, payment, _gp_vendor_of(ctx, payment))
    if not payment.online_payment:
        settle(
            record,
            State.FLAGGED,
            label=label,
            reason=f"BILL payment {payment.id} was recorded in BILL as paid outside BILL; no money moved "
            "through BILL, so nothing is written to GP.",
            fix="Enter the real payment in GP if it is not there yet, then choose Don't sync.",
        )
        ctx.tally["payment_parked"] += 1
        return
    if not_disbursed(payment) and not is_uncertain(record):
        settle(
            record,
            State.BLOCKED,
            label=label,
            waits=[WaitFor(waits.BILL_PAYMENT, payment.id)],
            reason=f"BILL payment {payment.id} says PAID, but {what_happened(payment)} "
            f"({single_status(payment)}); it is not written to GP while the money is not with the vendor.",
            fix=(
                "Nothing in GP. If BILL reissues the payment it goes on by itself; if BILL voids it, it "
                "is dropped."
            ),
        )
        ctx.tally["payment_blocked"] += 1
        return

    applies, problem, waiting = _apply_lines(ctx, payment)
    uses, credit_problem = credit_uses(ctx, payment)
    problem = problem or credit_problem
    if problem:
        settle(
            record,
            State.FLAGGED,
            reason=problem,
            label=label,
            fix="Apply it in GP by hand, then choose Don't sync.",
        )
        ctx.tally["payment_parked"] += 1
        return
    vendor_id = applies[0][2] if applies else ""
    waiting += _credits_not_posted(ctx, uses)
    if not waits.keys(waiting, waits.POSTING):
        # The credit part: each credit memo applied to its voucher in GP (its own ledger rows, retried on
        # their own), whatever becomes of the cash part below.
        apply_uses(ctx, payment, uses)
    applies = [a for a in applies if a[1] > 0]  # a bill paid wholly with a credit has no cash line
    if not applies and uses and not waiting:
        settle(
            record,
            State.SYNCED,
            label=label,
            target_id="",
            reason=(
                f"BILL payment {payment.id} paid only with vendor credits; they are applied in GP as "
                f"credit "
                "memo applies, and no GP payment is needed."
            ),
            snapshot={"applied": [], "credits": [u.source_key for u in uses]},
        )
        ctx.tally["payment_credit_only"] += 1
        return
    checkbook = _checkbook(ctx, payment)
    if checkbook is None:
        waiting.append(WaitFor(waits.CHECKBOOK, payment.funding_account_id or ""))
    method = gp_method(payment, ctx.tenant.gp_card_name)
    if method.waiting:
        waiting.append(WaitFor(waits.CARD_NAME))
    if waiting or checkbook is None:  # a missing checkbook is among `waiting`
        reasons = []
        if vouchers := waits.keys(waiting, waits.POSTING):
            reasons.append("GP invoice not posted yet (" + ", ".join(vouchers) + ")")
        if checkbook is None:
            reasons.append(f"no GP checkbook is mapped for BILL funding account {payment.funding_account_id}")
        if method.waiting:
            reasons.append(method.waiting)
        settle(
            record,
            State.BLOCKED,
            reason="Waiting: " + "; ".join(reasons) + ".",
            waits=waiting,
            fix="Post the invoice in GP, map the funding account to a checkbook, or set the tenant's GP card "
            "name; it then goes on by itself.",
            label=label,
        )
        ctx.tally["payment_blocked"] += 1
        return

    if not getattr(ctx.gp, "writes_payments", True):  # GP Web Services: the documented manual way
        record_in_gp(
            ctx,
            record,
            payment,
            number=number,
            vendor_id=vendor_id,
            checkbook=checkbook,
            applies=applies,
            label=label,
            method=method.method,
        )
        return
    sent = send_once(
        record,
        trail=Trail(FLOW, ctx.trigger, ctx.user),
        request={
            "payment": number,
            "vendor": vendor_id,
            "amount": str(payment.amount),
            "apply": [{"voucher": v, "amount": str(a)} for v, a, _ in applies],
        },
        # A `failed` row may follow a write GP took (its batch did not post): looked up first too.
        find=lambda: _find_in_gp(ctx, record, number, vendor_id, payment, applies),
        look_up_failed=True,
        send=lambda log_: _create(
            ctx, record, payment, number, vendor_id, checkbook, method.method, method.card_name, applies, log_
        ),
        done=lambda made, log_: _take(ctx, record, payment, made, vendor_id, applies, label, log_),
        window=ctx.settle_window("gp"),
        label=label,
        settling_reason=f"GP did not confirm payment {number} and does not show it yet; it is looked up "
        "again before anything is sent.",
        duplicate_outcome="already_in_gp",
        words=Words(
            reason=lambda exc: f"GP did not take payment {number}: {error_message(exc)}",
            fix_refused="Fix the cause in GP, then Replay.",
        ),
    )
    if sent in (Sent.IN_DOUBT, Sent.FAILED, Sent.REFUSED):
        ctx.tally["payment_failed"] += 1
    elif sent == Sent.SETTLING:
        ctx.tally["payment_in_doubt"] += 1
    elif sent == Sent.BUSY:
        ctx.tally["payment_busy"] += 1


def _take(
    ctx: SyncContext,
    record: SyncRecord,
    payment: BillPayment,
    existing: GPPayment,
    vendor_id: str,
    applies: list[tuple[str, Decimal, str]],
    label: str,
    log_: AttemptLog,
) -> None:
    """The GP payment is there (created, refused as a duplicate, or found): check it is ours, settle."""
    number = gp_payment_number(payment.id)
    # Whether found by lookup or by GP refusing our number as a duplicate, a payment we did not
    # just create is only ours if it says what BILL paid.
    if not _matches(existing, vendor_id, applies):
        log_.outcome = State.FLAGGED
        settle(
            record,
            State.FLAGGED,
            label=label,
            reason=f"GP already has payment {number}, but it does not match BILL payment {payment.id}.",
            fix="Compare the two payments; void the wrong one in GP.",
        )
        return
    _post_and_settle(ctx, record, existing, label, applies)


def _find_in_gp(
    ctx: SyncContext,
    record: SyncRecord,
    number: str,
    vendor_id: str,
    payment: BillPayment,
    applies: list[tuple[str, Decimal, str]],
) -> GPPayment | None:
    """The GP payment an earlier attempt made: by the key GP gave it (stored when GP numbered it
    itself), by our deterministic number, and else (a server that ignores the number sent) by
    vendor, document number and apply lines."""
    for key in dict.fromkeys(k for k in (record.target_id, number) if k):
        found = ctx.gp.get_payment(key)
        if found is not None:
            return found
    reference = payment_reference(payment)
    for candidate in ctx.gp.iter_payments(vendor_id=vendor_id):
        if candidate.document_number == reference and _matches(candidate, vendor_id, applies):
            return candidate
    return None


def _apply_lines(
    ctx: SyncContext, payment: BillPayment
) -> tuple[list[tuple[str, Decimal, str]], str, list[WaitFor]]:
    """(voucher, amount, GP vendor) per bill paid; or a problem; plus vouchers not yet posted."""
    bill_ids = [b for b, _ in payment.bill_payments]
    records = {
        r.target_id: r
        for r in SyncRecord.objects.filter(tenant=ctx.tenant, kind=Kind.BILL, target_id__in=bill_ids)
    }
    applies: list[tuple[str, Decimal, str]] = []
    waiting: list[WaitFor] = []
    for bill_id, amount in payment.bill_payments:
        bill_record = records.get(bill_id)
        if bill_record is None:
            return (
                [],
                f"BILL bill {bill_id} paid by payment {payment.id} did not come from GP; nothing to "
                f"apply it to.",
                [],
            )
        invoice = ctx.gp.get_invoice(bill_record.source_key)
        if invoice is None:
            return (
                [],
                f"GP voucher {bill_record.source_key} (BILL bill {bill_id}) no longer exists in GP.",
                [],
            )
        if invoice.state == "Work":
            waiting.append(WaitFor(waits.POSTING, invoice.voucher))
        applies.append((invoice.voucher, amount, invoice.vendor_id))
    vendors = {v for _, _, v in applies}
    if len(vendors) > 1:
        return (
            [],
            f"BILL payment {payment.id} pays bills of several GP vendors ({', '.join(sorted(vendors))}).",
            [],
        )
    return applies, "", waiting


def _gp_vendor_of(ctx: SyncContext, payment: BillPayment) -> str:
    """The GP vendor of the bills a payment pays, from the ledger rows that made them ("" if not one)."""
    vendors = set(
        SyncRecord.objects.filter(
            tenant=ctx.tenant, kind=Kind.BILL, target_id__in=[b for b, _ in payment.bill_payments]
        )
        .exclude(gp_vendor="")
        .values_list("gp_vendor", flat=True)
    )
    return vendors.pop() if len(vendors) == 1 else ""


def _credits_not_posted(ctx: SyncContext, uses: list[CreditUse]) -> list[WaitFor]:
    """GP applies only posted documents: a credit memo still in Work waits for posting, like an invoice."""
    waiting = []
    for voucher in dict.fromkeys(u.credit_voucher for u in uses):
        memo = ctx.gp.get_invoice(voucher)
        if memo is not None and memo.state == "Work":
            waiting.append(WaitFor(waits.POSTING, voucher))
    return waiting


def _checkbook(ctx: SyncContext, payment: BillPayment) -> str | None:
    funding = payment.funding_account_id or ""
    mapping = CheckbookMapping.objects.filter(tenant=ctx.tenant, bill_funding_account_id=funding).first()
    if mapping and mapping.state == MappingState.APPROVED and mapping.gp_checkbook_id:
        return mapping.gp_checkbook_id
    if ctx.tenant.default_checkbook_id:
        return ctx.tenant.default_checkbook_id
    if funding and mapping is None:
        suggest_checkbook(ctx, funding)
    return None


def _create(
    ctx: SyncContext,
    record: SyncRecord,
    payment: BillPayment,
    number: str,
    vendor_id: str,
    checkbook: str,
    method: str,
    card_name: str,
    applies: list[tuple[str, Decimal, str]],
    log_: AttemptLog,
) -> GPPayment:
    """The create call (after the write-ahead); GP's errors are sorted by send_once."""
    created = ctx.gp.create_payment(
        payment_number=number,
        vendor_id=vendor_id,
        checkbook_id=checkbook,
        method=method,
        document_number=payment_reference(payment),
        date=payment.process_date or timezone.now().date(),
        amount=sum((a for _, a, _ in applies), Decimal(0)),
        apply_to=[(v, a) for v, a, _ in applies],
        batch=gp_batch(payment.process_date),
        card_name=card_name,
    )
    if created.payment_number and created.payment_number != number:
        # GP numbered the payment itself: keep its key now, so reconciliation and the record use it.
        log_.request = {**(log_.request or {}), "gp_assigned_number": created.payment_number}
        record.target_id = created.payment_number
        record.snapshot = {
            **(record.snapshot or {}),
            "sent_number": number,
            "gp_payment_number": created.payment_number,
        }
        record.save(update_fields=["target_id", "snapshot"])
    return created


def _matches(existing: GPPayment, vendor_id: str, applies: list[tuple[str, Decimal, str]]) -> bool:
    ours = sorted((v, a) for v, a, _ in applies)
    theirs = sorted((v, a) for v, a in existing.apply_to)
    return existing.vendor_id == vendor_id and ours == theirs


def _post_and_settle(
    ctx: SyncContext,
    record: SyncRecord,
    gp_payment: GPPayment,
    label: str,
    applies: list[tuple[str, Decimal, str]],
) -> None:
    if ctx.tenant.post_payment_batches and gp_payment.state == "Work":
        try:
            ctx.gp.post_batch(gp_payment.batch)
        except GPError as exc:
            settle(
                record,
                State.FAILED,
                target_id=gp_payment.payment_number,
                label=label,
                reason=(
                    f"Payment {gp_payment.payment_number} is in GP, but posting batch "
                    f"{gp_payment.batch} failed: {exc.message}"
                ),
                fix="Retried automatically; or post the batch in GP.",
            )
            return
    settle(
        record,
        State.SYNCED,
        target_id=gp_payment.payment_number,
        label=label,
        snapshot={"applied": [{"voucher": v, "amount": str(a)} for v, a, _ in applies]},
    )
    ctx.tally["payment_applied"] += 1


def _flag_reversal(ctx: SyncContext, record: SyncRecord, payment: BillPayment) -> None:
    """A payment GP already has, whose money BILL now says did not (cleanly) reach the vendor."""
    single = single_status(payment)
    reason = (
        f"BILL payment {payment.id} was written to GP as payment {record.target_id}, but "
        f"{what_happened(payment)} (BILL status {payment.status or '?'}, single status {single or '?'}). "
        f"GP payment {record.target_id} was not changed."
    )
    if single in FUNDING_FAILED:
        fix = (
            f"Wire the funds to BILL; GP payment {record.target_id} stays as long as BILL does not void the "
            "payment. Then choose Don't sync."
        )
    else:
        fix = (
            f"Void GP payment {record.target_id} in GP (Transactions › Purchasing › Void Historical Payables "
            "Transactions), then choose Don't sync."
        )
    if record.state == State.FLAGGED and record.reason == reason:
        return
    with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
        log_.outcome = "flagged"
        log_.error = reason
        settle(
            record,
            State.FLAGGED,
            reason=reason,
            fix=fix,
            label=record.label,
            snapshot={
                **record.snapshot,
                "reversal": payment.status,
                "single_status": single,
                "gp_payment_to_void": record.target_id if single not in FUNDING_FAILED else "",
            },
        )
    ctx.tally["payment_reversed"] += 1

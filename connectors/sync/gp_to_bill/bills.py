"""GP approved payables invoices → BILL bills, exactly once.

Per invoice: decide (ignore, wait for a mapping, park a bad record, adopt, create, update, archive),
then create what is new in bulk (≤100 a call, up to 3 calls in parallel), splitting a refused
all-or-nothing batch to isolate the bad bill. Every create is preceded by a committed `sending`
row; a row found `sending`/`in_doubt` is reconciled against BILL before anything is sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.conf import settings

from audit import documents, waits
from audit.ledger import (
    AttemptLog,
    attempt,
    fail_unless_uncertain,
    get_record,
    is_uncertain,
    keep_in_doubt,
    may_have_written,
    owned_elsewhere,
    settle,
)
from audit.models import Kind, State, SyncRecord
from audit.send_once import (
    Sent,
    SyncedBatch,
    Trail,
    adopt,
    changed,
    count_change,
    error_message,
    look_up_first,
    retried_as_is,
    send_batch_once,
    send_once,
)
from connectors.bill.records import BillBill
from connectors.gp.records import GPInvoice
from mappings.segments import wanted_keys

from ..context import SyncContext
from ..cursors import poll_run
from ..errors import explain
from ..suggest import ensure_account_suggestions, ensure_classification_suggestions
from . import bill_due
from .batching import chunks, deferrer, drain, in_thread
from .bill_payload import (
    BillDraft,
    build_draft,
    is_approved,
    voucher_from_description,
)
from .credit_payload import is_credit
from .credits import sync_credit_docs

log = logging.getLogger(__name__)
FLOW = "gp_bills"
CHUNK = 100
# BILL payment states after which a bill must not be changed from GP any more.
PAYMENT_STARTED = {"SCHEDULED", "PARTIAL", "PAID"}
Later = Callable[..., None]  # batching.deferrer: run (key, func, *args) on the run's worker threads
# A change to a bill already in BILL that fails: retried as it is (a PUT or an archive is idempotent).
UPDATE_WORDS = retried_as_is(explain)


def sync_bills(ctx: SyncContext, *, full: bool = False) -> dict[str, int]:
    """One poll of GP invoices changed since the cursor (or all, with full=True)."""
    # Twice as many workers as BILL slots: while one settles its batch in the database, another
    # holds the slot it freed, so the gate (not our bookkeeping) is what limits the pace.
    workers = 2 * settings.BILL_CONCURRENCY_LIMIT
    with poll_run(ctx, FLOW, "bill_", full=full) as run:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bills") as pool:
            pending: list[Future[None]] = []
            later = deferrer(pool, pending, lambda voucher, exc: _failed(ctx, voucher, exc))
            creates: list[tuple[SyncRecord, BillDraft]] = []
            for chunk in chunks(ctx.gp.iter_invoices(modified_since=run.since), CHUNK):
                credit_docs = [d for d in chunk if is_credit(d)]
                if credit_docs:  # credit memos and returns become BILL vendor credits (credits.py)
                    sync_credit_docs(ctx, credit_docs)
                    chunk = [d for d in chunk if not is_credit(d)]
                creates.extend(decide_chunk(ctx, chunk, later))
                while len(creates) >= CHUNK:
                    batch, creates = creates[:CHUNK], creates[CHUNK:]
                    pending.append(pool.submit(in_thread, create_batch, ctx, batch))
                    drain(pending, keep=workers)
            if creates:
                pending.append(pool.submit(in_thread, create_batch, ctx, creates))
            drain(pending, keep=0)
    return run.summary


def decide_chunk(
    ctx: SyncContext, invoices: list[GPInvoice], later: Later | None = None
) -> list[tuple[SyncRecord, BillDraft]]:
    """Settle what can be settled now; return the new bills to create. Changes to bills already in
    BILL go to `later` (the run's worker threads) when given."""
    ctx.prefetch_vendor_maps({i.vendor_id for i in invoices})
    accounts = {d.account for i in invoices for d in i.distributions}
    ctx.prefetch_account_maps(accounts)
    ctx.prefetch_classification_maps(wanted_keys(ctx.tenant, accounts))
    records = _records(ctx, [i.voucher for i in invoices])
    # New approved invoices get their ledger rows in one statement, not one get_or_create each.
    new = [i.voucher for i in invoices if i.voucher not in records and is_approved(i, ctx.tenant)[0]]
    if new:
        SyncRecord.objects.bulk_create(
            [SyncRecord(tenant=ctx.tenant, kind=Kind.BILL, source_key=v) for v in new], ignore_conflicts=True
        )
        records.update(_records(ctx, new))
    creates = []
    for invoice in invoices:
        try:
            item = decide(ctx, invoice, records.get(invoice.voucher), later)
        except Exception as exc:  # one bad record must not stop the batch
            log.exception("bill flow failed for voucher %s", invoice.voucher)
            _failed(ctx, invoice.voucher, exc)
            continue
        if item:
            creates.append(item)
    return creates


def _failed(ctx: SyncContext, voucher: str, exc: Exception) -> None:
    fail_unless_uncertain(
        get_record(ctx.tenant, Kind.BILL, voucher), explain(exc), maybe_written=may_have_written(exc)
    )
    ctx.tally["bill_failed"] += 1


def _records(ctx: SyncContext, vouchers: list[str]) -> dict[str, SyncRecord]:
    rows = SyncRecord.objects.filter(tenant=ctx.tenant, kind=Kind.BILL, source_key__in=vouchers)
    return {r.source_key: r for r in rows}


def decide(
    ctx: SyncContext, invoice: GPInvoice, record: SyncRecord | None, later: Later | None = None
) -> tuple[SyncRecord, BillDraft] | None:
    approved, why = is_approved(invoice, ctx.tenant)
    if record is None:
        if not approved:
            ctx.tally["bill_ignored"] += 1
            return None
        record = get_record(ctx.tenant, Kind.BILL, invoice.voucher)
    documents.note_invoice(record, invoice)
    if record.state == State.SKIPPED:
        return None
    if owned_elsewhere(record):  # another live worker is sending it: only look, never settle or send
        _look_only(ctx, invoice, record, approved)
        return None
    if record.target_id:  # in BILL already (an update in doubt is simply sent again: PUT is idempotent)
        if later is not None and _calls_bill(ctx, invoice, record):
            later(invoice.voucher, handle_existing, ctx, invoice, record)
        else:
            handle_existing(ctx, invoice, record)
        return None
    if not approved:
        if record.state != State.PENDING or record.reason != f"Not sent to BILL: {why}.":
            settle(record, State.PENDING, reason=f"Not sent to BILL: {why}.")
        return None
    draft = build_draft(invoice, ctx)
    if not draft.ready:
        _settle_not_ready(ctx, record, draft, invoice)
        return None
    looked = look_up_first(
        record,
        trail=_trail_of(ctx),
        find=lambda: find_existing(ctx, draft),
        done=lambda bill, log_: _link(record, draft, bill, log_),
        window=ctx.settle_window("bill"),
        label=draft.label,
        settling_reason="BILL did not confirm the bill and does not show it yet; it is looked up again "
        "before anything is sent.",
    )
    if looked == Sent.ADOPTED:
        ctx.tally["bill_adopted"] += 1
        _align_new(ctx, record, draft)
        return None
    if looked == Sent.SETTLING:  # a late commit may still show up
        ctx.tally["bill_in_doubt"] += 1
        return None
    return record, draft


def _trail_of(ctx: SyncContext) -> Trail:
    return Trail(FLOW, ctx.trigger, ctx.user)


def _look_only(ctx: SyncContext, invoice: GPInvoice, record: SyncRecord, approved: bool) -> None:
    """A row another live worker has `sending`: adopt the bill if BILL already shows it (harmless, it is
    ours by its voucher); otherwise leave the row to its writer and read the invoice again next run."""
    draft = build_draft(invoice, ctx) if approved and not record.target_id else None
    bill = find_existing(ctx, draft) if draft is not None and draft.ready else None
    if bill is not None and draft is not None:  # a bill is only looked for with a draft
        _adopt(ctx, record, draft, bill)
    else:
        ctx.tally["bill_busy"] += 1


def _adopt(ctx: SyncContext, record: SyncRecord, draft: BillDraft, bill: BillBill) -> None:
    """The bill an unconfirmed write made is ours: link it, and say so in the trail."""
    adopt(record, _trail_of(ctx), bill, lambda found, log_: _link(record, draft, found, log_))
    ctx.tally["bill_adopted"] += 1
    _align_new(ctx, record, draft)


def _link(record: SyncRecord, draft: BillDraft, bill: BillBill, log_: AttemptLog) -> None:
    log_.request = {**log_.request, "bill": bill.id}
    settle(
        record,
        State.SYNCED,
        target_id=bill.id,
        synced_hash=draft.hash,
        label=draft.label,
    )


def _align_new(ctx: SyncContext, record: SyncRecord, draft: BillDraft) -> None:
    """A bill just made for a voucher GP has partly paid: bring BILL's due down to GP's open amount now.
    Its lines stay the invoice's; a failure here leaves the bill_due row failed/in doubt (retried), never
    the bill unsent."""
    if draft.open_amount >= draft.amount:
        return
    try:
        bill_due.align(ctx, bill_due.GPSide.from_draft(draft), record)
    except Exception as exc:
        log.exception("aligning BILL's due for voucher %s failed", draft.voucher)
        due = get_record(ctx.tenant, Kind.BILL_DUE, draft.voucher)
        if not is_uncertain(due):
            settle(
                due,
                State.FAILED,
                reason=explain(exc),
                label=f"{draft.label}: due amount in BILL",
                fix="Retried automatically; Replay to retry now.",
            )


def _settle_not_ready(ctx: SyncContext, record: SyncRecord, draft: BillDraft, invoice: GPInvoice) -> None:
    if draft.problem:
        if record.state != State.FLAGGED or record.reason != draft.problem:
            with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
                log_.outcome = "parked"
                log_.error = draft.problem
                settle(record, State.FLAGGED, reason=draft.problem, fix=draft.fix, label=draft.label)
        ctx.tally["bill_parked"] += 1
        return
    accounts = waits.keys(draft.waiting_on, waits.ACCOUNT)
    if accounts:
        ensure_account_suggestions(ctx, accounts)
    ensure_classification_suggestions(ctx, draft.waiting_on)
    new_waits = waits.differ(record, draft.waiting_on)
    if record.state != State.BLOCKED or new_waits or record.reason != draft.blocked_reason:
        with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
            log_.outcome = "blocked"
            log_.error = draft.blocked_reason
            settle(
                record,
                State.BLOCKED,
                reason=draft.blocked_reason,
                fix=draft.fix,
                waits=draft.waiting_on,
                label=draft.label,
            )
    ctx.tally["bill_blocked"] += 1


def find_existing(ctx: SyncContext, draft: BillDraft) -> BillBill | None:
    """The bill an earlier, unconfirmed write may have created: same vendor, invoice number,
    amount, and our GP voucher in its description. BILL allows duplicate invoice numbers, so
    only this lookup (not BILL) stands between a timeout and a second bill."""
    vendor_id = draft.payload["vendorId"]  # only ready drafts are ever sent, so they name their vendor
    number = draft.payload["invoice"]["invoiceNumber"]
    for bill in ctx.bill.iter_bills(filters=[("vendorId", "eq", vendor_id)]):
        if voucher_from_description(bill.description) == draft.voucher and bill.invoice_number == number:
            if bill.amount == draft.amount:
                return bill
    return None


def create_batch(ctx: SyncContext, batch: list[tuple[SyncRecord, BillDraft]]) -> None:
    """Create bills in bulk after the write-ahead, which only hands back the rows this worker won."""
    busy = send_batch_once(
        batch,
        window=ctx.settle_window("bill"),
        send=lambda items: _bulk_create(ctx, items),
        created=lambda items, created, ms: _settle_created(ctx, items, created, ms),
        failed=lambda items, exc, how: _settle_failed(ctx, items, exc, how),
    )
    if busy:  # rows another worker took or settled since they were read
        ctx.tally["bill_busy"] += busy


def _bulk_create(ctx: SyncContext, batch: list[tuple[SyncRecord, BillDraft]]) -> list[BillBill]:
    if len(batch) == 1:
        return [ctx.bill.create_bill(batch[0][1].payload)]
    return list(ctx.bill.bulk_create_bills([d.payload for _, d in batch]))


def _settle_failed(
    ctx: SyncContext, batch: list[tuple[SyncRecord, BillDraft]], exc: BaseException, how: Sent
) -> None:
    """A bulk call BILL did not carry out for sure (send_batch_once has sorted the error)."""
    message, status = error_message(exc), str(getattr(exc, "status", None) or "")
    if how == Sent.IN_DOUBT:
        _settle_in_doubt(ctx, batch, message, status)
    elif how == Sent.FAILED:
        for record, draft in batch:
            _trail(ctx, record, "failed", draft, status, message)
            settle(
                record,
                State.FAILED,
                reason=f"BILL did not take the bill: {message}",
                fix="It is retried automatically; Replay to retry now.",
                label=draft.label,
            )
        ctx.tally["bill_failed"] += len(batch)
    else:
        for record, draft in batch:  # one row: send_batch_once split a refused batch down to it
            _trail(ctx, record, "refused", draft, status, message)
            settle(
                record,
                State.FLAGGED,
                reason=f"BILL refused the bill: {message}",
                fix="Correct the invoice or its mappings, then Replay.",
                label=draft.label,
            )
            ctx.tally["bill_parked"] += 1


def _settle_created(
    ctx: SyncContext, batch: list[tuple[SyncRecord, BillDraft]], created: list[BillBill], duration_ms: int
) -> None:
    """BILL answered a bulk create: each row settled to the bill that is surely its own, together."""
    synced = SyncedBatch(FLOW, ctx.trigger, ctx.user, duration_ms=duration_ms)
    matched = match_created_bills(batch, created)
    window = ctx.settle_window("bill")
    for record, draft in batch:
        bill = matched.get(draft.voucher)
        if bill is None:  # BILL's answer holds no bill that is surely this one: look it up before use
            _trail(ctx, record, "in_doubt", draft, "201", "BILL's answer did not clearly include this bill.")
            keep_in_doubt(
                record,
                window,
                gave_up=True,
                label=draft.label,
                reason="BILL's answer did not clearly include this bill; it is looked up before anything "
                "is sent again.",
            )
            ctx.tally["bill_in_doubt"] += 1
            continue
        synced.add(
            record,
            outcome="created",
            request=_request(draft, bill_id=bill.id),
            response_status="201",
            target_id=bill.id,
            synced_hash=draft.hash,
            label=draft.label,
        )
    synced.save()
    ctx.tally["bill_created"] += len(matched)
    for record, draft in batch:
        if record.state == State.SYNCED:
            _align_new(ctx, record, draft)  # BILL's due brought down to GP's open amount (bill_due.py)


def match_created_bills(
    batch: list[tuple[SyncRecord, BillDraft]], created: list[BillBill]
) -> dict[str, BillBill]:
    """Pair each created bill with its request by identity, never by position: BILL documents no order
    for a bulk answer. A bill is ours when it carries our GP voucher in its description, and its vendor,
    invoice number and amount are the draft's; a voucher seen twice in the answer is matched to neither."""
    by_voucher: dict[str, list[BillBill]] = {}
    for bill in created:
        by_voucher.setdefault(voucher_from_description(bill.description) or "", []).append(bill)
    matched: dict[str, BillBill] = {}
    for _, draft in batch:
        found = by_voucher.get(draft.voucher, [])
        if len(found) == 1 and _is_draft(found[0], draft):
            matched[draft.voucher] = found[0]
    return matched


def _is_draft(bill: BillBill, draft: BillDraft) -> bool:
    return bool(
        bill.vendor_id == draft.payload["vendorId"]
        and bill.amount == draft.amount
        and bill.invoice_number == draft.payload["invoice"]["invoiceNumber"]
    )


def _trail(
    ctx: SyncContext,
    record: SyncRecord,
    outcome: str,
    draft: BillDraft,
    status: str,
    error: str,
    **extra: Any,
) -> None:
    with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
        log_.outcome = outcome
        log_.request = _request(draft, **extra)
        log_.response_status = status
        log_.error = error


def _request(draft: BillDraft, **extra: Any) -> dict[str, Any]:
    """What the trail keeps of a bill sent: enough to recognise it, not the whole body."""
    return {
        "invoiceNumber": draft.payload.get("invoice", {}).get("invoiceNumber"),
        "amount": str(draft.amount),
        "lines": len(draft.payload.get("billLineItems", [])),
        **extra,
    }


def _settle_in_doubt(
    ctx: SyncContext, batch: list[tuple[SyncRecord, BillDraft]], message: str, status: str
) -> None:
    """The call may have committed, now or later: adopt what BILL already shows; keep the rest `in_doubt`
    until a lookup after the settle window (longer than the client's timeout) proves it absent."""
    window = ctx.settle_window("bill")
    for record, draft in batch:
        _trail(ctx, record, "in_doubt", draft, status, message)
    ctx.tally["bill_in_doubt"] += len(batch)
    for record, draft in batch:
        try:
            bill = find_existing(ctx, draft)
        except Exception:  # BILL still unreachable: the retry sweep looks again
            bill = None
        if bill is not None:
            _adopt(ctx, record, draft, bill)
        else:
            keep_in_doubt(
                record,
                window,
                gave_up=True,
                label=draft.label,
                reason=f"BILL did not confirm the bill ({message}); it is looked up again before "
                "anything is sent.",
            )


def _calls_bill(ctx: SyncContext, invoice: GPInvoice, record: SyncRecord) -> bool:
    """Whether handle_existing will ask BILL anything (a changed or voided invoice), or only look."""
    if invoice.is_voided:
        return not record.snapshot.get("archived")
    if bill_due.needed(invoice, record):
        return True
    draft = build_draft(invoice, ctx)
    return draft.ready and draft.hash != record.synced_hash


def handle_existing(ctx: SyncContext, invoice: GPInvoice, record: SyncRecord) -> None:
    """A bill already in BILL: follow GP changes until BILL starts paying; archive on void; keep BILL's
    due at most GP's open amount (what a clerk paid in GP is recorded in BILL), or flag the risk."""
    if invoice.is_voided:
        _handle_void(ctx, invoice, record)
        return
    _follow_content(ctx, invoice, record)
    if bill_due.needed(invoice, record):
        bill_due.align(ctx, bill_due.GPSide.from_invoice(invoice), record)


def _follow_content(ctx: SyncContext, invoice: GPInvoice, record: SyncRecord) -> None:
    draft = build_draft(invoice, ctx)
    if not draft.ready:
        if draft.waiting_on:  # a mapping was withdrawn after the bill went: keep the bill, say so
            return
        settle(record, State.FLAGGED, reason=draft.problem, fix=draft.fix, label=draft.label)
        ctx.tally["bill_parked"] += 1
        return
    if draft.hash == record.synced_hash:
        if record.state != State.SYNCED and record.state != State.FLAGGED:
            settle(record, State.SYNCED)
        ctx.tally["bill_unchanged"] += 1
        return
    bill = ctx.bill.get_bill(record.target_id)
    if bill.payment_status in PAYMENT_STARTED or bill.paid_amount > 0 or bill.credit_amount > 0:
        reason = (
            f"Invoice {invoice.invoice_number} changed in GP after BILL started paying it "
            f"(BILL status {bill.payment_status}); the bill was not changed."
        )
        if record.reason != reason:
            with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
                log_.outcome = "flagged"
                log_.error = reason
                settle(
                    record,
                    State.FLAGGED,
                    reason=reason,
                    fix="Settle the difference in BILL or GP by hand, then choose Don't sync or Replay.",
                )
        ctx.tally["bill_flagged"] += 1
        return
    sent = send_once(  # a PUT: sent again as it is when in doubt
        record,
        trail=_trail_of(ctx),
        request={"update": record.target_id, "amount": str(draft.amount)},
        send=lambda log_: changed(log_, "updated", ctx.bill.put_bill(record.target_id, draft.payload)),
        done=lambda _, log_: settle(record, State.SYNCED, synced_hash=draft.hash, label=draft.label),
        words=UPDATE_WORDS,
    )
    count_change(ctx.tally, sent, "bill_updated", "bill")


def _handle_void(ctx: SyncContext, invoice: GPInvoice, record: SyncRecord) -> None:
    """Voided in GP: archive the bill before BILL can pay it; if BILL already has, that is a double-payment
    risk."""
    if record.snapshot.get("archived"):
        return
    position = bill_due.read_position(ctx, bill_due.GPSide.from_invoice(invoice), record.target_id)
    if position.risk:
        bill_due.flag_risk(ctx, record, position)
        return
    sent = send_once(  # archiving is idempotent in BILL: sent again when in doubt
        record,
        trail=_trail_of(ctx),
        request={"archive": record.target_id},
        send=lambda log_: changed(log_, "archived", ctx.bill.archive_bill(record.target_id)),
        done=lambda _, log_: settle(
            record,
            State.SYNCED,
            reason="Voided in GP; the BILL bill was archived.",
            snapshot={"archived": True},
        ),
        words=UPDATE_WORDS,
    )
    count_change(ctx.tally, sent, "bill_archived", "bill")

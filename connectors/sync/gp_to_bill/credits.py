"""GP credit memos and returns → BILL vendor credits, exactly once; and BILL never offers more of a credit
than GP has left of it.

Read in the bill flow's poll (bills.py hands credit documents here), under the same ledger rules as bills:
the `vendor_credit` row (keyed by the GP voucher) commits `sending` before the create; a row found
`sending`/`in_doubt` is looked up in BILL (same vendor, reference number, amount and our GP voucher in the
description) before anything is sent again; a lookup that finds nothing re-sends only after the settle window.

Then, from both systems read fresh: what GP applied of the credit *outside BILL* (a clerk's Apply Payables
Documents, a void) is GP's applied amount less our own applies (credit_applies.py, found in GP by their
deterministic keys from BILL's `usage`). BILL's credit may offer at most the rest: its lines are brought
down with `PUT /v3/vendor-credits/{id}` (BILL's documented replace; the amount may not go below what BILL
already used), or, when nothing is left and BILL used none, the credit is archived (BILL: an archived vendor
credit cannot be restored). If BILL already used more than GP has left, the row is flagged
**double-use risk** and an alert goes out at once.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from audit import documents, waits
from audit.alerts import alert_now
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
from audit.send_once import Sent, Trail, Words, changed, count_change, error_message, retried_as_is, send_once
from connectors.bill.records import BillVendorCredit
from connectors.gp.records import GPInvoice

from ..context import SyncContext
from ..errors import explain
from ..keys import apply_key
from ..suggest import ensure_account_suggestions, ensure_classification_suggestions
from .bill_payload import BillDraft, money, voucher_from_description
from .credit_payload import build_credit_draft, is_credit_approved, kind_word

log = logging.getLogger(__name__)
FLOW = "gp_credits"
RISK = "double_use_risk"
ZERO = Decimal("0.00")
NO_APPLY_OVER_WS = (
    "GP Web Services has no way to apply a credit memo to an invoice, so a credit BILL uses could "
    "not be applied in GP"
)


def sync_credit_docs(ctx: SyncContext, memos: list[GPInvoice]) -> None:
    """The credit memos and returns of one chunk of the bill flow's poll; one bad one does not stop the
    rest."""
    for memo in memos:
        try:
            handle(ctx, memo)
        except Exception as exc:
            log.exception("credit flow failed for voucher %s", memo.voucher)
            fail_unless_uncertain(
                get_record(ctx.tenant, Kind.VENDOR_CREDIT, memo.voucher),
                explain(exc),
                maybe_written=may_have_written(exc),
            )
            ctx.tally["credit_failed"] += 1


def handle(ctx: SyncContext, memo: GPInvoice, record: SyncRecord | None = None) -> None:
    approved, why = is_credit_approved(memo, ctx.tenant)
    if record is None:
        record = SyncRecord.objects.filter(
            tenant=ctx.tenant, kind=Kind.VENDOR_CREDIT, source_key=memo.voucher
        ).first()
        if record is None:
            if not approved:
                ctx.tally["credit_ignored"] += 1
                return
            record = get_record(ctx.tenant, Kind.VENDOR_CREDIT, memo.voucher)
    documents.note_invoice(record, memo)
    if record.state == State.SKIPPED:
        return
    if owned_elsewhere(record):  # another live worker is sending it: its answer settles the row
        ctx.tally["credit_busy"] += 1
        ctx.tally["bill_busy"] += 1  # keeps the bill poll's cursor, so this document is read again
        return
    if record.target_id:
        follow(ctx, memo, record)
        return
    if not approved:
        reason = f"Not sent to BILL: {why}."
        if record.state != State.PENDING or record.reason != reason:
            settle(record, State.PENDING, reason=reason)
        return
    if not getattr(ctx.gp, "writes_payments", True):
        reason = f"Not sent to BILL: {NO_APPLY_OVER_WS}."
        if record.state != State.PENDING or record.reason != reason:
            settle(
                record,
                State.PENDING,
                reason=reason,
                fix="Apply the credit memo in GP (Transactions › Purchasing › Apply Payables Documents).",
            )
        return
    draft = build_credit_draft(memo, ctx)
    if not draft.ready:
        _not_ready(ctx, record, draft)
        return
    if create(ctx, record, draft):
        follow(ctx, memo, record)


def _not_ready(ctx: SyncContext, record: SyncRecord, draft: BillDraft) -> None:
    if draft.problem:
        if record.state != State.FLAGGED or record.reason != draft.problem:
            settle(record, State.FLAGGED, reason=draft.problem, fix=draft.fix, label=draft.label)
        ctx.tally["credit_parked"] += 1
        return
    accounts = waits.keys(draft.waiting_on, waits.ACCOUNT)
    if accounts:
        ensure_account_suggestions(ctx, accounts)
    ensure_classification_suggestions(ctx, draft.waiting_on)
    new_waits = waits.differ(record, draft.waiting_on)
    if record.state != State.BLOCKED or new_waits or record.reason != draft.blocked_reason:
        settle(
            record,
            State.BLOCKED,
            reason=draft.blocked_reason,
            fix=draft.fix,
            waits=draft.waiting_on,
            label=draft.label,
        )
    ctx.tally["credit_blocked"] += 1


def find_existing(ctx: SyncContext, draft: BillDraft) -> BillVendorCredit | None:
    """The credit an earlier, unconfirmed create may have made: same vendor, reference number and amount,
    and our GP voucher in its description. Only this lookup stands between a timeout and a second credit."""
    for credit in ctx.bill.iter_vendor_credits(filters=[("vendorId", "eq", draft.payload["vendorId"])]):
        if (
            voucher_from_description(credit.description) == draft.voucher
            and not credit.archived
            and credit.reference_number == draft.payload["referenceNumber"]
            and credit.amount == draft.amount
        ):
            return credit
    return None


def _settle_linked(record: SyncRecord, draft: BillDraft, credit_id: str) -> None:
    """The row linked to its BILL vendor credit, whether created now or found after an unconfirmed create."""
    settle(
        record,
        State.SYNCED,
        target_id=credit_id,
        synced_hash=draft.hash,
        label=draft.label,
    )


def create(ctx: SyncContext, record: SyncRecord, draft: BillDraft) -> bool:
    """Send the create once (an uncertain row is looked up first); True when the row ends linked to a
    BILL credit."""
    sent = send_once(
        record,
        trail=Trail(FLOW, ctx.trigger, ctx.user),
        request={
            "referenceNumber": draft.payload["referenceNumber"],
            "amount": str(draft.amount),
            "lines": len(draft.payload["vendorCreditLineItems"]),
        },
        find=lambda: find_existing(ctx, draft),
        find_after_doubt=True,
        send=lambda log_: ctx.bill.create_vendor_credit(draft.payload),
        done=lambda credit, log_: _link(record, draft, credit, log_),
        window=ctx.settle_window("bill"),
        label=draft.label,
        settling_reason="BILL did not confirm the vendor credit and does not show it yet; it is looked up "
        "again before anything is sent.",
        words=CREATE_WORDS,
    )
    ctx.tally[TALLY[sent]] += 1
    if sent == Sent.BUSY:  # another worker took or settled the row since it was read
        ctx.tally["bill_busy"] += 1  # keeps the bill poll's cursor, so this document is read again
    return sent in (Sent.SENT, Sent.ADOPTED)


def _link(record: SyncRecord, draft: BillDraft, credit: BillVendorCredit, log_: AttemptLog) -> None:
    log_.request = {**log_.request, "vendorCredit": credit.id}
    _settle_linked(record, draft, credit.id)


def _create_reason(exc: BaseException) -> str:
    message = error_message(exc)
    if may_have_written(exc):
        return (
            f"BILL did not confirm the vendor credit ({message}); "
            "it is looked up again before anything is sent."
        )
    if getattr(exc, "retryable", False):
        return f"BILL did not take the vendor credit: {message}"
    return f"BILL refused the vendor credit: {message}"


CREATE_WORDS = Words(
    reason=_create_reason,
    fix_failed="It is retried automatically; Replay to retry now.",
    fix_refused="Correct the credit memo or its mappings, then Replay.",
)
UPDATE_WORDS = retried_as_is(explain)  # an archive or a PUT: sent again as it is
TALLY = {
    Sent.SENT: "credit_created",
    Sent.ADOPTED: "credit_adopted",
    Sent.SETTLING: "credit_in_doubt",
    Sent.IN_DOUBT: "credit_in_doubt",
    Sent.BUSY: "credit_busy",
    Sent.FAILED: "credit_failed",
    Sent.REFUSED: "credit_parked",
}


# --- after the credit is in BILL: GP's applications outside BILL, and voids ---------------------------------
def gp_applied_outside(
    ctx: SyncContext, memo: GPInvoice, credit: BillVendorCredit
) -> tuple[Decimal, Decimal]:
    """(applied in GP outside BILL, applied in GP by our write-back of BILL's uses), both read fresh: our
    applies are found in GP by the keys derived from BILL's usage of the credit."""
    digits = memo.decimal_digits if memo.decimal_digits is not None else 2
    document = money(memo.document_amount, digits)
    applied = document if memo.is_voided else max(document - money(memo.remaining, digits), ZERO)
    ours = ZERO
    for bill_id, payment_id, _amount in credit.usage:
        found = ctx.gp.get_apply(apply_key(payment_id, credit.id, bill_id)) if payment_id else None
        if found is not None:
            ours += found.amount
    return max(applied - ours, ZERO), ours


def follow(ctx: SyncContext, memo: GPInvoice, record: SyncRecord) -> None:
    """A credit already in BILL: BILL may offer at most what GP has left of it (bring it down, archive it,
    or flag a double use). Safe to repeat: every step is computed from both systems as they are now."""
    digits = memo.decimal_digits if memo.decimal_digits is not None else 2
    document = money(memo.document_amount, digits)
    touched = memo.is_voided or money(memo.remaining, digits) < document or bool(record.snapshot.get(RISK))
    if not touched or record.snapshot.get("archived"):
        if record.state not in (State.SYNCED, State.FLAGGED, State.SKIPPED):
            settle(record, State.SYNCED)
        ctx.tally["credit_unchanged"] += 1
        return
    credit = ctx.bill.get_vendor_credit(record.target_id)
    outside, _ours = gp_applied_outside(ctx, memo, credit)
    allowed = max(document - outside, ZERO)  # what BILL's credit may amount to in all
    if credit.applied_amount > allowed:
        _flag_double_use(ctx, record, memo, credit, outside, allowed)
        return
    if record.snapshot.get(RISK) and record.state == State.FLAGGED:
        settle(
            record,
            State.SYNCED,
            reason="The double-use risk is gone: GP and BILL agree again.",
            snapshot={k: v for k, v in record.snapshot.items() if k != RISK},
        )
    if credit.archived or credit.amount <= allowed:
        if record.state != State.SYNCED and record.state != State.FLAGGED:
            settle(record, State.SYNCED)
        ctx.tally["credit_unchanged"] += 1
        return
    if allowed == 0:
        _archive(ctx, record, memo, credit, outside)
    else:
        _bring_down(ctx, record, memo, credit, allowed, outside)


def _archive(
    ctx: SyncContext, record: SyncRecord, memo: GPInvoice, credit: BillVendorCredit, outside: Decimal
) -> None:
    why = "voided in GP" if memo.is_voided else f"fully applied in GP outside BILL ({outside})"
    sent = send_once(  # archiving is idempotent in BILL: sent again when unconfirmed
        record,
        trail=Trail(FLOW, ctx.trigger, ctx.user),
        request={"archive": credit.id},
        send=lambda log_: changed(log_, "archived", ctx.bill.archive_vendor_credit(credit.id)),
        done=lambda _, log_: settle(
            record,
            State.SYNCED,
            reason=f"The GP {kind_word(memo)} was {why}; the BILL vendor credit was "
            "archived so BILL cannot use it.",
            snapshot={**record.snapshot, "archived": True, "gp_applied_outside": str(outside)},
        ),
        words=UPDATE_WORDS,
    )
    count_change(ctx.tally, sent, "credit_archived", "credit")


def reduced_lines(credit: BillVendorCredit, allowed: Decimal) -> list[dict[str, Any]]:
    """The credit's lines (ids kept) with the excess taken off the last lines first; a line brought to zero
    is left out (BILL's PUT removes a line whose id is omitted)."""
    excess = credit.amount - allowed
    raw = {i.get("id"): i for i in credit.raw.get("vendorCreditLineItems") or []}
    out: list[dict[str, Any]] = []
    for line in reversed(credit.line_items):
        cut = min(excess, max(line.amount, ZERO))
        excess -= cut
        if line.amount - cut == 0:
            continue
        item = {"id": line.id, "amount": line.amount - cut, "description": line.description}
        if raw.get(line.id, {}).get("classifications"):
            item["classifications"] = raw[line.id]["classifications"]
        out.append(item)
    return list(reversed(out))


def _bring_down(
    ctx: SyncContext,
    record: SyncRecord,
    memo: GPInvoice,
    credit: BillVendorCredit,
    allowed: Decimal,
    outside: Decimal,
) -> None:
    credit_date = credit.credit_date or memo.date
    assert credit_date is not None  # the credit was sent with the memo's date (no date: never sent)
    payload = {
        "vendorId": credit.vendor_id,
        "referenceNumber": credit.reference_number,
        "creditDate": credit_date.isoformat(),
        "description": credit.description,
        "vendorCreditLineItems": reduced_lines(credit, allowed),
    }
    sent = send_once(  # a PUT: sent again as it is when unconfirmed
        record,
        trail=Trail(FLOW, ctx.trigger, ctx.user),
        request={
            "update": credit.id,
            "amount_before": str(credit.amount),
            "amount": str(allowed),
            "gp_applied_outside": str(outside),
        },
        send=lambda log_: changed(log_, "brought_down", ctx.bill.put_vendor_credit(credit.id, payload)),
        done=lambda _, log_: settle(
            record,
            State.SYNCED,
            reason=f"GP applied {outside} of this {kind_word(memo)} outside BILL; the BILL vendor credit was "
            f"brought down from {credit.amount} to {allowed} (BILL has used {credit.applied_amount}).",
            snapshot={**record.snapshot, "gp_applied_outside": str(outside), "bill_amount": str(allowed)},
        ),
        words=UPDATE_WORDS,
    )
    count_change(ctx.tally, sent, "credit_brought_down", "credit")


def _flag_double_use(
    ctx: SyncContext,
    record: SyncRecord,
    memo: GPInvoice,
    credit: BillVendorCredit,
    outside: Decimal,
    allowed: Decimal,
) -> None:
    details = {
        "vendor": memo.vendor_id,
        "credit_memo": memo.invoice_number,
        "voucher": memo.voucher,
        "gp_document": str(memo.document_amount),
        "gp_applied_outside_bill": str(outside),
        "gp_voided": "yes" if memo.is_voided else "no",
        "bill_vendor_credit": credit.id,
        "bill_used": str(credit.applied_amount),
        "bill_may_use": str(allowed),
    }
    if record.state == State.FLAGGED and record.snapshot.get(RISK) == details:
        return
    reason = (
        f"Double-use risk: GP {kind_word(memo)} {memo.invoice_number} (voucher {memo.voucher}) of vendor "
        f"{memo.vendor_id}: GP applied {outside} of it outside "
        f"BILL{' and voided it' if memo.is_voided else ''}, "
        f"leaving {allowed}, but BILL has already used {credit.applied_amount} of vendor credit {credit.id}."
    )
    fix = (
        "Undo one of the two: unapply the credit memo in GP, or void the BILL payment that used the credit. "
        "Then choose Replay (or Don't sync once settled by hand)."
    )
    with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
        log_.outcome, log_.error = RISK, reason
        settle(record, State.FLAGGED, reason=reason, fix=fix, snapshot={**record.snapshot, RISK: details})
    ctx.tally["credit_double_use_risk"] += 1
    alert_now(
        record,
        f"Double-use risk: {memo.vendor_id} {kind_word(memo)} {memo.invoice_number}",
        reason,
        fix,
        details,
    )

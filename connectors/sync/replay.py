"""Replay: run the same flow again for one ledger row. Always safe (reconcile comes first)."""

from __future__ import annotations

import logging
from typing import Any

from audit.ledger import attempt, fail_unless_uncertain, may_have_written, settle
from audit.models import ATTENTION_STATES, Kind, State, SyncRecord, Trigger
from mappings.models import ClassificationMapping, GLAccountMapping

from .bill_to_gp import credit_applies, payments, vendors_back
from .context import SyncContext
from .errors import explain

# Flows by module name (`credits.handle`, `bill_due.align`): the call says which flow runs.
from .gp_to_bill import bill_due, bills, classifications, credits, gl_accounts, vendors

log = logging.getLogger(__name__)


def replay_record(
    record: SyncRecord, *, trigger: str = Trigger.REPLAY, user: Any = None, ctx: SyncContext | None = None
) -> SyncRecord:
    """Re-read the source of `record` and send it through its flow; returns the record as it ends."""
    ctx = ctx or SyncContext.for_tenant(record.tenant, trigger=trigger, user=user)
    if record.state == State.SKIPPED and trigger != Trigger.PERSON:
        return record
    last_attempt = record.trail.values_list("pk", flat=True).first()
    try:
        if record.kind == Kind.BILL:
            _replay_bill(ctx, record)
        elif record.kind == Kind.VENDOR:
            _replay_vendor(ctx, record)
        elif record.kind == Kind.GL_ACCOUNT:
            _replay_account(ctx, record)
        elif record.kind == Kind.CLASSIFICATION:
            _replay_classification(ctx, record)
        elif record.kind == Kind.GP_PAYMENT:
            payments.replay_payment(ctx, record)
        elif record.kind == Kind.BILL_DUE:
            _replay_bill_due(ctx, record)
        elif record.kind == Kind.VENDOR_CREDIT:
            _replay_credit(ctx, record)
        elif record.kind == Kind.CREDIT_APPLY:
            credit_applies.replay_apply(ctx, record)
    except Exception as exc:
        log.exception("replay of %s failed", record)
        fail_unless_uncertain(record, explain(exc), maybe_written=may_have_written(exc))
    record.refresh_from_db()
    if trigger == Trigger.REPLAY and record.trail.values_list("pk", flat=True).first() == last_attempt:
        _note_replay(record, user)
    return record


def _note_replay(record: SyncRecord, user: Any) -> None:
    """A replay that found nothing to send still leaves its line in the trail, with where the record
    stands."""
    with attempt(record, "replay", Trigger.REPLAY, user) as log_:
        log_.outcome = "replayed"
        log_.error = record.reason


def _replay_bill(ctx: SyncContext, record: SyncRecord) -> None:
    invoice = ctx.gp.get_invoice(record.source_key)
    if invoice is None:
        settle(
            record,
            State.FLAGGED,
            reason=f"GP has no invoice with voucher {record.source_key} any more.",
            fix="Check the voucher in GP; choose Don't sync if it was deleted on purpose.",
        )
        return
    ctx.forget_vendor(invoice.vendor_id)
    for dist in invoice.distributions:
        ctx.forget_account(dist.account)
    item = bills.decide(ctx, invoice, record)
    if item:
        bills.create_batch(ctx, [item])


def _replay_credit(ctx: SyncContext, record: SyncRecord) -> None:
    """Re-read the GP credit memo and run it through the credit flow (an unconfirmed create is looked up
    first)."""
    memo = ctx.gp.get_invoice(record.source_key)
    if memo is None:
        settle(
            record,
            State.FLAGGED,
            reason=f"GP has no credit memo with voucher {record.source_key} any more.",
            fix="Check the voucher in GP; choose Don't sync if it was deleted on purpose.",
        )
        return
    ctx.forget_vendor(memo.vendor_id)
    for dist in memo.distributions:
        ctx.forget_account(dist.account)
    credits.handle(ctx, memo, record)


def _replay_bill_due(ctx: SyncContext, record: SyncRecord) -> None:
    """Reconcile (an unconfirmed recording is looked for first), then record what GP still has applied
    outside BILL, from both systems read fresh."""
    invoice = ctx.gp.get_invoice(record.source_key)
    bill = SyncRecord.objects.filter(tenant=ctx.tenant, kind=Kind.BILL, source_key=record.source_key).first()
    if invoice is None or bill is None or not bill.target_id:
        settle(
            record,
            State.FLAGGED,
            reason=f"GP voucher {record.source_key} or its BILL bill is gone.",
            fix="Compare the voucher in GP with the bill in BILL; choose Don't sync once settled.",
        )
        return
    bill_due.align(ctx, bill_due.GPSide.from_invoice(invoice), bill)


def _replay_vendor(ctx: SyncContext, record: SyncRecord) -> None:
    vendor = ctx.gp.get_vendor(record.source_key)
    if vendor is None:
        settle(record, State.FLAGGED, reason=f"GP has no vendor {record.source_key} any more.")
        return
    ctx.forget_vendor(vendor.vendor_id)
    item = vendors.process_vendor(ctx, vendor)
    if item:
        vendors.create_vendors(ctx, [item])
        return
    record.refresh_from_db()
    if record.target_id and record.state not in (State.CONFLICT, State.SKIPPED):
        vendors_back.apply_bill_vendor(ctx, ctx.bill.get_vendor(record.target_id))  # BILL's side, read fresh


def _replay_account(ctx: SyncContext, record: SyncRecord) -> None:
    mapping = GLAccountMapping.objects.filter(tenant=ctx.tenant, gp_account=record.source_key).first()
    if mapping and not mapping.bill_account_id:
        gl_accounts.create_account(ctx, mapping)


def _replay_classification(ctx: SyncContext, record: SyncRecord) -> None:
    """A department/location/class whose create failed or was unconfirmed: try (or look up) again."""
    kind, _, value = record.source_key.partition(":")
    mapping = ClassificationMapping.objects.filter(tenant=ctx.tenant, kind=kind, gp_value=value).first()
    if mapping and not mapping.bill_id:
        classifications.create_classification(ctx, mapping)


def replay_many(ids: list[int], *, trigger: str = Trigger.REPLAY, user: Any = None) -> dict[str, int]:
    """Replay records (grouped per tenant so each tenant's clients are built once). A release after a
    mapping approval skips records no longer waiting (settled by the run, or by an earlier release of
    another mapping they waited on): those cost a database read, never a GP or BILL call."""
    results: dict[str, int] = {}
    contexts: dict[int, SyncContext] = {}
    records = SyncRecord.objects.filter(pk__in=ids)
    if trigger == Trigger.MAPPING:
        skipped = records.exclude(state__in=ATTENTION_STATES).count()
        if skipped:
            results["no_longer_waiting"] = skipped
        records = records.filter(state__in=ATTENTION_STATES)
    for record in records.select_related("tenant").order_by("kind", "pk"):
        ctx = contexts.get(record.tenant_id)
        if ctx is None:
            ctx = contexts[record.tenant_id] = SyncContext.for_tenant(
                record.tenant, trigger=trigger, user=user
            )
        ended = replay_record(record, trigger=trigger, user=user, ctx=ctx)
        results[ended.state] = results.get(ended.state, 0) + 1
    return results

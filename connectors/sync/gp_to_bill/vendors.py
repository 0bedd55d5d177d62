"""GP vendors → BILL vendors: suggest mappings, create approved new vendors, follow changes.

One ledger record per GP vendor serves both directions; its snapshot["agreed"] holds the aligned
fields both sides last agreed on, so a change equal to what we wrote is never sent back (no echo),
and a field changed on both sides is a conflict for a person, not a silent overwrite.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

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
    error_message,
    look_up_first,
    retried_as_is,
    send_batch_once,
    send_once,
    update_rows,
)
from connectors.bill.filters import text_lookup
from connectors.bill.records import BillVendor
from connectors.gp.records import GPVendor
from mappings.approval import records_waiting_on_any, release, release_ids
from mappings.models import MappingAction, MappingState, VendorMapping

from .. import vendor_fields as vf
from ..context import SyncContext
from ..cursors import poll_run
from ..errors import explain
from ..hashing import content_hash
from ..suggest import suggest_vendor
from . import vendor_link
from .batching import chunks, deferrer, drain, in_thread
from .vendor_patch import patch_bill_vendor

log = logging.getLogger(__name__)
FLOW = "gp_vendors"
BULK = 20
CHUNK = 100  # GP vendors whose mappings and ledger rows are fetched together
_LOOKUP = object()  # process_vendor: "look the mapping up yourself"
# A change to a vendor already in BILL that fails: retried as it is (it sets fields to GP's values).
UPDATE_WORDS = retried_as_is(explain)


def is_archived_in_gp(vendor: GPVendor) -> bool:
    return bool(vendor.is_on_hold) or (vendor.status or "").lower() == "inactive"


def sync_vendors(ctx: SyncContext, *, full: bool = False) -> dict[str, int]:
    """One poll of GP vendors changed since the cursor: new ones created in BILL ≤20 a call, up to
    BILL_CONCURRENCY_LIMIT calls in parallel (each batch written ahead in its own thread)."""
    workers = 2 * settings.BILL_CONCURRENCY_LIMIT  # as in bills: settling never idles a BILL slot
    creates: list[tuple[SyncRecord, VendorMapping, GPVendor]] = []
    with poll_run(ctx, FLOW, "vendor_", full=full) as run:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vendors") as pool:
            pending: list[Future[None]] = []
            later = deferrer(pool, pending, lambda vendor_id, exc: _failed(ctx, vendor_id, exc))
            for chunk in chunks(ctx.gp.iter_vendors(modified_since=run.since), CHUNK):
                mappings, records = _prefetch(ctx, chunk)
                for vendor in chunk:
                    try:
                        item = process_vendor(
                            ctx, vendor, mappings.get(vendor.vendor_id), records.get(vendor.vendor_id), later
                        )
                    except Exception as exc:  # one bad vendor must not stop the run
                        log.exception("vendor flow failed for %s", vendor.vendor_id)
                        _failed(ctx, vendor.vendor_id, exc)
                        continue
                    if item:
                        creates.append(item)
                    if len(creates) >= BULK:
                        pending.append(pool.submit(in_thread, create_vendors, ctx, creates))
                        creates = []
                        drain(pending, keep=workers)
            if creates:
                pending.append(pool.submit(in_thread, create_vendors, ctx, creates))
            drain(pending, keep=0)
    return run.summary


def _failed(ctx: SyncContext, vendor_id: str, exc: Exception) -> None:
    fail_unless_uncertain(
        get_record(ctx.tenant, Kind.VENDOR, vendor_id), explain(exc), maybe_written=may_have_written(exc)
    )
    ctx.tally["vendor_failed"] += 1


def _prefetch(
    ctx: SyncContext, vendors: list[GPVendor]
) -> tuple[dict[str, VendorMapping], dict[str, SyncRecord]]:
    """A chunk's mappings and ledger rows in a few queries; rows for approved mappings made in one."""
    ids = [v.vendor_id for v in vendors]
    mappings = {
        m.gp_vendor_id: m for m in VendorMapping.objects.filter(tenant=ctx.tenant, gp_vendor_id__in=ids)
    }
    records = {
        r.source_key: r
        for r in SyncRecord.objects.filter(tenant=ctx.tenant, kind=Kind.VENDOR, source_key__in=ids)
    }
    new = [
        i
        for i in ids
        if i not in records and getattr(mappings.get(i), "state", None) == MappingState.APPROVED
    ]
    if new:
        SyncRecord.objects.bulk_create(
            [SyncRecord(tenant=ctx.tenant, kind=Kind.VENDOR, source_key=i) for i in new],
            ignore_conflicts=True,
        )
        records.update(
            (r.source_key, r)
            for r in SyncRecord.objects.filter(tenant=ctx.tenant, kind=Kind.VENDOR, source_key__in=new)
        )
    return mappings, records


def process_vendor(
    ctx: SyncContext,
    vendor: GPVendor,
    mapping: VendorMapping | None | object = _LOOKUP,
    record: SyncRecord | None = None,
    later: Callable[..., None] | None = None,
) -> tuple[SyncRecord, VendorMapping, GPVendor] | None:
    """Settle one GP vendor; returns it when it must be created in BILL (done in bulk).
    `mapping` and `record` are passed when the caller fetched them for a whole chunk; a change to
    send to an existing BILL vendor goes to `later` (the run's worker threads) when given."""
    if mapping is _LOOKUP:
        mapping = VendorMapping.objects.filter(tenant=ctx.tenant, gp_vendor_id=vendor.vendor_id).first()
    assert mapping is None or isinstance(mapping, VendorMapping)
    if mapping is None or mapping.state == MappingState.SUGGESTED:
        mapping = suggest_vendor(ctx, vendor)
        if ctx.tenant.auto_create_vendors and mapping.action == MappingAction.CREATE:
            mapping.state = MappingState.APPROVED
            mapping.note = "Created in BILL automatically (tenant policy)."
            mapping.save()
        else:
            ctx.tally["vendor_suggested"] += 1
            return None
    if mapping.state == MappingState.REJECTED:
        ctx.tally["vendor_rejected"] += 1
        return None
    record = record or get_record(ctx.tenant, Kind.VENDOR, vendor.vendor_id)
    if record.state == State.SKIPPED:
        return None
    if record.target_id and not mapping.bill_vendor_id:
        # The mapping may have been read before another writer linked it (both are saved together).
        mapping.refresh_from_db()
    aligned = vf.from_gp(vendor)
    label = f"{vendor.vendor_id} {aligned['name']}"
    if owned_elsewhere(record):  # another live worker is writing it: only look, never settle or send
        found = (
            None
            if mapping.bill_vendor_id or not aligned["name"]
            else find_existing_vendor(ctx, aligned, vendor.vendor_id, sent=record.snapshot.get("sent"))
        )
        if found is not None:
            _adopt(ctx, record, mapping, found, aligned, vendor)
        else:
            ctx.tally["vendor_busy"] += 1
        return None
    if not aligned["name"]:
        settle(
            record,
            State.FLAGGED,
            reason=f"GP vendor {vendor.vendor_id} has no name.",
            fix="Give the vendor a name in GP.",
            label=label,
        )
        return None
    if not mapping.bill_vendor_id:
        looked = look_up_first(
            record,
            trail=Trail(FLOW, ctx.trigger, ctx.user),
            request={"vendor": vendor.vendor_id},
            find=lambda: find_existing_vendor(
                ctx, aligned, vendor.vendor_id, sent=record.snapshot.get("sent")
            ),
            done=lambda bill_vendor, log_: _link(ctx, record, mapping, bill_vendor, aligned, vendor, log_),
            window=ctx.settle_window("bill"),
            label=label,
            settling_reason=f"BILL did not confirm vendor {vendor.vendor_id} and does not show it yet; it "
            "is looked up again before anything is sent.",
        )
        if looked == Sent.ADOPTED:
            _after_link(ctx, record, mapping, vendor, "adopted")
            return None
        if looked == Sent.SETTLING:  # a late commit may show up
            ctx.tally["vendor_in_doubt"] += 1
            return None
        return record, mapping, vendor
    if vendor_link.needs_link(record, mapping):  # first link, or a person's field choices: nothing silent
        run = later or (lambda key, func, *args: func(*args))
        run(vendor.vendor_id, vendor_link.link, ctx, record, mapping, vendor, aligned, label)
        return None
    record.target_id = mapping.bill_vendor_id
    unchanged = content_hash(aligned) == record.synced_hash and not is_uncertain(record)
    if later is not None and not (
        unchanged and is_archived_in_gp(vendor) == bool(record.snapshot.get("archived"))
    ):
        later(vendor.vendor_id, update_vendor, ctx, record, vendor, aligned, label)
    else:
        update_vendor(ctx, record, vendor, aligned, label)
    return None


def find_existing_vendor(
    ctx: SyncContext, aligned: dict[str, Any], gp_vendor_id: str, sent: dict[str, Any] | None = None
) -> BillVendor | None:
    """A BILL vendor an unconfirmed create may have made: same name, e-mail and tax ID as GP's vendor
    now or as the create sent (`sent`, kept on the row before the call: a clerk may have changed the
    vendor in GP since, and the lookup must still find what the lost call made), and not the BILL
    vendor of another GP vendor. Among several that differ, the one equal on every aligned field;
    when that does not single one out, none (the row stays in doubt rather than take another's)."""
    taken = set(
        VendorMapping.objects.filter(tenant=ctx.tenant)
        .exclude(gp_vendor_id=gp_vendor_id)
        .exclude(bill_vendor_id="")
        .values_list("bill_vendor_id", flat=True)
    )
    shapes = [aligned] + ([sent] if sent and sent != aligned else [])
    identities = {identity(shape) for shape in shapes}
    candidates, seen = [], set()
    for name in dict.fromkeys(shape["name"] for shape in shapes if shape.get("name")):
        for candidate in ctx.bill.iter_vendors(filters=text_lookup("name", name)):
            other = vf.from_bill(candidate.raw)
            if candidate.id not in taken and candidate.id not in seen and identity(other) in identities:
                seen.add(candidate.id)
                candidates.append((candidate, other))
    if len(candidates) > 1 and any(o != candidates[0][1] for _, o in candidates):
        candidates = [(c, o) for c, o in candidates if o in shapes]
    # Several left are alike in every aligned field (twins sent together): any one is this vendor's.
    return min(candidates, key=lambda pair: pair[0].id)[0] if candidates else None


def identity(aligned: dict[str, Any]) -> tuple[str, str, str]:
    """What tells one vendor from another: name (case aside), e-mail and tax ID."""
    return aligned["name"].lower(), aligned["email"], aligned["tax_id"]


def match_created_vendors(
    items: list[tuple[SyncRecord, VendorMapping, GPVendor]], created: list[BillVendor]
) -> dict[int, BillVendor]:
    """Pair each created BILL vendor with its request by identity, never by position: BILL documents no
    order for a bulk answer. First on name, e-mail and tax ID; where two requests share those, on every
    aligned field; what still is not one-to-one is matched to nothing (the caller keeps it in doubt)."""
    sent = [vf.from_gp(v) for _, _, v in items]
    answered = [vf.from_bill(b.raw) for b in created]
    matched: dict[int, BillVendor] = {}
    for key in (identity, lambda a: repr(sorted(a.items()))):
        for i, mine in enumerate(sent):
            if i in matched:
                continue
            same_sent = [j for j, other in enumerate(sent) if key(other) == key(mine)]
            same_answer = [n for n, other in enumerate(answered) if key(other) == key(mine)]
            if len(same_sent) == 1 and len(same_answer) == 1:
                matched[i] = created[same_answer[0]]
    return matched


def _adopt(
    ctx: SyncContext,
    record: SyncRecord,
    mapping: VendorMapping,
    bill_vendor: BillVendor,
    aligned: dict[str, Any],
    vendor: GPVendor,
) -> None:
    """The BILL vendor an unconfirmed create made is this GP vendor's: link it, and say so in the trail."""
    adopt(
        record,
        Trail(FLOW, ctx.trigger, ctx.user),
        bill_vendor,
        lambda found, log_: _link(ctx, record, mapping, found, aligned, vendor, log_),
        {"vendor": vendor.vendor_id},
    )
    _after_link(ctx, record, mapping, vendor, "adopted")


def _link(
    ctx: SyncContext,
    record: SyncRecord,
    mapping: VendorMapping,
    bill_vendor: BillVendor,
    aligned: dict[str, Any],
    vendor: GPVendor,
    log_: AttemptLog,
) -> None:
    """Map the GP vendor to the BILL vendor, then settle the row (the mapping is saved first: a row
    linked without its mapping would look like a vendor never created)."""
    mapping.bill_vendor_id = bill_vendor.id
    mapping.bill_name = aligned["name"][:200]
    mapping.save(update_fields=["bill_vendor_id", "bill_name", "updated_at"])
    ctx.forget_vendor(vendor.vendor_id)
    # Agreed is what BILL holds: a vendor found from what an earlier create sent may differ from GP's
    # vendor now, and the next run then sends GP's changes (content hashes differ).
    agreed = vf.from_bill(bill_vendor.raw) if getattr(bill_vendor, "raw", None) else aligned
    log_.request = {**log_.request, "bill_vendor": bill_vendor.id}
    settle(
        record,
        State.SYNCED,
        target_id=bill_vendor.id,
        synced_hash=content_hash(agreed),
        snapshot={"agreed": agreed, "archived": False},
        label=f"{vendor.vendor_id} {aligned['name']}",
    )


def _after_link(
    ctx: SyncContext, record: SyncRecord, mapping: VendorMapping, vendor: GPVendor, outcome: str
) -> None:
    ctx.tally[f"vendor_{outcome}"] += 1
    if is_archived_in_gp(vendor):
        _set_archived(ctx, record, True)
    release(mapping)  # bills that waited for this vendor go on


def create_vendors(ctx: SyncContext, items: list[tuple[SyncRecord, VendorMapping, GPVendor]]) -> None:
    """Create new BILL vendors after the write-ahead, which only hands back the rows this worker won
    (the run, a mapping approval and a replay may all decide to create the same vendor)."""
    busy = send_batch_once(
        [(record, (mapping, vendor)) for record, mapping, vendor in items],
        window=ctx.settle_window("bill"),
        send=lambda rows: _bulk_create(ctx, _unpair(rows)),
        created=lambda rows, created, ms: _adopt_created(ctx, _unpair(rows), created, ms),
        failed=lambda rows, exc, how: _settle_failed(ctx, _unpair(rows), exc, how),
    )
    if busy:
        ctx.tally["vendor_busy"] += busy


def _unpair(
    rows: list[tuple[SyncRecord, tuple[VendorMapping, GPVendor]]],
) -> list[tuple[SyncRecord, VendorMapping, GPVendor]]:
    return [(record, mapping, vendor) for record, (mapping, vendor) in rows]


def _keep_sent(items: list[tuple[SyncRecord, VendorMapping, GPVendor]]) -> None:
    """Keep on each row (written ahead, still ours) what its create sends: if the answer is lost, the
    lookup finds the vendor by that even after a clerk changed the vendor in GP meanwhile."""
    with transaction.atomic():
        for record, _, vendor in items:
            record.snapshot = {**(record.snapshot or {}), "sent": vf.from_gp(vendor)}
            SyncRecord.objects.filter(pk=record.pk, state=State.SENDING, sending_by=record.sending_by).update(
                snapshot=record.snapshot
            )


def _bulk_create(
    ctx: SyncContext, items: list[tuple[SyncRecord, VendorMapping, GPVendor]]
) -> list[BillVendor]:
    """One bulk call (≤20) for rows already written ahead (a refused batch is split by send_batch_once)."""
    _keep_sent(items)  # again for each half of a split batch: the same values
    bodies = [vf.bill_body(vf.from_gp(v)) for _, _, v in items]
    if len(items) > 1:
        return list(ctx.bill.bulk_create_vendors(bodies))
    return [ctx.bill.create_vendor(bodies[0])]


def _settle_failed(
    ctx: SyncContext, items: list[tuple[SyncRecord, VendorMapping, GPVendor]], exc: BaseException, how: Sent
) -> None:
    """A bulk call BILL did not carry out for sure (send_batch_once has sorted the error)."""
    state = {Sent.IN_DOUBT: State.IN_DOUBT, Sent.FAILED: State.FAILED}.get(how, State.FLAGGED)
    for record, _, vendor in items:
        with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
            log_.outcome = state
            log_.response_status = str(getattr(exc, "status", None) or "")
            log_.error = error_message(exc)
            reason = f"BILL did not create vendor {vendor.vendor_id}: {log_.error}"
            if state == State.IN_DOUBT:
                keep_in_doubt(record, ctx.settle_window("bill"), gave_up=True, reason=reason)
            else:
                settle(
                    record,
                    state,
                    reason=reason,
                    fix="Retried automatically."
                    if state != State.FLAGGED
                    else "Correct the vendor in GP, then Replay.",
                )
    ctx.tally["vendor_failed"] += len(items)


def _adopt_created(
    ctx: SyncContext,
    items: list[tuple[SyncRecord, VendorMapping, GPVendor]],
    created: list[BillVendor],
    duration_ms: int,
) -> None:
    """What `_adopt` does for each vendor of a bulk create, with the rows saved together; a vendor the
    answer does not clearly give back stays in doubt and is looked up before use."""
    synced = SyncedBatch(FLOW, ctx.trigger, ctx.user, duration_ms=duration_ms)
    now = timezone.now()
    adopted = []
    matched = match_created_vendors(items, created)
    for i, (record, mapping, vendor) in enumerate(items):
        aligned = vf.from_gp(vendor)
        bill_vendor = matched.get(i)
        if bill_vendor is None:
            with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
                log_.outcome, log_.response_status = State.IN_DOUBT, "201"
                log_.error = "BILL's answer did not tell this vendor apart from another one sent with it."
                keep_in_doubt(
                    record,
                    ctx.settle_window("bill"),
                    gave_up=True,
                    label=f"{vendor.vendor_id} {aligned['name']}",
                    reason=f"BILL created vendor {vendor.vendor_id} with another one like it; which is "
                    "which is checked before either is used.",
                )
            ctx.tally["vendor_in_doubt"] += 1
            continue
        mapping.bill_vendor_id, mapping.bill_name, mapping.updated_at = (
            bill_vendor.id,
            aligned["name"][:200],
            now,
        )
        synced.add(
            record,
            outcome="created",
            request={"vendor": vendor.vendor_id, "bill_vendor": bill_vendor.id},
            response_status="201",
            target_id=bill_vendor.id,
            synced_hash=content_hash(aligned),
            snapshot={"agreed": aligned, "archived": False},
            label=f"{vendor.vendor_id} {aligned['name']}",
        )
        adopted.append((record, mapping, vendor))
    with transaction.atomic():
        update_rows([m for _, m, _ in adopted], ["bill_vendor_id", "bill_name", "updated_at"])
        synced.save()
    for record, _mapping, vendor in adopted:
        ctx.forget_vendor(vendor.vendor_id)
        ctx.tally["vendor_created"] += 1
        if is_archived_in_gp(vendor):
            _set_archived(ctx, record, True)
    release_many(ctx, [m for _, m, _ in adopted])  # bills that waited for these vendors go on


def release_many(ctx: SyncContext, mappings: list[VendorMapping]) -> None:
    """`release(mapping)` for many new vendors: one query finds every record waiting on any of them."""
    release_ids(records_waiting_on_any(mappings))


def update_vendor(
    ctx: SyncContext, record: SyncRecord, vendor: GPVendor, aligned: dict[str, Any], label: str
) -> None:
    """Send GP's changed fields to BILL, unless BILL changed the same field since we last agreed."""
    archived = is_archived_in_gp(vendor)
    if content_hash(aligned) == record.synced_hash and not is_uncertain(record):
        if archived != bool(record.snapshot.get("archived")):
            _set_archived(ctx, record, archived)
        if record.state == State.FAILED:  # nothing left to send from GP's side (a replay)
            settle(record, State.SYNCED, label=label)
        ctx.tally["vendor_unchanged"] += 1
        return
    bill_raw = ctx.bill.get_vendor(record.target_id).raw
    bill_now = vf.from_bill(bill_raw)
    # Always set here: a vendor without an agreed copy goes through vendor_link.link (needs_link).
    agreed = record.snapshot["agreed"]
    gp_changed = vf.changed_fields(aligned, agreed)
    bill_changed = vf.changed_fields(bill_now, agreed)
    clash = {f for f in gp_changed & bill_changed if aligned[f] != bill_now[f]}
    if clash:
        snapshot = {**record.snapshot, "gp": aligned, "bill": bill_now, "conflicts": sorted(clash)}
        with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
            log_.outcome = "conflict"
            log_.error = "Changed on both sides: " + ", ".join(sorted(clash))
            settle(
                record,
                State.CONFLICT,
                snapshot=snapshot,
                label=label,
                reason=f"{', '.join(sorted(clash))} changed in both GP and BILL since the last sync.",
                fix="Choose which value to keep (GP's or BILL's) on the record page.",
            )
        ctx.tally["vendor_conflict"] += 1
        return
    to_send = {f for f in gp_changed if aligned[f] != bill_now[f]}
    new_agreed = {**agreed, **{f: aligned[f] for f in gp_changed}}
    snapshot = {"agreed": new_agreed, "archived": record.snapshot.get("archived", False)}
    if to_send:
        sent = send_once(  # sent again as it is when in doubt: it sets fields to GP's values
            record,
            trail=Trail(FLOW, ctx.trigger, ctx.user),
            request={"update": record.target_id, "fields": sorted(to_send)},
            # Nested objects sent whole (BILL may replace them), then read back (vendor_patch.py).
            send=lambda log_: _patch(ctx, record.target_id, aligned, to_send, bill_raw, log_),
            done=lambda _, log_: settle(
                record, State.SYNCED, synced_hash=content_hash(new_agreed), snapshot=snapshot, label=label
            ),
            words=UPDATE_WORDS,
        )
        if sent != Sent.SENT:
            ctx.tally["vendor_busy" if sent == Sent.BUSY else "vendor_failed"] += 1
            return
        ctx.tally["vendor_updated"] += 1
    else:
        settle(record, State.SYNCED, synced_hash=content_hash(new_agreed), snapshot=snapshot, label=label)
    if archived != bool(snapshot["archived"]):
        _set_archived(ctx, record, archived)


def _patch(
    ctx: SyncContext,
    bill_id: str,
    aligned: dict[str, Any],
    fields: set[str],
    current: dict[str, Any] | None,
    log_: AttemptLog,
) -> None:
    patch_bill_vendor(ctx.bill, bill_id, aligned, fields, current=current)
    log_.outcome, log_.response_status = "updated", "200"


def _set_archived(ctx: SyncContext, record: SyncRecord, archived: bool) -> None:
    """GP hold/inactive archives the BILL vendor; release restores it. Both are idempotent in BILL."""
    with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
        log_.request = {"archive" if archived else "restore": record.target_id}
        if archived:
            ctx.bill.archive_vendor(record.target_id)
        else:
            ctx.bill.restore_vendor(record.target_id)
        log_.outcome = "archived" if archived else "restored"
    record.snapshot = {**record.snapshot, "archived": archived}
    record.save(update_fields=["snapshot", "updated_at"])
    ctx.forget_vendor(record.source_key)
    ctx.tally["vendor_archived" if archived else "vendor_restored"] += 1
    if not archived:  # bills that waited for the hold to be released go on
        mapping = VendorMapping.objects.filter(tenant=ctx.tenant, gp_vendor_id=record.source_key).first()
        if mapping:
            release(mapping)

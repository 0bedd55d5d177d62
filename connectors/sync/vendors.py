"""GP vendors → BILL vendors: suggest mappings, create approved new vendors, follow changes.

One ledger record per GP vendor serves both directions; its snapshot["agreed"] holds the aligned
fields both sides last agreed on, so a change equal to what we wrote is never sent back (no echo),
and a field changed on both sides is a conflict for a person, not a silent overwrite.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.ledger import attempt, get_record, is_uncertain, settle, write_ahead
from audit.models import ATTENTION_STATES, Kind, State, SyncRecord
from connectors.queue import enqueue
from mappings.approval import release, waiting_key
from mappings.models import MappingAction, MappingState, VendorMapping

from . import vendor_fields as vf
from . import vendor_link
from .batching import chunks, deferrer, drain, in_thread
from .context import SyncContext
from .cursors import poll_run
from .errors import explain
from .hashing import content_hash
from .ledger_bulk import SyncedBatch, update_rows
from .suggest import suggest_vendor
from .vendor_patch import patch_bill_vendor

log = logging.getLogger(__name__)
FLOW = "gp_vendors"
BULK = 20
CHUNK = 100  # GP vendors whose mappings and ledger rows are fetched together
_LOOKUP = object()  # process_vendor: "look the mapping up yourself"


def is_archived_in_gp(vendor: Any) -> bool:
    return bool(vendor.is_on_hold) or (vendor.status or "").lower() == "inactive"


def sync_vendors(ctx: SyncContext, *, full: bool = False) -> dict[str, int]:
    """One poll of GP vendors changed since the cursor: new ones created in BILL ≤20 a call, up to
    BILL_CONCURRENCY_LIMIT calls in parallel (each batch written ahead in its own thread)."""
    workers = 2 * settings.BILL_CONCURRENCY_LIMIT  # as in bills: settling never idles a BILL slot
    creates: list[tuple[SyncRecord, VendorMapping, Any]] = []
    with poll_run(ctx, FLOW, "vendor_", full=full) as run:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vendors") as pool:
            pending: list[Future[None]] = []
            later = deferrer(pool, pending, lambda vendor_id, exc: _failed(ctx, vendor_id, exc))
            for chunk in chunks(ctx.gp.iter_vendors(modified_since=run.since), CHUNK):
                mappings, records = _prefetch(ctx, chunk)
                for vendor in chunk:
                    try:
                        item = process_vendor(ctx, vendor, mappings.get(vendor.vendor_id),
                                              records.get(vendor.vendor_id), later)
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
    settle(get_record(ctx.tenant, Kind.VENDOR, vendor_id), State.FAILED, reason=explain(exc))
    ctx.tally["vendor_failed"] += 1


def _prefetch(ctx: SyncContext, vendors: list[Any]) -> tuple[dict[str, VendorMapping], dict[str, SyncRecord]]:
    """A chunk's mappings and ledger rows in a few queries; rows for approved mappings made in one."""
    ids = [v.vendor_id for v in vendors]
    mappings = {m.gp_vendor_id: m for m in VendorMapping.objects.filter(tenant=ctx.tenant, gp_vendor_id__in=ids)}
    records = {r.source_key: r for r in SyncRecord.objects.filter(tenant=ctx.tenant, kind=Kind.VENDOR, source_key__in=ids)}
    new = [i for i in ids if i not in records and getattr(mappings.get(i), "state", None) == MappingState.APPROVED]
    if new:
        SyncRecord.objects.bulk_create([SyncRecord(tenant=ctx.tenant, kind=Kind.VENDOR, source_key=i) for i in new],
                                       ignore_conflicts=True)
        records.update((r.source_key, r) for r in SyncRecord.objects.filter(
            tenant=ctx.tenant, kind=Kind.VENDOR, source_key__in=new))
    return mappings, records


def process_vendor(ctx: SyncContext, vendor: Any, mapping: VendorMapping | None | object = _LOOKUP,
                   record: SyncRecord | None = None, later: Callable[..., None] | None = None
                   ) -> tuple[SyncRecord, VendorMapping, Any] | None:
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
    aligned = vf.from_gp(vendor)
    label = f"{vendor.vendor_id} {aligned['name']}"
    if not aligned["name"]:
        settle(record, State.FLAGGED, reason=f"GP vendor {vendor.vendor_id} has no name.",
               fix="Give the vendor a name in GP.", label=label)
        return None
    if not mapping.bill_vendor_id:
        if is_uncertain(record):
            found = find_existing_vendor(ctx, aligned)
            if found is not None:
                _adopt(ctx, record, mapping, found, aligned, vendor, "adopted")
                return None
        return record, mapping, vendor
    if vendor_link.needs_link(record, mapping):  # first link, or a person's field choices: nothing silent
        run = later or (lambda key, func, *args: func(*args))
        run(vendor.vendor_id, vendor_link.link, ctx, record, mapping, vendor, aligned, label)
        return None
    record.target_id = mapping.bill_vendor_id
    unchanged = content_hash(aligned) == record.synced_hash and not is_uncertain(record)
    if later is not None and not (unchanged and is_archived_in_gp(vendor) == bool(record.snapshot.get("archived"))):
        later(vendor.vendor_id, update_vendor, ctx, record, vendor, aligned, label)
    else:
        update_vendor(ctx, record, vendor, aligned, label)
    return None


def find_existing_vendor(ctx: SyncContext, aligned: dict[str, Any]) -> Any | None:
    """A BILL vendor an unconfirmed create may have made: same name, and same e-mail and tax ID."""
    for candidate in ctx.bill.iter_vendors(filters=[("name", "eq", aligned["name"])]):
        other = vf.from_bill(candidate.raw)
        if other["email"] == aligned["email"] and other["tax_id"] == aligned["tax_id"]:
            return candidate
    return None


def _adopt(ctx: SyncContext, record: SyncRecord, mapping: VendorMapping, bill_vendor: Any,
           aligned: dict[str, Any], vendor: Any, outcome: str) -> None:
    mapping.bill_vendor_id = bill_vendor.id
    mapping.bill_name = aligned["name"][:200]
    mapping.save(update_fields=["bill_vendor_id", "bill_name", "updated_at"])
    ctx.forget_vendor(vendor.vendor_id)
    with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
        log_.outcome = outcome
        log_.request = {"vendor": vendor.vendor_id, "bill_vendor": bill_vendor.id}
        log_.response_status = "201" if outcome == "created" else ""
        settle(record, State.SYNCED, target_id=bill_vendor.id, synced_hash=content_hash(aligned),
               snapshot={"agreed": aligned, "archived": False}, label=f"{vendor.vendor_id} {aligned['name']}")
    ctx.tally[f"vendor_{outcome}"] += 1
    if is_archived_in_gp(vendor):
        _set_archived(ctx, record, True)
    release(mapping)  # bills that waited for this vendor go on


def create_vendors(ctx: SyncContext, items: list[tuple[SyncRecord, VendorMapping, Any]]) -> None:
    """Create new BILL vendors in one bulk call (≤20), isolating a refused one."""
    from connectors.bill.http import BillError

    write_ahead(r for r, _, _ in items)
    bodies = [vf.bill_body(vf.from_gp(v)) for _, _, v in items]
    started = time.monotonic()
    try:
        created = ctx.bill.bulk_create_vendors(bodies) if len(items) > 1 else [ctx.bill.create_vendor(bodies[0])]
    except BillError as exc:
        if len(items) > 1 and not exc.retryable and not exc.in_doubt:
            mid = len(items) // 2
            create_vendors(ctx, items[:mid])
            create_vendors(ctx, items[mid:])
            return
        state = State.IN_DOUBT if exc.in_doubt else (State.FAILED if exc.retryable else State.FLAGGED)
        for record, _, vendor in items:
            with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
                log_.outcome = state
                log_.response_status = str(exc.status or "")
                log_.error = exc.message
                settle(record, state, reason=f"BILL did not create vendor {vendor.vendor_id}: {exc.message}",
                       fix="Retried automatically." if state != State.FLAGGED else "Correct the vendor in GP, then Replay.")
        ctx.tally["vendor_failed"] += len(items)
        return
    _adopt_created(ctx, items, created, int((time.monotonic() - started) * 1000))


def _adopt_created(ctx: SyncContext, items: list[tuple[SyncRecord, VendorMapping, Any]], created: list[Any],
                   duration_ms: int) -> None:
    """What `_adopt` does for each vendor of a bulk create, with the rows saved together."""
    synced = SyncedBatch(FLOW, ctx.trigger, ctx.user, duration_ms=duration_ms)
    now = timezone.now()
    adopted = []
    for (record, mapping, vendor), bill_vendor in zip(items, created, strict=False):
        aligned = vf.from_gp(vendor)
        mapping.bill_vendor_id, mapping.bill_name, mapping.updated_at = bill_vendor.id, aligned["name"][:200], now
        synced.add(record, outcome="created", request={"vendor": vendor.vendor_id, "bill_vendor": bill_vendor.id},
                   response_status="201", target_id=bill_vendor.id, synced_hash=content_hash(aligned),
                   snapshot={"agreed": aligned, "archived": False}, label=f"{vendor.vendor_id} {aligned['name']}")
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
    if not mappings:
        return
    keys = {waiting_key(m): m for m in mappings}
    query = Q()
    for key in keys:
        query |= Q(waiting_on__contains=key)
    waiting: dict[str, list[int]] = {}
    rows = SyncRecord.objects.filter(query, tenant=ctx.tenant, state__in=ATTENTION_STATES).values_list("pk", "waiting_on")
    for pk, tokens in rows:
        for token in tokens.split():  # exact tokens only: `contains` also matches a longer key
            if token in keys:
                waiting.setdefault(token, []).append(pk)
    for ids in waiting.values():
        enqueue("connectors.tasks.replay_records", ids, trigger="mapping")


def update_vendor(ctx: SyncContext, record: SyncRecord, vendor: Any, aligned: dict[str, Any], label: str) -> None:
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
    agreed = record.snapshot.get("agreed")
    gp_changed = vf.changed_fields(aligned, agreed) if agreed else vf.changed_fields(aligned, bill_now)
    if agreed:
        bill_changed = vf.changed_fields(bill_now, agreed)
        clash = {f for f in gp_changed & bill_changed if aligned[f] != bill_now[f]}
        if clash:
            snapshot = {**record.snapshot, "gp": aligned, "bill": bill_now, "conflicts": sorted(clash)}
            with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
                log_.outcome = "conflict"
                log_.error = "Changed on both sides: " + ", ".join(sorted(clash))
                settle(record, State.CONFLICT, snapshot=snapshot, label=label,
                       reason=f"{', '.join(sorted(clash))} changed in both GP and BILL since the last sync.",
                       fix="Choose which value to keep (GP's or BILL's) on the record page.")
            ctx.tally["vendor_conflict"] += 1
            return
    # On a first link a field GP leaves blank is not sent (BILL keeps its value); the agreed value
    # stays GP's blank, so the BILL → GP flow then fills GP's blank from BILL.
    to_send = {f for f in gp_changed if aligned[f] != bill_now[f]}
    new_agreed = {**(agreed or bill_now), **{f: aligned[f] for f in gp_changed}}
    if to_send:
        write_ahead([record])
        with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
            log_.request = {"update": record.target_id, "fields": sorted(to_send)}
            patch_bill_vendor(ctx.bill, record.target_id, aligned, to_send, current=bill_raw)
            log_.outcome = "updated"
            log_.response_status = "200"
        ctx.tally["vendor_updated"] += 1
    snapshot = {"agreed": new_agreed, "archived": record.snapshot.get("archived", False)}
    settle(record, State.SYNCED, synced_hash=content_hash(new_agreed), snapshot=snapshot, label=label)
    if archived != bool(snapshot["archived"]):
        _set_archived(ctx, record, archived)


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

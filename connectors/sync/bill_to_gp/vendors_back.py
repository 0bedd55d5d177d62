"""BILL vendor changes → GP vendor fields (those the tenant allows), without echo or overwrite.

Shares the vendor ledger record with the GP → BILL flow: a BILL change equal to what both sides
last agreed on is ours coming back and is dropped; a field changed on both sides is a conflict.
"""

from __future__ import annotations

from audit.ledger import (
    attempt,
    fail_unless_uncertain,
    get_record,
    may_have_written,
    owned_elsewhere,
    settle,
    writing,
)
from audit.models import Kind, State
from connectors.bill.records import BillVendor
from connectors.gp.resource_map import GPShapeError
from mappings.models import MappingState, VendorMapping

from .. import vendor_fields as vf
from ..context import SyncContext
from ..cursors import poll_run
from ..errors import explain
from ..hashing import content_hash

FLOW = "bill_vendors"


def sync_bill_vendors(ctx: SyncContext, *, full: bool = False) -> dict[str, int]:
    """Poll BILL vendors changed since the cursor (the safety net for lost vendor webhooks)."""
    with poll_run(ctx, FLOW, "gp_vendor_", full=full) as run:
        since = run.since_with_overlap
        for bill_vendor in ctx.bill.iter_vendors(
            filters=[] if since is None else [("updatedTime", "gte", since)]
        ):
            try:
                apply_bill_vendor(ctx, bill_vendor)
            except GPShapeError:  # GP is not answering as mapped: the run fails, it does not "succeed"
                raise
            except Exception as exc:  # one vendor GP refuses must not hold up the others
                _failed(ctx, bill_vendor, exc)
    return run.summary


def _failed(ctx: SyncContext, bill_vendor: BillVendor, exc: Exception) -> None:
    """Park the vendor for the retry sweep, whose replay re-reads BILL's side and applies it again."""
    mapping = VendorMapping.objects.filter(tenant=ctx.tenant, bill_vendor_id=bill_vendor.id).first()
    if mapping is None:
        raise exc
    record = get_record(ctx.tenant, Kind.VENDOR, mapping.gp_vendor_id)
    fail_unless_uncertain(
        record,
        f"GP did not take BILL's change to vendor {mapping.gp_vendor_id}: {explain(exc)}",
        maybe_written=may_have_written(exc),
    )
    ctx.tally["gp_vendor_failed"] += 1


def apply_bill_vendor(ctx: SyncContext, bill_vendor: BillVendor) -> None:
    mapping = VendorMapping.objects.filter(
        tenant=ctx.tenant, bill_vendor_id=bill_vendor.id, state=MappingState.APPROVED
    ).first()
    if mapping is None:
        return  # a BILL vendor no GP vendor is linked to: nothing to align
    record = get_record(ctx.tenant, Kind.VENDOR, mapping.gp_vendor_id)
    agreed = record.snapshot.get("agreed")
    if not agreed or record.state in (State.SKIPPED, State.CONFLICT) or record.target_id != bill_vendor.id:
        return  # not linked (or re-linked) to this BILL vendor yet: the link decides, not BILL's values
    if owned_elsewhere(record):  # another live worker is writing this vendor: read it again next run
        ctx.tally["gp_vendor_busy"] += 1
        return
    bill_now = vf.from_bill(bill_vendor.raw)
    allowed = ctx.tenant.vendor_field_set_to_gp
    # A field never agreed (None: left different at the link) waits for a person, never for BILL.
    bill_changed = {
        f for f in vf.changed_fields(bill_now, agreed) if f in allowed and agreed.get(f) is not None
    }
    if not bill_changed:
        ctx.tally["gp_vendor_unchanged"] += 1
        return
    gp_vendor = ctx.gp.get_vendor(mapping.gp_vendor_id)
    if gp_vendor is None:  # raised as before (it read None's fields), now in words: the record fails
        raise LookupError(f"GP has no vendor {mapping.gp_vendor_id}.")
    gp_now = vf.from_gp(gp_vendor)
    gp_changed = vf.changed_fields(gp_now, agreed)
    clash = {f for f in bill_changed & gp_changed if gp_now[f] != bill_now[f]}
    label = f"{mapping.gp_vendor_id} {gp_now['name']}"
    if clash:
        with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
            log_.outcome = "conflict"
            log_.error = "Changed on both sides: " + ", ".join(sorted(clash))
            settle(
                record,
                State.CONFLICT,
                label=label,
                snapshot={**record.snapshot, "gp": gp_now, "bill": bill_now, "conflicts": sorted(clash)},
                reason=f"{', '.join(sorted(clash))} changed in both GP and BILL since the last sync.",
                fix="Choose Keep GP's value or Keep BILL's value for each field on the record page.",
            )
        ctx.tally["gp_vendor_conflict"] += 1
        return
    to_send = {f for f in bill_changed if gp_now[f] != bill_now[f]}
    new_agreed = {**agreed, **{f: bill_now[f] for f in bill_changed}}
    snapshot = {
        **{k: v for k, v in record.snapshot.items() if k not in ("gp", "bill", "conflicts")},
        "agreed": new_agreed,
    }
    if not to_send:
        settle(record, State.SYNCED, synced_hash=content_hash(new_agreed), label=label, snapshot=snapshot)
        return
    with writing([record]) as taken:
        if not taken:  # taken by another worker since it was read
            ctx.tally["gp_vendor_busy"] += 1
            return
        with attempt(record, FLOW, ctx.trigger, ctx.user) as log_:
            log_.request = {"gp_vendor": mapping.gp_vendor_id, "fields": sorted(to_send)}
            ctx.gp.patch_vendor(
                mapping.gp_vendor_id, vf.gp_patch(bill_now, to_send, vf.gp_address_key(gp_vendor))
            )
            log_.outcome = "updated_gp"
            log_.response_status = "200"
        settle(record, State.SYNCED, synced_hash=content_hash(new_agreed), label=label, snapshot=snapshot)
    ctx.tally["gp_vendor_updated"] += 1

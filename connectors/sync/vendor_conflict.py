"""One field of a vendor that differs between GP and BILL, settled by a person pressing
**Keep GP's value** or **Keep BILL's value** on the record page.

Exactly the field pressed is written, to the one side that differs; every other field stays as it
is on both sides, including fields a person deliberately left different when the vendor link was
approved (see `vendor_link`). Both sides are read live first: if the pressed field changed since
the page showed it, nothing is written and the person is asked to look again. The remit address,
e-mail and tax ID need the person's explicit confirmation (vendor fraud changes those). A side with
no value never erases the other's. The write has a ledger row first and a trail row, and each field
written is recorded with before, after, who and when (`MappingChange`), like an approval's choices.
"""

from __future__ import annotations

from typing import Any

from audit.ledger import attempt, settle, write_ahead
from audit.models import Kind, State, SyncRecord
from mappings.models import ChangeSubject, MappingChange

from . import vendor_fields as vf
from .context import SyncContext
from .errors import explain
from .gp_to_bill.vendor_link import BILL, GP, NEEDS_CONFIRMATION
from .gp_to_bill.vendor_patch import patch_bill_vendor
from .hashing import content_hash

FLOW = "vendor_conflict"


class ChoiceRefused(ValueError):
    """The button press cannot be carried out as the person saw it; the message says why and what to do."""


def differing_fields(record: SyncRecord) -> list[str]:
    """Fields the record page offers buttons for: different in GP and BILL as last read."""
    snap = record.snapshot or {}
    gp, bill = snap.get("gp"), snap.get("bill")
    if (
        record.kind != Kind.VENDOR
        or record.state != State.CONFLICT
        or not isinstance(gp, dict)
        or not isinstance(bill, dict)
    ):
        return []
    return [f for f in vf.ALIGNED_FIELDS if gp.get(f) != bill.get(f)]


def keep_value(
    record: SyncRecord, field: str, keep: str, user: Any, *, confirmed: bool = False
) -> SyncRecord:
    """Make `field` the same on both sides with the value of `keep` ("gp" or "bill"); nothing else changes."""
    if keep not in (GP, BILL) or field not in differing_fields(record):
        raise ChoiceRefused("This field is not waiting for a choice any more: reload the page.")
    label = vf.FIELD_LABELS[field]
    other = "BILL" if keep == GP else "GP"
    if field in NEEDS_CONFIRMATION and not confirmed:
        raise ChoiceRefused(
            f"To change the {label} in {other}, tick “I confirm” next to it. Nothing was changed."
        )
    snap = record.snapshot
    seen_gp, seen_bill = snap["gp"].get(field), snap["bill"].get(field)
    value = seen_gp if keep == GP else seen_bill
    if not vf.as_text(value):
        raise ChoiceRefused(
            f"{'GP' if keep == GP else 'BILL'} has no {label}: keeping it would erase {other}'s. "
            "Nothing was changed."
        )
    ctx = SyncContext.for_tenant(record.tenant, user=user, trigger="person")
    try:
        gp_vendor = ctx.gp.get_vendor(record.source_key)
        if gp_vendor is None:  # deleted in GP since the page was read: nothing to make the same
            raise ChoiceRefused(
                f"GP has no vendor {record.source_key} any more, so nothing was changed in GP or BILL. "
                "If it was removed in GP on purpose, choose Don't sync for this vendor."
            )
        gp_now = vf.from_gp(gp_vendor)
        bill_now = vf.from_bill(ctx.bill.get_vendor(record.target_id).raw)
        if gp_now[field] != seen_gp or bill_now[field] != seen_bill:
            raise ChoiceRefused(
                f"The {label} changed in GP or BILL since this page was read. Nothing was changed: "
                "Replay the vendor to read both sides again, then choose."
            )
        subject, before = (
            (ChangeSubject.BILL_VENDOR, seen_bill) if keep == GP else (ChangeSubject.GP_VENDOR, seen_gp)
        )
        if not write_ahead([record]):  # compare-and-set: another writer has the vendor right now
            raise ChoiceRefused(
                "The connector is writing this vendor right now. Nothing was changed: reload "
                "the page and choose again."
            )
        with attempt(record, FLOW, "person", user) as log_:
            log_.request = {
                "field": label,
                "kept": "GP's value" if keep == GP else "BILL's value",
                "before": vf.as_text(before),
                "after": vf.as_text(value),
            }
            if keep == GP:
                patch_bill_vendor(ctx.bill, record.target_id, {**bill_now, field: value}, {field})
            else:
                ctx.gp.patch_vendor(
                    record.source_key,
                    vf.gp_patch({**gp_now, field: value}, {field}, vf.gp_address_key(gp_vendor)),
                )
            log_.outcome = "resolved"
            log_.response_status = "200"
            MappingChange.objects.create(
                tenant_id=record.tenant_id,
                subject=subject,
                mapping_kind="vendor",
                key=record.source_key,
                before={label: vf.as_text(before)},
                after={label: vf.as_text(value)},
                user=user if getattr(user, "pk", None) else None,
            )
    except ChoiceRefused:
        raise
    except Exception as exc:  # a PATCH of one value is safe to repeat: the record waits for the next press
        settle(
            record,
            State.CONFLICT,
            snapshot=snap,
            synced_hash=record.synced_hash,
            reason=f"The {label} could not be written just now: {explain(exc)} Nothing else was changed.",
            fix="Press the button again, or Replay the vendor to read both sides again.",
        )
        raise ChoiceRefused(record.reason) from exc
    finally:
        ctx.gp.close()
    return _settle_after(record, field, value)


def _settle_after(record: SyncRecord, field: str, value: Any) -> SyncRecord:
    """The record after one field was aligned: still a conflict while other fields differ."""
    snap = dict(record.snapshot)
    gp, bill = {**snap["gp"], field: value}, {**snap["bill"], field: value}
    agreed = {**(snap.get("agreed") or {}), field: value}
    left = [f for f in vf.ALIGNED_FIELDS if gp.get(f) != bill.get(f)]
    at_link = "left_at_link" in snap
    synced_hash = content_hash(gp) if at_link else record.synced_hash
    if left:
        snap.update(
            gp=gp, bill=bill, agreed=agreed, conflicts=[f for f in snap.get("conflicts", []) if f in left]
        )
        if at_link:
            snap["left_at_link"] = [f for f in snap["left_at_link"] if f in left]
        names = ", ".join(vf.FIELD_LABELS[f] for f in left)
        return settle(
            record,
            State.CONFLICT,
            snapshot=snap,
            synced_hash=synced_hash,
            reason=f"The {names} still differ between GP and BILL; nothing else was changed.",
            fix="Choose Keep GP's value or Keep BILL's value for each field below.",
        )
    agreed = {f: gp.get(f) for f in vf.ALIGNED_FIELDS}  # both sides now hold the same values
    return settle(
        record,
        State.SYNCED,
        synced_hash=content_hash(agreed),
        snapshot={"agreed": agreed, "archived": snap.get("archived", False)},
        reason="",
        fix="",
    )

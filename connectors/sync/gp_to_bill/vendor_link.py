"""Linking a GP vendor to an existing BILL vendor: nothing that differs is overwritten unless a person
chose it.

Approving a link (on the review page, in bulk from the list, or by import) ties the two records
together and nothing more. Where their master data differs, each field stays as it is on both sides
until a person picks, on the vendor match review page, which side wins; the remit address, e-mail
and tax ID change only when that person also ticks the field's confirmation, because a changed remit
address or tax ID is how vendor fraud pays the wrong party. Every field written is recorded (before,
after, who, when) as a `MappingChange`, shown in Mapping changes and on the vendor's record page;
every field left different is a conflict on the vendor's record, re-checked each time the vendor is
synced or replayed, until the two sides agree.

Payment details (BILL's bank account, payee, pay-by type) are not aligned fields: the connector never
writes them. A GP vendor on hold or inactive has its BILL vendor archived once linked (bills.py
would have BILL refuse its bills anyway), and the review page says so before approval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audit.ledger import attempt, settle, write_ahead
from audit.models import State, SyncRecord
from connectors.gp.records import GPVendor
from connectors.models import Tenant
from mappings.models import ChangeSubject, MappingChange, VendorMapping

from .. import vendor_fields as vf
from ..context import SyncContext
from ..errors import explain
from ..hashing import content_hash
from .vendor_patch import patch_bill_vendor

FLOW = "vendor_link"
GP, BILL = "gp", "bill"
# Changed only with the person's explicit confirmation, naming the field.
NEEDS_CONFIRMATION = frozenset({"email", "address", "tax_id"})


@dataclass(frozen=True)
class FieldRow:
    """One aligned field as GP and BILL have it now."""

    field: str
    gp: Any
    bill: Any

    @property
    def label(self) -> str:
        return vf.FIELD_LABELS[self.field]

    @property
    def gp_text(self) -> str:
        return vf.as_text(self.gp)

    @property
    def bill_text(self) -> str:
        return vf.as_text(self.bill)

    @property
    def same(self) -> bool:
        return bool(self.gp == self.bill)

    @property
    def needs_confirmation(self) -> bool:
        return self.field in NEEDS_CONFIRMATION

    # A side with no value never "wins": choosing it would erase the other side's value.
    @property
    def can_use_gp(self) -> bool:
        return not self.same and bool(self.gp_text)

    @property
    def can_use_bill(self) -> bool:
        return not self.same and bool(self.bill_text)


def compare(gp: dict[str, Any], bill: dict[str, Any]) -> list[FieldRow]:
    return [FieldRow(f, gp.get(f), bill.get(f)) for f in vf.ALIGNED_FIELDS]


def fingerprint(gp: dict[str, Any], bill: dict[str, Any]) -> str:
    """What the person was shown: a choice is refused if either side changed since."""
    return content_hash({"gp": gp, "bill": bill})[:16]


@dataclass
class Comparison:
    """GP's vendor and one BILL vendor side by side, read live, for the review page and its decision."""

    gp_vendor_id: str
    bill_vendor_id: str
    gp: dict[str, Any] = field(default_factory=dict)
    bill: dict[str, Any] = field(default_factory=dict)
    gp_hold: str = ""  # "on hold" / "inactive" when GP's vendor is one of those
    bill_archived: bool = False
    error: str = ""

    @property
    def rows(self) -> list[FieldRow]:
        return compare(self.gp, self.bill) if not self.error else []

    @property
    def differing(self) -> list[FieldRow]:
        return [r for r in self.rows if not r.same]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.gp, self.bill)


def read_both(tenant: Tenant, gp_vendor_id: str, bill_vendor_id: str) -> Comparison:
    """Both vendors as they are now. If either system cannot be read, `error` says so in plain words."""
    found = Comparison(gp_vendor_id, bill_vendor_id)
    if not (hasattr(tenant, "gp_connection") and hasattr(tenant, "bill_connection")):
        found.error = (
            "The GP and BILL connections of this tenant are not set up yet, so neither vendor can be read."
        )
        return found
    try:
        ctx = SyncContext.for_tenant(tenant)
        try:
            gp_vendor = ctx.gp.get_vendor(gp_vendor_id)
            bill_vendor = ctx.bill.get_vendor(bill_vendor_id)
        finally:
            ctx.gp.close()
    except Exception as exc:  # the page still loads; approving then links and changes nothing
        found.error = f"GP or BILL could not be read just now ({explain(exc)})."
        return found
    if gp_vendor is None:
        found.error = f"GP has no vendor {gp_vendor_id}."
        return found
    found.gp, found.bill = vf.from_gp(gp_vendor), vf.from_bill(bill_vendor.raw)
    found.bill_archived = bill_vendor.archived
    if gp_vendor.is_on_hold:
        found.gp_hold = "on hold"
    elif (gp_vendor.status or "").lower() == "inactive":
        found.gp_hold = "inactive"
    return found


def decide(comparison: Comparison, picks: dict[str, str], confirmed: set[str], seen: str) -> dict[str, Any]:
    """The field choices to keep on the mapping, checked. `picks` maps a field to "gp" or "bill"
    (anything else leaves it); `confirmed` are the fields whose confirmation box was ticked; `seen`
    is the fingerprint of what the page showed. Raises ValueError with what to do instead."""
    picks = {f: w for f, w in picks.items() if w in (GP, BILL)}
    if picks and comparison.error:  # a choice the person made is never dropped silently
        raise ValueError(
            comparison.error + " No field can be changed now: approve without choosing, or try again."
        )
    rows = {r.field: r for r in comparison.rows}
    chosen = {f: w for f, w in picks.items() if f in rows and not rows[f].same}
    if not chosen:
        return {}
    if seen != comparison.fingerprint:
        raise ValueError(
            "GP or BILL changed this vendor since the page was opened. Nothing was approved: "
            "look at both sides again."
        )
    fields: dict[str, Any] = {}
    for name, winner in sorted(chosen.items()):
        row = rows[name]
        other = "BILL" if winner == GP else "GP"
        if not (row.can_use_gp if winner == GP else row.can_use_bill):
            raise ValueError(
                f"{'GP' if winner == GP else 'BILL'} has no {row.label} to copy: it would erase "
                f"{other}'s. Nothing was approved."
            )
        if row.needs_confirmation and name not in confirmed:
            raise ValueError(
                f"To change the {row.label} in {other}, tick “I confirm” next to it. Nothing was approved."
            )
        fields[name] = {"winner": winner, "gp": row.gp, "bill": row.bill}
    return {"bill_vendor_id": comparison.bill_vendor_id, "fields": fields}


def effects(choices: dict[str, Any]) -> dict[str, list[str]]:
    """In words, what the choices change on each side: {"gp": [...], "bill": [...]}."""
    said: dict[str, list[str]] = {GP: [], BILL: []}
    for name, choice in sorted((choices or {}).get("fields", {}).items()):
        label = vf.FIELD_LABELS[name]
        if choice["winner"] == GP:
            said[BILL].append(f"{label} becomes {vf.as_text(choice['gp'])}")
        else:
            said[GP].append(f"{label} becomes {vf.as_text(choice['bill'])}")
    return said


def pending(mapping: VendorMapping) -> dict[str, Any]:
    """The choices still to apply to the BILL vendor the mapping points at now."""
    choices = mapping.field_choices or {}
    if choices.get("bill_vendor_id") != mapping.bill_vendor_id:
        return {}
    return choices.get("fields") or {}


def needs_link(record: SyncRecord, mapping: VendorMapping) -> bool:
    """True when the vendor must go through `link` rather than the ordinary change flow: never agreed
    with this BILL vendor, pointed at another one since, choices waiting, or fields left different
    (those have no agreed value, so the ordinary flow could not tell which side changed)."""
    snapshot = record.snapshot or {}
    return (
        not snapshot.get("agreed")
        or bool(record.target_id and record.target_id != mapping.bill_vendor_id)
        or bool(pending(mapping))
        or "left_at_link" in snapshot
    )


def link(
    ctx: SyncContext,
    record: SyncRecord,
    mapping: VendorMapping,
    vendor: GPVendor,
    aligned: dict[str, Any],
    label: str,
) -> None:
    """Tie the GP vendor to the mapping's BILL vendor, writing only the person's choices."""
    from .vendors import (  # cycle: vendors imports this module
        _set_archived,
        is_archived_in_gp,
    )

    target = mapping.bill_vendor_id
    same_target = record.target_id == target
    who = mapping.approved_by or ctx.user
    try:
        bill_now = vf.from_bill(ctx.bill.get_vendor(target).raw)
        to_bill, to_gp, stale = _plan(aligned, bill_now, pending(mapping))
        if to_bill or to_gp:
            if not write_ahead([record]):  # compare-and-set: another writer has this vendor's row now
                ctx.tally["vendor_busy"] += 1
                return
            with attempt(record, FLOW, ctx.trigger, who) as log_:
                log_.request = {"link": target, "to_bill": sorted(to_bill), "to_gp": sorted(to_gp)}
                if to_bill:
                    patch_bill_vendor(ctx.bill, target, aligned, to_bill)  # nested objects sent whole
                    _record(mapping, ChangeSubject.BILL_VENDOR, bill_now, aligned, to_bill)
                if to_gp:
                    ctx.gp.patch_vendor(
                        mapping.gp_vendor_id, vf.gp_patch(bill_now, to_gp, vf.gp_address_key(vendor))
                    )
                    _record(mapping, ChangeSubject.GP_VENDOR, aligned, bill_now, to_gp)
                log_.outcome = "updated"
                log_.response_status = "200"
            ctx.tally["vendor_updated"] += 1
    except Exception as exc:  # retried by the sweep; the choices stay until they are applied
        settle(
            record,
            State.FAILED,
            target_id=target,
            label=label,
            reason=(
                f"Linking GP vendor {mapping.gp_vendor_id} to its BILL vendor did not finish: {explain(exc)}"
            ),
            fix="Retried automatically; Replay to retry now.",
        )
        ctx.tally["vendor_failed"] += 1
        return
    if mapping.field_choices:
        VendorMapping.objects.filter(pk=mapping.pk).update(field_choices={})
        mapping.field_choices = {}
    gp_after = {**aligned, **{f: bill_now[f] for f in to_gp}}
    bill_after = {**bill_now, **{f: aligned[f] for f in to_bill}}
    left = sorted(vf.changed_fields(gp_after, bill_after))
    agreed = {f: (None if f in left else gp_after[f]) for f in vf.ALIGNED_FIELDS}  # None: never agreed
    # synced_hash is GP's side as last seen (what the preview and the poll compare GP with).
    archived = bool(record.snapshot.get("archived")) if same_target else False
    snapshot: dict[str, Any] = {"agreed": agreed, "archived": archived}
    with attempt(record, FLOW, ctx.trigger, who) as log_:
        log_.request = {"link": target, "left_different": left, "changed_since_review": stale}
        if left:
            snapshot.update(gp=gp_after, bill=bill_after, conflicts=left, left_at_link=left)
            log_.outcome = "linked, fields differ"
            settle(
                record,
                State.CONFLICT,
                target_id=target,
                synced_hash=content_hash(gp_after),
                snapshot=snapshot,
                label=label,
                reason=_left_reason(left, stale, wrote=bool(to_bill or to_gp)),
                fix="Choose Keep GP's value or Keep BILL's value for each field on the vendor's record page.",
            )
            ctx.tally["vendor_conflict"] += 1
        else:
            log_.outcome = "linked"
            settle(
                record,
                State.SYNCED,
                target_id=target,
                synced_hash=content_hash(gp_after),
                snapshot=snapshot,
                label=label,
            )
    if is_archived_in_gp(vendor) != archived:
        _set_archived(ctx, record, is_archived_in_gp(vendor))


def _plan(
    gp: dict[str, Any], bill: dict[str, Any], choices: dict[str, Any]
) -> tuple[set[str], set[str], list[str]]:
    """Which chosen fields to write to BILL and to GP; a field whose value changed on either side
    since the person saw it is not written (`stale`): they did not see what it would overwrite."""
    to_bill, to_gp, stale = set[str](), set[str](), []
    for name, choice in choices.items():
        if name not in vf.ALIGNED_FIELDS or gp[name] == bill[name]:
            continue
        if gp[name] != choice.get("gp") or bill[name] != choice.get("bill"):
            stale.append(name)
            continue
        (to_bill if choice.get("winner") == GP else to_gp).add(name)
    return to_bill, to_gp, sorted(stale)


def _record(
    mapping: VendorMapping, subject: str, before: dict[str, Any], after: dict[str, Any], fields: set[str]
) -> None:
    """One Mapping changes row per side written: each field's value before and after, and who chose it."""
    MappingChange.objects.create(
        tenant_id=mapping.tenant_id,
        subject=subject,
        mapping_kind="vendor",
        key=mapping.gp_vendor_id,
        before={vf.FIELD_LABELS[f]: vf.as_text(before[f]) for f in sorted(fields)},
        after={vf.FIELD_LABELS[f]: vf.as_text(after[f]) for f in sorted(fields)},
        user=mapping.approved_by,
    )


def _left_reason(left: list[str], stale: list[str], *, wrote: bool) -> str:
    names = ", ".join(vf.FIELD_LABELS[f] for f in vf.ALIGNED_FIELDS if f in left)
    text = f"Linked. The {names} differ between GP and BILL and were left as they are on both sides"
    text += "." if wrote else " (nothing was overwritten)."
    if stale:
        text += (
            " Not written because it changed after it was reviewed: "
            + ", ".join(vf.FIELD_LABELS[f] for f in stale)
            + "."
        )
    return text

"""GP segment values approved as 'create in BILL' become BILL departments, locations or accounting classes.

Like GP accounts (gl_accounts.py): a ledger row (kind classification, key `<kind>:<value>`) is written
ahead; an unconfirmed create stays in doubt and is looked up by its short name (the GP segment value)
before anything is sent again, so repeating the approval never makes a second one.
"""

from __future__ import annotations

from audit.ledger import get_record, owned_elsewhere, settle
from audit.models import Kind, State, SyncRecord
from audit.send_once import Trail, Words, send_once
from connectors.bill.records import BillClassification
from mappings.approval import release
from mappings.models import ClassificationAction, ClassificationKind, ClassificationMapping, MappingState

from ..context import SyncContext
from ..errors import explain

FLOW = "classifications"


def sync_classifications(ctx: SyncContext) -> dict[str, int]:
    """Create every approved-to-create segment value of the tenant that has no BILL record yet."""
    pending = ClassificationMapping.objects.filter(
        tenant=ctx.tenant, state=MappingState.APPROVED, action=ClassificationAction.CREATE, bill_id=""
    )
    for mapping in pending:
        create_classification(ctx, mapping)
    return {k: v for k, v in ctx.tally.items() if k.startswith("classification_")}


def _find(ctx: SyncContext, kind: str, code: str) -> BillClassification | None:
    for found in ctx.bill.iter_classifications(kind):
        if found.short_name == code and not found.archived:
            return found
    return None


def create_classification(ctx: SyncContext, mapping: ClassificationMapping) -> None:
    """Create the BILL record (once: the run and the approval task may both get here), then link it."""
    key = f"{mapping.kind}:{mapping.gp_value}"
    record = get_record(ctx.tenant, Kind.CLASSIFICATION, key)
    if record.target_id and not owned_elsewhere(record):
        mapping.refresh_from_db()
        if mapping.bill_id:
            return
    word = ClassificationKind(mapping.kind).label
    name = mapping.gp_description or f"{word} {mapping.gp_value}"
    label = f"GP {word.lower()} {mapping.gp_value} ({name})"
    send_once(
        record,
        trail=Trail(FLOW, ctx.trigger, ctx.user),
        request={"kind": mapping.kind, "name": name, "shortName": mapping.gp_value},
        find=lambda: _find(ctx, mapping.kind, mapping.gp_value),
        send=lambda log_: ctx.bill.create_classification(mapping.kind, name, mapping.gp_value),
        done=lambda found, log_: _link(ctx, record, mapping, found, name, label),
        window=ctx.settle_window("bill"),
        label=label,
        settling_reason=f"BILL did not confirm {label} and does not show it yet; it is looked up again "
        "before anything is sent.",
        words=Words(reason=lambda exc: f"BILL did not create {label}: {explain(exc)}"),
    )


def _link(
    ctx: SyncContext,
    record: SyncRecord,
    mapping: ClassificationMapping,
    existing: BillClassification,
    name: str,
    label: str,
) -> None:
    """The BILL record is there (created or found): map it, settle the row, release what waited."""
    mapping.bill_id = existing.id
    mapping.bill_name = (existing.name or name)[:200]
    mapping.save(update_fields=["bill_id", "bill_name", "updated_at"])
    settle(record, State.SYNCED, target_id=existing.id, label=label)
    ctx.forget_classification(mapping.kind, mapping.gp_value)
    ctx.tally["classification_created"] += 1
    release(mapping)

"""GP accounts approved as 'create in BILL' become BILL chart-of-accounts entries."""

from __future__ import annotations

from audit.ledger import get_record, owned_elsewhere, settle
from audit.models import Kind, State, SyncRecord
from audit.send_once import Trail, Words, send_once
from connectors.bill.records import BillChartOfAccount
from mappings.approval import release
from mappings.matching import main_segment
from mappings.models import GLAccountMapping, MappingAction, MappingState

from ..context import SyncContext
from ..errors import explain
from ..suggest import gp_accounts

FLOW = "gl_accounts"


def sync_gl_accounts(ctx: SyncContext) -> dict[str, int]:
    pending = GLAccountMapping.objects.filter(
        tenant=ctx.tenant, state=MappingState.APPROVED, action=MappingAction.CREATE, bill_account_id=""
    )
    for mapping in pending:
        create_account(ctx, mapping)
    return {k: v for k, v in ctx.tally.items() if k.startswith("account_")}


def _find(ctx: SyncContext, number: str) -> BillChartOfAccount | None:
    for account in ctx.bill.iter_chart_of_accounts():
        if (account.number or "") == number and not account.archived:
            return account
    return None


def create_account(ctx: SyncContext, mapping: GLAccountMapping) -> None:
    """Create the BILL account (once: the run and the approval task may both get here), then link it."""
    record = get_record(ctx.tenant, Kind.GL_ACCOUNT, mapping.gp_account)
    if record.target_id and not owned_elsewhere(record):
        # Created by another writer after this mapping was read (the mapping is saved before the row).
        mapping.refresh_from_db()
        if mapping.bill_account_id:
            return
    gp = gp_accounts(ctx).get(mapping.gp_account)
    name = (gp.description if gp else mapping.gp_description) or mapping.gp_account
    number = main_segment(mapping.gp_account)
    label = f"{mapping.gp_account} {name}"
    send_once(
        record,
        trail=Trail(FLOW, ctx.trigger, ctx.user),
        request={"name": name, "number": number},
        find=lambda: _find(ctx, number),
        send=lambda log_: ctx.bill.create_chart_of_account(name=name, number=number, account_type="EXPENSE"),
        done=lambda account, log_: _link(ctx, record, mapping, account, name, label),
        window=ctx.settle_window("bill"),
        label=label,
        settling_reason=f"BILL did not confirm account {mapping.gp_account} and does not show it yet; it "
        "is looked up again before anything is sent.",
        words=Words(reason=lambda exc: f"BILL did not create account {mapping.gp_account}: {explain(exc)}"),
    )


def _link(
    ctx: SyncContext,
    record: SyncRecord,
    mapping: GLAccountMapping,
    existing: BillChartOfAccount,
    name: str,
    label: str,
) -> None:
    """The BILL account is there (created or found): map it, settle the row, release what waited."""
    mapping.bill_account_id = existing.id
    mapping.bill_name = name[:200]
    mapping.save(update_fields=["bill_account_id", "bill_name", "updated_at"])
    settle(record, State.SYNCED, target_id=existing.id, label=label)
    ctx.forget_account(mapping.gp_account)
    ctx.tally["account_created"] += 1
    release(mapping)

"""Preview: what the next sync would create or change, read from GP, BILL and the ledger, writing nothing.

It follows the flows' decisions (approval policy, mappings, the draft a bill would be) without their
write paths, so a finance user can check a first load or a policy change before it happens. It reads
through the same clients as the flows; nothing here saves a model or calls a BILL/GP write.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.utils import timezone

from audit.models import Kind, PollCursor, State, SyncRecord
from audit.words import money_text
from connectors.gp.records import GPInvoice
from connectors.models import Tenant
from mappings.models import MappingAction, MappingState, VendorMapping

from . import vendor_fields as vf
from .bill_to_gp.payment_rules import is_ours
from .context import SyncContext
from .gp_to_bill.bill_payload import build_draft, is_approved
from .gp_to_bill.credit_payload import (
    build_credit_draft,
    is_credit,
    is_credit_approved,
    kind_word,
)
from .hashing import content_hash

MAX_ROWS = 500  # per section: the page is for reading, the counts say the rest


def preview(tenant: Tenant, *, ctx: SyncContext | None = None) -> dict[str, Any]:
    """Sections of (what, key, detail) rows and a one-line summary, for the job page."""
    ctx = ctx or SyncContext.for_tenant(tenant, dry_run=True)
    cursors = dict(PollCursor.objects.filter(tenant=tenant).values_list("flow", "cursor"))
    sections: dict[str, list[list[str]]] = {
        "Vendors to create in BILL": [],
        "Vendors to link to an existing BILL vendor": [],
        "Vendors waiting for a mapping decision": [],
        "Vendors to update in BILL": [],
        "Bills to create in BILL": [],
        "Bills to update in BILL": [],
        "Bills to archive in BILL": [],
        "Bills that would wait for a mapping": [],
        "Bills that would be parked (need fixing in GP)": [],
        "Vendor credits to create in BILL": [],
        "Vendor credits that would wait for a mapping": [],
        "Vendor credits that would be parked (need fixing in GP)": [],
        _payments_title(ctx): [],
        "Credit memos to apply in GP (vendor credits BILL used)": [],
    }
    _vendors(ctx, cursors.get("gp_vendors"), sections)
    _bills(ctx, cursors.get("gp_bills"), sections)
    _payments(ctx, cursors.get("bill_payments"), sections)
    counts = Counter({title: len(rows) for title, rows in sections.items()})
    changes = sum(
        n
        for title, n in counts.items()
        if "waiting" not in title and "wait" not in title and "parked" not in title
    )
    return {
        "generated_at": timezone.now().isoformat(),
        "summary": f"The next sync would create or change {changes} object(s); nothing was written.",
        "sections": [
            {
                "title": title,
                "columns": ["GP / BILL key", "What", "Detail"],
                "rows": rows[:MAX_ROWS],
                "total": len(rows),
                "more": len(rows) > MAX_ROWS,
            }
            for title, rows in sections.items()
        ],
    }


def _vendors(ctx: SyncContext, since: dt.datetime | None, out: dict[str, list[list[str]]]) -> None:
    mappings = {m.gp_vendor_id: m for m in VendorMapping.objects.filter(tenant=ctx.tenant)}
    records = {r.source_key: r for r in SyncRecord.objects.filter(tenant=ctx.tenant, kind=Kind.VENDOR)}
    for vendor in ctx.gp.iter_vendors(modified_since=since):
        mapping, record = mappings.get(vendor.vendor_id), records.get(vendor.vendor_id)
        name = vendor.name
        if record is not None and record.state == State.SKIPPED:
            continue
        if mapping is None or mapping.state == MappingState.SUGGESTED:
            if ctx.tenant.auto_create_vendors and (mapping is None or mapping.action == MappingAction.CREATE):
                out["Vendors to create in BILL"].append(
                    [vendor.vendor_id, name, "created automatically (tenant policy)"]
                )
            else:
                out["Vendors waiting for a mapping decision"].append(
                    [vendor.vendor_id, name, "suggestions are made; approve one"]
                )
        elif mapping.state == MappingState.APPROVED:
            if record is None or not record.target_id:
                if mapping.bill_vendor_id:
                    out["Vendors to link to an existing BILL vendor"].append(
                        [
                            vendor.vendor_id,
                            name,
                            f"{mapping.bill_name or ''} {mapping.bill_vendor_id}".strip(),
                        ]
                    )
                else:
                    out["Vendors to create in BILL"].append(
                        [vendor.vendor_id, name, "approved as 'create in BILL'"]
                    )
            elif content_hash(vf.from_gp(vendor)) != record.synced_hash:
                out["Vendors to update in BILL"].append(
                    [vendor.vendor_id, name, f"changed in GP since the last sync ({record.target_id})"]
                )


def _bills(ctx: SyncContext, since: dt.datetime | None, out: dict[str, list[list[str]]]) -> None:
    records = {r.source_key: r for r in SyncRecord.objects.filter(tenant=ctx.tenant, kind=Kind.BILL)}
    credit_records = {
        r.source_key: r for r in SyncRecord.objects.filter(tenant=ctx.tenant, kind=Kind.VENDOR_CREDIT)
    }
    for invoice in ctx.gp.iter_invoices(modified_since=since):
        if is_credit(invoice):
            _credit(ctx, invoice, credit_records.get(invoice.voucher), out)
            continue
        record = records.get(invoice.voucher)
        if record is not None and record.state == State.SKIPPED:
            continue
        approved, why = is_approved(invoice, ctx.tenant)
        label = f"{invoice.vendor_id} invoice {invoice.invoice_number}"
        if record is not None and record.target_id:
            if invoice.is_voided:
                out["Bills to archive in BILL"].append(
                    [invoice.voucher, label, f"voided in GP ({record.target_id})"]
                )
                continue
            draft = build_draft(invoice, ctx)
            if draft.ready and draft.hash != record.synced_hash:
                out["Bills to update in BILL"].append(
                    [
                        invoice.voucher,
                        label,
                        f"{draft.amount} — changed in GP (unless BILL has started paying it)",
                    ]
                )
            continue
        if not approved:
            continue
        draft = build_draft(invoice, ctx)
        if draft.problem:
            out["Bills that would be parked (need fixing in GP)"].append(
                [invoice.voucher, label, draft.problem]
            )
        elif draft.waiting_on:
            out["Bills that would wait for a mapping"].append([invoice.voucher, label, draft.blocked_reason])
        else:
            due = draft.payload.get("dueDate", "")
            out["Bills to create in BILL"].append([invoice.voucher, label, f"{draft.amount} due {due}"])


def _credit(
    ctx: SyncContext, memo: GPInvoice, record: SyncRecord | None, out: dict[str, list[list[str]]]
) -> None:
    """A GP credit memo / return: what the credit flow (credits.py) would do with it."""
    if (
        (record is not None and (record.state == State.SKIPPED or record.target_id))
        or not getattr(ctx.gp, "writes_payments", True)
        or not is_credit_approved(memo, ctx.tenant)[0]
    ):
        return
    draft = build_credit_draft(memo, ctx)
    label = f"{memo.vendor_id} {kind_word(memo)} {memo.invoice_number}"
    if draft.problem:
        out["Vendor credits that would be parked (need fixing in GP)"].append(
            [memo.voucher, label, draft.problem]
        )
    elif draft.waiting_on:
        out["Vendor credits that would wait for a mapping"].append(
            [memo.voucher, label, draft.blocked_reason]
        )
    else:
        out["Vendor credits to create in BILL"].append([memo.voucher, label, money_text(draft.amount)])


def _payments_title(ctx: SyncContext) -> str:
    """GP Web Services cannot write payments: the preview says what will really happen to them."""
    if getattr(ctx.gp, "writes_payments", True):
        return "Payments to write to GP"
    return "Payments to record in GP by hand (GP Web Services cannot write them)"


def _payments(ctx: SyncContext, since: dt.datetime | None, out: dict[str, list[list[str]]]) -> None:
    done = set(
        SyncRecord.objects.filter(
            tenant=ctx.tenant, kind=Kind.GP_PAYMENT, state__in=[State.SYNCED, State.SKIPPED]
        ).values_list("source_key", flat=True)
    )
    paid = ctx.tenant.paid_status_set
    applied = set(
        SyncRecord.objects.filter(
            tenant=ctx.tenant, kind=Kind.CREDIT_APPLY, state__in=[State.SYNCED, State.SKIPPED]
        ).values_list("source_key", flat=True)
    )
    for payment in ctx.bill.iter_payments(updated_since=since):
        if is_ours(payment):  # our record in BILL of what GP applied outside it: GP has it already
            continue
        if (payment.status or "").upper() in paid and payment.id not in done:
            out[_payments_title(ctx)].append(
                [
                    payment.id,
                    money_text(payment.amount),
                    f"{len(payment.bill_payments)} bill(s), status {payment.status}",
                ]
            )
        if (payment.status or "").upper() in paid:
            for bill_id, credit_id, amount in payment.vendor_credits:
                key = f"{payment.id}:{credit_id}:{bill_id}"
                if key not in applied:
                    out["Credit memos to apply in GP (vendor credits BILL used)"].append(
                        [key, money_text(amount), f"vendor credit {credit_id} used on bill {bill_id}"]
                    )

"""Keep a mapping row (with ranked suggestions) for every GP vendor and account that needs one."""

from __future__ import annotations

from typing import Any

from audit.waits import WaitFor
from connectors.gp.records import GPVendor
from mappings.matching import (
    Account,
    Classification,
    Party,
    means_none,
    rank_accounts,
    rank_classifications,
    rank_vendors,
)
from mappings.models import (
    CheckbookMapping,
    ClassificationAction,
    ClassificationKind,
    ClassificationMapping,
    GLAccountMapping,
    MappingAction,
    MappingState,
    Suggestion,
    VendorMapping,
)

from .context import SyncContext


def bill_parties(ctx: SyncContext) -> list[Party]:
    """Every active BILL vendor as matching sees it (read once per run, only when needed)."""
    cached = getattr(ctx, "_bill_parties", None)
    if cached is None:
        cached = [
            Party(v.id, v.name, v.email, v.tax_id, v.address.line1, v.address.zip_code)
            for v in ctx.bill.iter_vendors()
            if not v.archived
        ]
        ctx._bill_parties = cached  # type: ignore[attr-defined]
    return cached


def gp_party(vendor: GPVendor) -> Party:
    return Party(
        vendor.vendor_id,
        vendor.name,
        vendor.email or "",
        vendor.tax_id or "",
        vendor.line1 or "",
        vendor.postal_code or "",
    )


def suggest_vendor(ctx: SyncContext, vendor: GPVendor) -> VendorMapping:
    """Create or refresh the suggested mapping for an unmapped GP vendor."""
    ranked = rank_vendors(gp_party(vendor), bill_parties(ctx))
    Suggestion.objects.filter(
        tenant=ctx.tenant, kind=Suggestion.KIND_VENDOR, gp_key=vendor.vendor_id
    ).delete()
    Suggestion.objects.bulk_create(
        [
            Suggestion(
                tenant=ctx.tenant,
                kind=Suggestion.KIND_VENDOR,
                gp_key=vendor.vendor_id,
                bill_id=c.bill_id,
                bill_name=c.bill_name,
                score=c.score,
                reasons=", ".join(c.reasons),
            )
            for c in ranked
        ]
    )
    best = ranked[0] if ranked else None
    mapping, created = VendorMapping.objects.get_or_create(
        tenant=ctx.tenant,
        gp_vendor_id=vendor.vendor_id,
        defaults={"gp_name": vendor.name[:100]},
    )
    if mapping.state == MappingState.SUGGESTED:
        mapping.gp_name = vendor.name[:100]
        if best:
            mapping.action, mapping.bill_vendor_id, mapping.bill_name = (
                MappingAction.LINK,
                best.bill_id,
                best.bill_name[:200],
            )
            mapping.note = "Suggested: " + ", ".join(best.reasons)
        else:
            mapping.action, mapping.bill_vendor_id, mapping.bill_name = MappingAction.CREATE, "", ""
            mapping.note = "No BILL vendor looks like this one: approve to create it in BILL."
        mapping.save()
    ctx.forget_vendor(vendor.vendor_id)
    return mapping


def gp_accounts(ctx: SyncContext) -> dict[str, Any]:
    cached = getattr(ctx, "_gp_accounts", None)
    if cached is None:
        cached = {a.account: a for a in ctx.gp.iter_gl_accounts()}
        ctx._gp_accounts = cached  # type: ignore[attr-defined]
    return cached


def bill_accounts(ctx: SyncContext) -> list[Account]:
    cached = getattr(ctx, "_bill_accounts", None)
    if cached is None:
        cached = [
            Account(a.id, a.name, a.number or "") for a in ctx.bill.iter_chart_of_accounts() if not a.archived
        ]
        ctx._bill_accounts = cached  # type: ignore[attr-defined]
    return cached


def ensure_account_suggestions(ctx: SyncContext, accounts: list[str]) -> None:
    """A suggested mapping for each GP account a bill waits on and nobody has looked at yet."""
    known = set(
        GLAccountMapping.objects.filter(tenant=ctx.tenant, gp_account__in=accounts).values_list(
            "gp_account", flat=True
        )
    )
    for account in accounts:
        if account in known:
            continue
        gp = gp_accounts(ctx).get(account)
        description = gp.description if gp else ""
        ranked = rank_accounts(Account(account, description), bill_accounts(ctx))
        Suggestion.objects.bulk_create(
            [
                Suggestion(
                    tenant=ctx.tenant,
                    kind=Suggestion.KIND_ACCOUNT,
                    gp_key=account,
                    bill_id=c.bill_id,
                    bill_name=c.bill_name,
                    score=c.score,
                    reasons=", ".join(c.reasons),
                )
                for c in ranked
            ]
        )
        note = ""
        if gp is not None and not gp.is_active:
            note = "This GP account is inactive in GP. "
        elif gp is not None and not gp.allow_entry:
            note = "This GP account does not allow account entry in GP. "
        best = ranked[0] if ranked else None
        GLAccountMapping.objects.get_or_create(
            tenant=ctx.tenant,
            gp_account=account,
            defaults={
                "gp_description": description[:100],
                "action": MappingAction.LINK if best else MappingAction.CREATE,
                "bill_account_id": best.bill_id if best else "",
                "bill_name": best.bill_name[:200] if best else "",
                "note": (
                    note
                    + (
                        "Suggested: " + ", ".join(best.reasons)
                        if best
                        else "No BILL account looks like this one: approve to create it in BILL."
                    )
                )[:255],
            },
        )
        ctx.forget_account(account)


def suggest_checkbook(ctx: SyncContext, funding_account_id: str) -> None:
    """A suggested checkbook mapping for a BILL funding account: the active GP checkbook whose bank
    account ends in the same four digits."""
    funding = {a.id: a for a in ctx.bill.iter_funding_accounts()}.get(funding_account_id)
    last4 = (funding.account_number if funding else "")[-4:]
    match = next(
        (c for c in ctx.gp.iter_checkbooks() if last4 and c.bank_last4 == last4 and not c.is_inactive), None
    )
    name = f"{funding.bank_name} …{last4}" if funding else funding_account_id
    CheckbookMapping.objects.get_or_create(
        tenant=ctx.tenant,
        bill_funding_account_id=funding_account_id,
        defaults={
            "bill_funding_name": name[:200],
            "gp_checkbook_id": match.checkbook_id if match else "",
            "note": (
                f"Suggested: GP checkbook {match.checkbook_id} has the same last four digits."
                if match
                else "Seen on a BILL payment; choose its GP checkbook."
            ),
        },
    )


def bill_classifications(ctx: SyncContext, kind: str) -> list[Classification]:
    """BILL's active departments, locations or accounting classes (read once per run and kind)."""
    cache = ctx.__dict__.setdefault("_bill_classifications", {})
    if kind not in cache:
        lister = {
            "department": ctx.bill.iter_departments,
            "location": ctx.bill.iter_locations,
            "class": ctx.bill.iter_accounting_classes,
        }[kind]
        cache[kind] = [Classification(c.id, c.name, c.short_name) for c in lister() if not c.archived]
    found: list[Classification] = cache[kind]
    return found


def ensure_classification_suggestions(ctx: SyncContext, waiting_on: list[WaitFor]) -> None:
    """A suggested mapping for each segment value (department:20 …) a bill waits on and nobody has looked
    at."""
    kinds = {k.value for k in ClassificationKind}
    wanted = [(w.kind, w.key) for w in waiting_on if w.kind in kinds and w.key]
    for kind, value in wanted:
        if ClassificationMapping.objects.filter(tenant=ctx.tenant, kind=kind, gp_value=value).exists():
            continue
        ranked = rank_classifications(value, "", bill_classifications(ctx, kind))
        Suggestion.objects.filter(tenant=ctx.tenant, kind=kind, gp_key=value).delete()
        Suggestion.objects.bulk_create(
            [
                Suggestion(
                    tenant=ctx.tenant,
                    kind=kind,
                    gp_key=value,
                    bill_id=c.bill_id,
                    bill_name=c.bill_name[:200],
                    score=c.score,
                    reasons=", ".join(c.reasons),
                )
                for c in ranked
            ]
        )
        best = ranked[0] if ranked else None
        word = ClassificationKind(kind).label.lower()
        if best:
            defaults = {
                "action": ClassificationAction.LINK,
                "bill_id": best.bill_id,
                "bill_name": best.bill_name[:200],
                "note": "Suggested: " + ", ".join(best.reasons),
            }
        elif means_none(value):
            defaults = {
                "action": ClassificationAction.BLANK,
                "note": f"A value of zeros usually means no {word} in GP: approve to leave the {word} "
                "blank on these BILL lines.",
            }
        else:
            defaults = {
                "action": ClassificationAction.CREATE,
                "note": f"No BILL {word} has this code: approve to create it in BILL, or pick one.",
            }
        ClassificationMapping.objects.get_or_create(
            tenant=ctx.tenant, kind=kind, gp_value=value, defaults=defaults
        )
        ctx.forget_classification(kind, value)

"""A tenant wired to the bench's sandboxes, with its mappings approved in bulk (as finance would, at once)."""

from __future__ import annotations

from typing import Any


def bill_info(sandbox: Any) -> dict[str, str]:
    """How to reach an in-process BILL sandbox, in the shape `bench._servers` prints."""
    c = sandbox.credentials
    return {
        "api_url": sandbox.api_url,
        "events_url": sandbox.events_url,
        "control_url": sandbox.control_url,
        "username": c.username,
        "password": c.password,
        "org_id": c.org_id,
        "dev_key": c.dev_key,
    }


def wire(g: dict[str, Any], b: dict[str, Any], slug: str = "bench", timeout_seconds: int = 60) -> Any:
    """A tenant (policy: approved invoices, posted or not) with GP and BILL connections to the sandboxes
    described by `g` and `b` (what `bench._servers` prints)."""
    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors.models import BillConnection, GPConnection, Tenant

    tenant, _ = Tenant.objects.update_or_create(
        slug=slug,
        defaults={"name": f"Bench {slug}", "bill_policy": Tenant.BILL_POLICY_APPROVED_UNPOSTED},
    )
    GPConnection.objects.update_or_create(
        tenant=tenant,
        defaults={
            "base_url": g["url"],
            "gp_tenant": g["tenant"],
            "company": g["company"],
            "domain": g["domain"],
            "username": g["user"],
            "password": g["password"],
            "verify_tls": True,
            "timeout_seconds": timeout_seconds,
        },
    )
    BillConnection.objects.update_or_create(
        tenant=tenant,
        defaults={
            "api_base_url": b["api_url"],
            "webhook_api_base_url": b["events_url"],
            "organization_id": b["org_id"],
            "username": b["username"],
            "password": b["password"],
            "dev_key": b["dev_key"],
            "timeout_seconds": timeout_seconds,
        },
    )
    return Tenant.objects.select_related("gp_connection", "bill_connection").get(pk=tenant.pk)


def approve_vendors_as_create(tenant: Any, gp_vendor_ids: list[str]) -> int:
    """Approved mappings with action 'create in BILL' for these GP vendors: the flow creates them in bulk."""
    from django.utils import timezone

    # after django.setup(): a bench module is imported before it has chosen its database
    from mappings.models import MappingAction, MappingState, VendorMapping

    now = timezone.now()
    rows = [
        VendorMapping(
            tenant=tenant,
            gp_vendor_id=v,
            gp_name=v,
            action=MappingAction.CREATE,
            state=MappingState.APPROVED,
            approved_at=now,
            note="bench: approved in bulk",
        )
        for v in gp_vendor_ids
    ]
    VendorMapping.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


def link_accounts(tenant: Any, gp_client: Any, bill_client: Any) -> int:
    """Every GP account linked to the BILL account of the same number (else BILL's first expense account)."""
    from django.utils import timezone

    # after django.setup(): a bench module is imported before it has chosen its database
    from mappings.matching import main_segment
    from mappings.models import GLAccountMapping, MappingAction, MappingState

    bill_accounts = [a for a in bill_client.iter_chart_of_accounts() if not a.archived]
    by_number = {a.number or "": a for a in bill_accounts}
    fallback = by_number.get("6100") or bill_accounts[0]
    now = timezone.now()
    rows = []
    for account in gp_client.iter_gl_accounts():
        target = by_number.get(main_segment(account.account)) or fallback
        rows.append(
            GLAccountMapping(
                tenant=tenant,
                gp_account=account.account,
                gp_description=account.description,
                action=MappingAction.LINK,
                bill_account_id=target.id,
                bill_name=target.name,
                state=MappingState.APPROVED,
                approved_at=now,
                note="bench: linked in bulk",
            )
        )
    GLAccountMapping.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)

"""What happens when finance approves a mapping: create what must be created, then release waiters."""

from __future__ import annotations

from typing import Any

from audit.models import Trigger
from mappings.approval import release
from mappings.models import CheckbookMapping, GLAccountMapping, MappingAction, VendorMapping

from .context import SyncContext


def apply_mapping(mapping: VendorMapping | GLAccountMapping | CheckbookMapping, user: Any = None) -> None:
    """Send the GP vendor or account through its flow now (creating it in BILL if so approved);
    every bill or payment that waited on it then goes on by itself."""
    if isinstance(mapping, CheckbookMapping):
        release(mapping)
        return
    ctx = SyncContext.for_tenant(mapping.tenant, trigger=Trigger.MAPPING, user=user)
    if isinstance(mapping, VendorMapping):
        from .vendors import create_vendors, process_vendor

        vendor = ctx.gp.get_vendor(mapping.gp_vendor_id)
        if vendor is None:
            return
        item = process_vendor(ctx, vendor)
        if item:
            create_vendors(ctx, [item])  # releases the waiting bills once the vendor exists
            return
    elif mapping.action == MappingAction.CREATE and not mapping.bill_account_id:
        from .gl_accounts import create_account

        create_account(ctx, mapping)  # releases on success
        return
    mapping.refresh_from_db()
    release(mapping)

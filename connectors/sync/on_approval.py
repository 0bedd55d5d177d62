"""What happens when finance approves a mapping: create what must be created, then release waiters."""

from __future__ import annotations

from typing import Any

from audit.models import Trigger
from mappings.approval import records_waiting_on_any, release_ids
from mappings.models import (
    CheckbookMapping,
    ClassificationAction,
    ClassificationMapping,
    GLAccountMapping,
    MappingAction,
    VendorMapping,
)

from .context import SyncContext
from .gp_to_bill.batching import chunks
from .gp_to_bill.classifications import create_classification
from .gp_to_bill.gl_accounts import create_account
from .gp_to_bill.vendors import create_vendors, process_vendor


def apply_mapping(mapping: VendorMapping | GLAccountMapping | CheckbookMapping, user: Any = None) -> None:
    """Send the GP vendor or account through its flow now (creating it in BILL if so approved);
    every bill or payment that waited on it then goes on by itself."""
    apply_mappings([mapping], user)


def apply_mappings(mappings: list[Any], user: Any = None) -> None:
    """`apply_mapping` for a batch (a bulk approval): one context per tenant, new BILL vendors created
    in bulk calls, and the records that waited on any of them replayed once each, in batches."""
    by_tenant: dict[int, list[Any]] = {}
    for mapping in mappings:
        by_tenant.setdefault(mapping.tenant_id, []).append(mapping)
    for group in by_tenant.values():
        ctx = SyncContext.for_tenant(group[0].tenant, trigger=Trigger.MAPPING, user=user)
        released: list[Any] = []  # mappings whose waiting records go on now (not created below)
        to_create = []
        for mapping in group:
            if isinstance(mapping, VendorMapping):
                vendor = ctx.gp.get_vendor(mapping.gp_vendor_id)
                if vendor is None:
                    continue
                item = process_vendor(ctx, vendor)
                if item:
                    to_create.append(item)  # releases the waiting bills once the vendor exists
                    continue
            elif (
                isinstance(mapping, GLAccountMapping)
                and mapping.action == MappingAction.CREATE
                and not mapping.bill_account_id
            ):
                create_account(ctx, mapping)  # releases on success
                continue
            elif (
                isinstance(mapping, ClassificationMapping)
                and mapping.action == ClassificationAction.CREATE
                and not mapping.bill_id
            ):
                create_classification(ctx, mapping)  # releases on success
                continue
            mapping.refresh_from_db()
            released.append(mapping)
        waiting = records_waiting_on_any(released)  # one query per kind of mapping, not one per mapping
        for chunk in chunks(to_create, 20):  # BILL's bulk create takes up to 20
            create_vendors(ctx, chunk)
        release_ids(waiting)

"""What one run of the flows shares: the tenant, both clients, who triggered it, and a tally."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from audit.ledger import settle_window
from audit.models import Kind, SyncRecord, Trigger
from connectors.bill.client import BillClient
from connectors.gp.transport import GPTransport, gp_client_for
from connectors.models import Tenant
from mappings.models import ClassificationMapping, GLAccountMapping, MappingState, VendorMapping

# Test hook: extra keyword arguments for the clients every context builds (tests pass no-sleep
# retry settings here so fault-injection runs take milliseconds, not minutes).
CLIENT_OPTIONS: dict[str, dict[str, Any]] = {"gp": {}, "bill": {}}


@dataclass
class SyncContext:
    tenant: Tenant
    gp: GPTransport  # SBA or GP Web Services; the same clients in a dry run, made read-only
    bill: BillClient
    trigger: str = Trigger.SCHEDULE
    user: Any = None
    dry_run: bool = False  # read-only: both clients refuse writes (see for_tenant)
    tally: Counter[str] = field(default_factory=Counter)
    _vendor_maps: dict[str, VendorMapping | None] = field(default_factory=dict)
    _account_maps: dict[str, GLAccountMapping | None] = field(default_factory=dict)
    _archived: dict[str, bool] = field(default_factory=dict)
    _class_maps: dict[tuple[str, str], ClassificationMapping | None] = field(default_factory=dict)

    @classmethod
    def for_tenant(cls, tenant: Tenant, **kwargs: Any) -> SyncContext:
        ctx = cls(
            tenant=tenant,
            gp=gp_client_for(tenant.gp_connection, **CLIENT_OPTIONS["gp"]),
            bill=BillClient.for_connection(tenant.bill_connection, **CLIENT_OPTIONS["bill"]),
            **kwargs,
        )
        if ctx.dry_run:  # preview and drift: the clients refuse every write, so "writes nothing" is enforced
            ctx.bill.read_only = True
            ctx.gp.http.read_only = True
        return ctx

    def settle_window(self, side: str) -> timedelta:
        """How long an unconfirmed create on `side` ("bill" or "gp") may still appear (audit.ledger)."""
        connection = self.tenant.bill_connection if side == "bill" else self.tenant.gp_connection
        return settle_window(float(connection.timeout_seconds))

    # Mapping lookups are cached for the run and prefetched a chunk at a time.
    def prefetch_vendor_maps(self, gp_vendor_ids: set[str]) -> None:
        missing = gp_vendor_ids - self._vendor_maps.keys()
        if not missing:
            return
        found = {
            m.gp_vendor_id: m
            for m in VendorMapping.objects.filter(tenant=self.tenant, gp_vendor_id__in=missing)
        }
        archived = {
            key
            for key, snapshot in SyncRecord.objects.filter(
                tenant=self.tenant, kind=Kind.VENDOR, source_key__in=missing
            ).values_list("source_key", "snapshot")
            if (snapshot or {}).get("archived")
        }
        for key in missing:
            self._vendor_maps[key] = found.get(key)
            self._archived[key] = key in archived

    def prefetch_account_maps(self, accounts: set[str]) -> None:
        missing = accounts - self._account_maps.keys()
        if not missing:
            return
        found = {
            m.gp_account: m
            for m in GLAccountMapping.objects.filter(tenant=self.tenant, gp_account__in=missing)
        }
        for key in missing:
            self._account_maps[key] = found.get(key)

    def bill_vendor_id(self, gp_vendor_id: str) -> str | None:
        """The BILL vendor an approved mapping points at, or None while it waits."""
        self.prefetch_vendor_maps({gp_vendor_id})
        mapping = self._vendor_maps[gp_vendor_id]
        if mapping and mapping.state == MappingState.APPROVED and mapping.bill_vendor_id:
            return mapping.bill_vendor_id
        return None

    def vendor_archived(self, gp_vendor_id: str) -> bool:
        """True while we keep the BILL vendor archived (GP hold or inactive): BILL refuses its bills."""
        self.prefetch_vendor_maps({gp_vendor_id})
        return self._archived.get(gp_vendor_id, False)

    def bill_account_id(self, gp_account: str) -> str | None:
        self.prefetch_account_maps({gp_account})
        mapping = self._account_maps[gp_account]
        if mapping and mapping.state == MappingState.APPROVED and mapping.bill_account_id:
            return mapping.bill_account_id
        return None

    def prefetch_classification_maps(self, keys: set[tuple[str, str]]) -> None:
        """(kind, GP segment value) pairs, read in one query per kind for the run."""
        missing = keys - self._class_maps.keys()
        for kind in {k for k, _ in missing}:
            values = {v for k, v in missing if k == kind}
            found = {
                m.gp_value: m
                for m in ClassificationMapping.objects.filter(
                    tenant=self.tenant, kind=kind, gp_value__in=values
                )
            }
            for value in values:
                self._class_maps[(kind, value)] = found.get(value)

    def classification_mapping(self, kind: str, value: str) -> ClassificationMapping | None:
        """The mapping of a segment value (any state), or None when nobody has looked at it yet."""
        self.prefetch_classification_maps({(kind, value)})
        return self._class_maps[(kind, value)]

    def forget_classification(self, kind: str, value: str) -> None:
        self._class_maps.pop((kind, value), None)

    def forget_vendor(self, gp_vendor_id: str) -> None:
        self._vendor_maps.pop(gp_vendor_id, None)
        self._archived.pop(gp_vendor_id, None)

    def forget_account(self, gp_account: str) -> None:
        self._account_maps.pop(gp_account, None)

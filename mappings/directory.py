"""Which GP and BILL identifiers exist, so an imported mapping row can be refused with a reason.

GP and BILL are asked once per import when the tenant's connections are set up; otherwise (or if
they cannot be reached) what the connector has already seen — ledger rows, mappings, suggestions —
is what counts as known.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from audit.models import Kind, SyncRecord
from connectors.bill.client import BillClient
from connectors.gp.transport import gp_client_for
from connectors.models import Tenant

from .models import (
    CheckbookMapping,
    ClassificationKind,
    ClassificationMapping,
    GLAccountMapping,
    Suggestion,
    VendorMapping,
)
from .segments import wanted_keys

log = logging.getLogger(__name__)


@dataclass
class Directory:
    """Known identifiers per side; `live` says whether GP/BILL themselves were asked."""

    gp_vendors: set[str] = field(default_factory=set)
    bill_vendors: set[str] = field(default_factory=set)
    gp_accounts: set[str] = field(default_factory=set)
    bill_accounts: set[str] = field(default_factory=set)
    gp_checkbooks: set[str] = field(default_factory=set)
    bill_funding_accounts: set[str] = field(default_factory=set)
    # Segment values (kind → values) from the GP account strings, and BILL classifications (kind → IDs).
    gp_segments: dict[str, set[str]] = field(
        default_factory=lambda: {k.value: set() for k in ClassificationKind}
    )
    bill_classifications: dict[str, set[str]] = field(
        default_factory=lambda: {k.value: set() for k in ClassificationKind}
    )
    live_gp: bool = False
    live_bill: bool = False

    # The import checks name one set per kind (mappings.resources: key_set / target_set).
    @property
    def gp_departments(self) -> set[str]:
        return self.gp_segments["department"]

    @property
    def gp_locations(self) -> set[str]:
        return self.gp_segments["location"]

    @property
    def gp_classes(self) -> set[str]:
        return self.gp_segments["class"]

    @property
    def bill_departments(self) -> set[str]:
        return self.bill_classifications["department"]

    @property
    def bill_locations(self) -> set[str]:
        return self.bill_classifications["location"]

    @property
    def bill_classes(self) -> set[str]:
        return self.bill_classifications["class"]


def for_tenant(tenant: Tenant, *, live: bool = True) -> Directory:
    found = seen_by_connector(tenant)
    if live:
        _ask_gp(tenant, found)
        _ask_bill(tenant, found)
    return found


def seen_by_connector(tenant: Tenant) -> Directory:
    d = Directory()
    vendor_maps = VendorMapping.objects.filter(tenant=tenant)
    d.gp_vendors.update(vendor_maps.values_list("gp_vendor_id", flat=True))
    d.gp_vendors.update(
        SyncRecord.objects.filter(tenant=tenant, kind=Kind.VENDOR).values_list("source_key", flat=True)
    )
    d.bill_vendors.update(v for v in vendor_maps.values_list("bill_vendor_id", flat=True) if v)
    d.bill_vendors.update(
        t
        for t in SyncRecord.objects.filter(tenant=tenant, kind=Kind.VENDOR).values_list(
            "target_id", flat=True
        )
        if t
    )
    d.bill_vendors.update(
        Suggestion.objects.filter(tenant=tenant, kind=Suggestion.KIND_VENDOR).values_list(
            "bill_id", flat=True
        )
    )
    account_maps = GLAccountMapping.objects.filter(tenant=tenant)
    d.gp_accounts.update(account_maps.values_list("gp_account", flat=True))
    d.bill_accounts.update(a for a in account_maps.values_list("bill_account_id", flat=True) if a)
    d.bill_accounts.update(
        Suggestion.objects.filter(tenant=tenant, kind=Suggestion.KIND_ACCOUNT).values_list(
            "bill_id", flat=True
        )
    )
    for kind, value, bill_id in ClassificationMapping.objects.filter(tenant=tenant).values_list(
        "kind", "gp_value", "bill_id"
    ):
        d.gp_segments[kind].add(value)
        if bill_id:
            d.bill_classifications[kind].add(bill_id)
    for kind, bill_id in Suggestion.objects.filter(tenant=tenant, kind__in=list(d.gp_segments)).values_list(
        "kind", "bill_id"
    ):
        d.bill_classifications[kind].add(bill_id)
    _segments_of(tenant, d.gp_accounts, d)
    checkbooks = CheckbookMapping.objects.filter(tenant=tenant)
    d.bill_funding_accounts.update(checkbooks.values_list("bill_funding_account_id", flat=True))
    d.gp_checkbooks.update(c for c in checkbooks.values_list("gp_checkbook_id", flat=True) if c)
    if tenant.default_checkbook_id:
        d.gp_checkbooks.add(tenant.default_checkbook_id)
    return d


def _ask_gp(tenant: Tenant, d: Directory) -> None:
    try:
        conn = tenant.gp_connection
    except Exception:
        return

    try:
        client = gp_client_for(conn)
        try:
            vendors = {v.vendor_id for v in client.iter_vendors()}
            accounts = {a.account for a in client.iter_gl_accounts()}
            checkbooks = {c.checkbook_id for c in client.iter_checkbooks()}
        finally:
            client.close()
    except Exception as exc:  # the import still runs on what the connector has seen
        log.warning("could not list GP identifiers for %s: %s", tenant.slug, exc)
        return
    d.gp_vendors, d.gp_accounts, d.gp_checkbooks, d.live_gp = vendors, accounts, checkbooks, True
    _segments_of(tenant, accounts, d)


def _segments_of(tenant: Tenant, accounts: set[str], d: Directory) -> None:
    """The values the tenant's chosen segments take in these GP account strings."""
    for kind, value in wanted_keys(tenant, accounts):
        d.gp_segments[kind].add(value)


def _ask_bill(tenant: Tenant, d: Directory) -> None:
    try:
        conn = tenant.bill_connection
    except Exception:
        return

    try:
        client = BillClient.for_connection(conn)
        vendors = {v.id for v in client.iter_vendors()}
        accounts = {a.id for a in client.iter_chart_of_accounts()}
        funding = {f.id for f in client.iter_funding_accounts()}
        classifications = {
            kind: {c.id for c in client.iter_classifications(kind)} for kind in d.bill_classifications
        }
    except Exception as exc:
        log.warning("could not list BILL identifiers for %s: %s", tenant.slug, exc)
        return
    d.bill_vendors, d.bill_accounts, d.bill_funding_accounts, d.live_bill = vendors, accounts, funding, True
    d.bill_classifications = classifications

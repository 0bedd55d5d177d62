"""A tenant wired to both sandboxes, and the steps finance would take (approve suggestions)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures_bill import wire_bill_connection
from tests.fixtures_gp import wire_gp_connection


@pytest.fixture
def wired(transactional_db, tenant, gp_sandbox, bill_sandbox) -> Any:
    """The tenant with its GP and BILL connections pointing at the two sandboxes."""
    wire_gp_connection(tenant, gp_sandbox)
    wire_bill_connection(tenant, bill_sandbox)
    tenant.refresh_from_db()
    return tenant


@pytest.fixture
def synced(wired: Any, bill_sandbox: Any) -> Any:
    """The wired tenant after a first sync with every suggested mapping approved."""
    run(wired)
    approve_all(wired)
    wired.default_checkbook_id = "UPTOWN TRUST"
    wired.save()
    return wired


@pytest.fixture
def subscribed(synced: Any, live_server: Any, bill_sandbox: Any) -> Any:
    """`synced`, subscribed to BILL's webhooks delivered to the live test server."""
    from connectors.subscriptions import subscribe

    subscribe(synced, f"{live_server.url}/webhooks/bill/{synced.slug}/")
    synced.refresh_from_db()
    return synced


def approve_all(tenant: Any, user: Any = None) -> None:
    """Approve every suggested mapping as suggested (link, or create in BILL)."""
    from mappings.approval import approve
    from mappings.models import GLAccountMapping, MappingAction, MappingState, VendorMapping

    for model in (VendorMapping, GLAccountMapping):
        for mapping in model.objects.filter(tenant=tenant, state=MappingState.SUGGESTED):
            approve(mapping, user, create=mapping.action == MappingAction.CREATE)


def run(tenant: Any, **kwargs: Any) -> dict[str, Any]:
    from connectors.sync.runner import run_gp_to_bill

    return run_gp_to_bill(tenant, **kwargs)


def bills_in_bill(tenant: Any) -> list[Any]:
    """Every unarchived bill, read through BILL's own API."""
    from connectors.bill.client import BillClient

    return [b for b in BillClient.for_connection(tenant.bill_connection).iter_bills() if not b.archived]


def bills_by_voucher(tenant: Any) -> dict[str, list[Any]]:
    from connectors.sync.gp_to_bill.bill_payload import voucher_from_description

    found: dict[str, list[Any]] = {}
    for bill in bills_in_bill(tenant):
        found.setdefault(voucher_from_description(bill.description) or "", []).append(bill)
    return found


def approved_invoices(tenant: Any) -> dict[str, Any]:
    """GP invoices the tenant's policy sends to BILL, read through GP's API."""
    from connectors.gp.client import GPClient
    from connectors.sync.gp_to_bill.bill_payload import is_approved

    client = GPClient.for_connection(tenant.gp_connection)
    return {i.voucher: i for i in client.iter_invoices() if is_approved(i, tenant)[0]}


def record(tenant: Any, kind: str, key: str) -> Any:
    from audit.models import SyncRecord

    return SyncRecord.objects.get(tenant=tenant, kind=kind, source_key=key)

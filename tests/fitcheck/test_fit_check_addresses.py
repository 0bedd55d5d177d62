"""A GP server that lists vendor addresses in a resource of their own (sandbox variant
vendor_addresses=separate): the sync stops with a plain error until the resource map says so, the fit
check finds the resource and proposes it, and once confirmed the vendors reach BILL with their addresses."""

from __future__ import annotations

import pytest

from audit.models import Kind, SyncRecord
from connectors.fitcheck import run_fit_check
from connectors.gp.resource_map import GPShapeError
from connectors.overrides import confirm, propose
from tests.fitcheck.test_fit_check import _writes
from tests.sync.conftest import approve_all, run


def _gp_addresses(gp_sandbox) -> dict[str, tuple[str, str]]:
    table = gp_sandbox.data().tables["Vendors"]
    out = {}
    for _, key in table._index:
        vendor = table.get(key)
        by_key = {a["Key"]["Id"]: a for a in vendor["Addresses"]}
        address = by_key.get(vendor["RemitToAddressKey"]["Id"]) or next(iter(by_key.values()))
        out[vendor["Key"]["Id"]] = (address["Line1"], address["City"])
    return out


def test_separate_addresses_stop_the_sync_until_the_fit_check_s_proposal_is_confirmed(
    wired, gp_sandbox, bill_sandbox
):
    gp_sandbox.set_variant(vendor_addresses="separate")
    with pytest.raises(GPShapeError, match="vendor_address_resource"):
        run(wired)
    assert not SyncRecord.objects.filter(kind=Kind.VENDOR).exclude(target_id="").exists()

    gp_sandbox.reset_stats()
    report = run_fit_check(wired)
    assert report["proposed_overrides"] == {"vendor_address_resource": "Purchasing/VendorAddresses"}
    said = next(p["problem"] for p in report["problems"] if "VendorAddresses" in p["problem"])
    assert "without addresses" in said
    assert report["gp"]["counts"]["vendors"] == len(_gp_addresses(gp_sandbox))
    assert _writes(gp_sandbox) == [] and _writes(bill_sandbox) == []

    confirm(propose(wired.gp_connection, report["proposed_overrides"], "fit check"), None)
    wired.gp_connection.refresh_from_db()
    assert run_fit_check(wired)["proposed_overrides"] == {}

    already_in_bill = set(bill_sandbox.store.vendors)  # linked ones keep BILL's address until a person says
    run(wired)
    approve_all(wired)
    run(wired)
    created = (
        SyncRecord.objects.filter(tenant=wired, kind=Kind.VENDOR)
        .exclude(target_id="")
        .exclude(target_id__in=already_in_bill)
    )
    truth = _gp_addresses(gp_sandbox)
    in_bill = {r.source_key: bill_sandbox.store.vendors[r.target_id]["address"] for r in created}
    assert (
        len(in_bill) >= 5 and sum(1 for a in in_bill.values() if a["line1"]) >= len(in_bill) - 1
    )  # one has none in GP
    assert {k: (a["line1"], a["city"]) for k, a in in_bill.items()} == {k: truth[k] for k in in_bill}

"""Approving a vendor link never rewrites vendor master data on either side without a person's choice.

The `small` seed has GP vendor CONTOSO0001 "Contoso, Ltd." (Toronto remit address, ap@contoso.example,
no tax ID) and BILL vendor "Contoso Ltd." (Redmond, billing@contoso.example, tax ID 91-1144442): the
same company with different master data on each side, suggested as a link.
"""

from __future__ import annotations

from typing import Any

from audit.models import State, SyncRecord
from connectors.bill.client import BillClient
from connectors.gp.client import GPClient
from connectors.sync.runner import run_bill_to_gp
from mappings.approval import approve
from mappings.models import VendorMapping
from tests.sync.conftest import run

GP_ID = "CONTOSO0001"


def contoso(tenant: Any) -> VendorMapping:
    return VendorMapping.objects.get(tenant=tenant, gp_vendor_id=GP_ID)


def both_sides(tenant: Any, bill_id: str) -> tuple[Any, Any]:
    gp = GPClient.for_connection(tenant.gp_connection).get_vendor(GP_ID)
    bill = BillClient.for_connection(tenant.bill_connection).get_vendor(bill_id)
    return gp, bill


def test_approving_the_contoso_link_changes_nothing_on_either_side_and_leaves_the_differences_for_a_person(
        wired, frank):
    run(wired)
    mapping = contoso(wired)
    assert mapping.bill_name == "Contoso Ltd." and mapping.state == "suggested"
    gp_before, bill_before = both_sides(wired, mapping.bill_vendor_id)

    approve(mapping, frank)  # the task runs on commit: the link, then the waiting bills
    run_bill_to_gp(wired)    # BILL → GP must not fill GP's blanks from BILL either

    gp_after, bill_after = both_sides(wired, mapping.bill_vendor_id)
    assert (bill_after.name, bill_after.email, bill_after.address.line1, bill_after.address.city) == (
        "Contoso Ltd.", "billing@contoso.example", "1 Microsoft Way", "Redmond")
    assert bill_after.raw == bill_before.raw
    assert (gp_after.tax_id, gp_after.phone, gp_after.email) == ("", gp_before.phone, "ap@contoso.example")
    record = SyncRecord.objects.get(tenant=wired, kind="vendor", source_key=GP_ID)
    assert record.target_id == mapping.bill_vendor_id
    assert record.state == State.CONFLICT
    assert {"name", "email", "address", "tax_id"} <= set(record.snapshot["conflicts"])
    assert "nothing was overwritten" in record.reason.lower()

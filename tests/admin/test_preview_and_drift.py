"""Preview (the next sync, dry) and the drift report, read from the GP and BILL sandboxes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit.models import SyncRecord
from mappings.models import Suggestion, VendorMapping
from tests.admin.conftest import post_and_run


@pytest.fixture
def wired(tenant, gp_connection, bill_connection):
    return tenant


def writes(stats: dict) -> list[str]:
    return [
        path for path in stats["requests"]["by_path"] if not path.startswith("GET") and "login" not in path
    ]


def test_it_previews_the_next_sync_and_writes_nothing_anywhere(
    as_frank, wired, inline_tasks, gp_sandbox, bill_sandbox
):
    response = post_and_run(as_frank, "/admin/ops/dashboard/northwind/start/preview/")
    page = response.content.decode()
    assert "Vendors waiting for a mapping decision" in page and "ACETRAVE0001" in page
    assert "Bills that would wait for a mapping" in page and "INV-1001" in page
    assert "nothing was written" in page
    assert SyncRecord.objects.count() == 0
    assert VendorMapping.objects.count() == 0 and Suggestion.objects.count() == 0
    assert writes(bill_sandbox.stats()) == [] and writes(gp_sandbox.stats()) == []


def test_it_previews_a_bill_to_create_once_its_mappings_are_approved(wired, gp_sandbox, bill_sandbox):
    from connectors.sync.preview import preview
    from mappings.models import GLAccountMapping

    VendorMapping.objects.create(
        tenant=wired, gp_vendor_id="ASSOCIAT0001", state="approved", bill_vendor_id="00902X"
    )
    GLAccountMapping.objects.create(
        tenant=wired, gp_account="000-6100-00", state="approved", bill_account_id="0ca02X"
    )
    sections = {s["title"]: s for s in preview(wired)["sections"]}
    created = sections["Bills to create in BILL"]["rows"]
    assert [row[0] for row in created] == ["00000000000000303"]


def test_it_reports_invoices_missing_in_bill_and_amounts_that_differ(
    as_alice, wired, inline_tasks, bill_client
):
    vendor = next(iter(bill_client.iter_vendors()))
    bill_client.create_bill(
        {
            "vendorId": vendor.id,
            "description": "GP voucher 00000000000000301",
            "invoice": {"invoiceNumber": "INV-1001", "invoiceDate": "2025-05-01"},
            "dueDate": "2025-06-30",
            "billLineItems": [{"amount": Decimal("999.00"), "description": "Travel"}],
        }
    )
    response = post_and_run(as_alice, "/admin/ops/dashboard/northwind/start/drift/")  # connector admins only
    page = response.content.decode()
    # Money problems come first, then what is missing grouped by why, then due dates.
    assert (
        page.index("Amount differs")
        < page.index("Approved and open in GP, missing in BILL")
        < page.index("Due date differs")
    )
    assert (
        "Approved and open in GP, missing in BILL: not read by a sync yet" in page
        and "00000000000000302" in page
    )
    section = page[
        page.index("<summary>Amount differs") : page.index(
            "</details>", page.index("<summary>Amount differs")
        )
    ]
    assert "00000000000000301" in section and "$1,250.00" in section and "$999.00" in section
    assert "-$251.00" in section  # the difference, and the section's total
    due = page[page.index("<summary>Due date differs") :]
    assert "2025-05-31" in due and "2025-06-30" in due
    assert "money problem" in page
    job = response.request["PATH_INFO"].rstrip("/").split("/")[-1]
    csv = as_alice.get(f"/admin/ops/jobs/{job}/report.csv")
    assert csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode()
    assert "Amount differs,00000000000000301" in text and ",1250.00,999.00,-251.00" in text


def test_a_read_only_context_refuses_every_write_before_it_leaves(
    wired, gp_sandbox, bill_sandbox, gp_ws_sandbox
):
    """Preview and drift build their context read-only: even a flow run through it could not write."""
    from connectors.bill.http import BillError
    from connectors.gp.http import GPError
    from connectors.sync.context import SyncContext
    from connectors.sync.runner import run_gp_to_bill
    from tests.fixtures_gp_ws import wire_gp_interface

    ctx = SyncContext.for_tenant(wired, dry_run=True)
    with pytest.raises(BillError) as refused:
        ctx.bill.create_vendor({"name": "Should Not Exist"})
    assert refused.value.code == "READ_ONLY" and "only reads" in str(refused.value)
    with pytest.raises(GPError) as refused_gp:
        ctx.gp.patch_vendor("ACETRAVE0001", {"Name": "Renamed"})
    assert refused_gp.value.code == "read_only"
    assert (
        len(list(ctx.bill.iter_vendors())) >= 0 and ctx.gp.get_vendor("ACETRAVE0001").name
    )  # reads still work

    run_gp_to_bill(
        wired, ctx=SyncContext.for_tenant(wired, dry_run=True)
    )  # a whole flow: refusals, no writes
    assert writes(bill_sandbox.stats()) == [] and writes(gp_sandbox.stats()) == []
    assert not SyncRecord.objects.filter(tenant=wired, target_id__gt="").exists()

    wire_gp_interface(wired, gp_sandbox, gp_ws_sandbox, "web_services")
    wired.refresh_from_db()
    over_ws = SyncContext.for_tenant(wired, dry_run=True)
    with pytest.raises(GPError) as refused_ws:
        over_ws.gp.patch_vendor("ACETRAVE0001", {"Name": "Renamed"})
    assert refused_ws.value.code == "read_only" and "UpdateVendor" in str(refused_ws.value)
    assert over_ws.gp.get_vendor("ACETRAVE0001").name == "A Travel Company"

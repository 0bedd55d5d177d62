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
    return [path for path in stats["requests"]["by_path"] if not path.startswith("GET") and "login" not in path]


def test_it_previews_the_next_sync_and_writes_nothing_anywhere(as_frank, wired, inline_tasks, gp_sandbox, bill_sandbox):
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

    VendorMapping.objects.create(tenant=wired, gp_vendor_id="ASSOCIAT0001", state="approved", bill_vendor_id="00902X")
    GLAccountMapping.objects.create(tenant=wired, gp_account="000-6100-00", state="approved", bill_account_id="0ca02X")
    sections = {s["title"]: s for s in preview(wired)["sections"]}
    created = sections["Bills to create in BILL"]["rows"]
    assert [row[0] for row in created] == ["00000000000000303"]


def test_it_reports_invoices_missing_in_bill_and_amounts_that_differ(as_alice, wired, inline_tasks, bill_client):
    vendor = next(iter(bill_client.iter_vendors()))
    bill_client.create_bill({
        "vendorId": vendor.id, "description": "GP voucher 00000000000000301",
        "invoice": {"invoiceNumber": "INV-1001", "invoiceDate": "2025-05-01"}, "dueDate": "2025-06-30",
        "billLineItems": [{"amount": Decimal("999.00"), "description": "Travel"}],
    })
    response = post_and_run(as_alice, "/admin/ops/dashboard/northwind/start/drift/")  # connector admins only
    page = response.content.decode()
    # Money problems come first, then what is missing grouped by why, then due dates.
    assert page.index("Amount differs") < page.index("Approved and open in GP, missing in BILL") \
        < page.index("Due date differs")
    assert "Approved and open in GP, missing in BILL: not read by a sync yet" in page and "00000000000000302" in page
    section = page[page.index('<summary>Amount differs'):page.index("</details>", page.index('<summary>Amount differs'))]
    assert "00000000000000301" in section and "$1,250.00" in section and "$999.00" in section
    assert "-$251.00" in section  # the difference, and the section's total
    due = page[page.index("<summary>Due date differs"):]
    assert "2025-05-31" in due and "2025-06-30" in due
    assert "money problem" in page
    job = response.request["PATH_INFO"].rstrip("/").split("/")[-1]
    csv = as_alice.get(f"/admin/ops/jobs/{job}/report.csv")
    assert csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode()
    assert "Amount differs,00000000000000301" in text and ",1250.00,999.00,-251.00" in text

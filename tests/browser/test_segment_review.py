"""A finance clerk meets a bill waiting on a GP department (an account segment) in a real browser."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

VOUCHER = "00000000000000306"  # CONTOSO0001's invoice on 000-6100-00: department segment 00
SHOTS = os.environ.get("ML_SCREENSHOTS", "")  # a folder to keep screenshots in, when set


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def waiting_on_department(tenant: Any, gp_connection: Any, bill_connection: Any) -> Any:
    """The tenant's department is segment 3; vendor and account are approved, department 00 is not."""
    from connectors.sync.runner import run_gp_to_bill
    from mappings.approval import approve
    from mappings.models import GLAccountMapping, MappingState, VendorMapping

    tenant.department_segment = 3
    tenant.save()
    run_gp_to_bill(tenant, full=True)
    for model in (VendorMapping, GLAccountMapping):
        for mapping in model.objects.filter(tenant=tenant, state=MappingState.SUGGESTED):
            approve(mapping, None, create=mapping.action == "create", queue_task=False)
    run_gp_to_bill(tenant, full=True)
    return tenant


def test_finance_leaves_department_00_blank_and_the_waiting_bill_goes_to_bill(
    page, live_server, frank, waiting_on_department, inline_tasks, bill_client
):
    from audit.models import SyncRecord

    record = SyncRecord.objects.get(tenant=waiting_on_department, kind="bill", source_key=VOUCHER)
    assert record.state == "blocked" and record.waiting_on == "department:00"
    sign_in(page, live_server, "frank")
    page.click("text=Needs attention")
    row = page.locator("tr", has_text=f"GP {VOUCHER}").first
    assert "GP department 00 not mapped to BILL yet" in row.inner_text()
    _shot(page, "attention")
    row.locator("text=Map GP department 00").click()

    review = page.locator("#ml-review")
    assert "usually means no department" in review.inner_text()
    assert "Review department match" in page.locator("h1").inner_text()
    _shot(page, "review")
    page.locator("#ml-blank").click()
    assert "without a department" in page.locator(".messagelist").inner_text()
    _shot(page, "after")

    record.refresh_from_db()
    assert record.state == "synced", record.reason
    bill = bill_client.get_bill(record.target_id)
    assert all(li.department_id is None for li in bill.line_items)
    page.goto(f"{live_server.url}/admin/mappings/departmentmapping/?review=all")
    assert "Leave blank in BILL" in page.locator("#result_list").inner_text()
    _shot(page, "list")


def test_finance_may_read_the_segment_setting_but_not_change_it(page, live_server, frank, tenant):
    sign_in(page, live_server, "frank")
    response = page.goto(f"{live_server.url}/admin/connectors/tenant/{tenant.pk}/change/")
    assert response.status == 403 or 'name="department_segment"' not in page.content()
    _shot(page, "tenant_as_finance")


def test_a_connector_admin_sets_the_department_segment_on_the_tenant_page(page, live_server, alice, tenant):
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/admin/connectors/tenant/{tenant.pk}/change/")
    field = page.locator(".field-department_segment")
    assert "100-6100-20" in field.inner_text()  # the help says what a segment is, by example
    page.fill("#id_department_segment", "3")
    page.fill("#id_location_segment", "3")
    page.click("input[name=_continue]")
    assert "Segment 3 is already the department" in page.locator(".errorlist").first.inner_text()
    _shot(page, "tenant_segments_refused")
    page.fill("#id_location_segment", "1")
    page.click("input[name=_continue]")
    tenant.refresh_from_db()
    assert (tenant.department_segment, tenant.location_segment) == (3, 1)

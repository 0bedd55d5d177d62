"""The record page and the error pages in a real browser, as a finance clerk reads them.

Screenshots go to var/screens/ (record-*.png, error-*.png) so a person can look at the screens.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import sign_in
from tests.browser.test_vendor_match_review import SCREENS, no_horizontal_overflow

pytestmark = pytest.mark.browser

VENDOR = "CONTOSO0001"
RAW = ("{'", "[{'", "Decimal(")
SNAKE_CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # in_doubt, updated_gp, gp_bills, bill_ignored …


def shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def press(page: Any, selector: str) -> None:
    """Click a button that posts a form, and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator(selector).click()
    page.wait_for_load_state()


def reads_as_words(page: Any) -> str:
    text = page.inner_text("body")
    assert not [raw for raw in RAW if raw in text], "a Python value on the page"
    assert not SNAKE_CODE.findall(text), f"raw codes on the page: {SNAKE_CODE.findall(text)}"
    no_horizontal_overflow(page)
    return text


@pytest.fixture
def left_different(
    tenant: Any, gp_connection: Any, bill_connection: Any, frank: Any, inline_tasks: Any
) -> Any:
    """CONTOSO0001 linked to BILL's Contoso Ltd. with every differing field left as it is."""
    from audit.models import SyncRecord
    from connectors.sync.runner import run_gp_to_bill
    from mappings.approval import approve
    from mappings.models import VendorMapping

    run_gp_to_bill(tenant, full=True)
    approve(VendorMapping.objects.get(tenant=tenant, gp_vendor_id=VENDOR), frank)
    record = SyncRecord.objects.get(tenant=tenant, kind="vendor", source_key=VENDOR)
    assert record.state == "conflict"
    return record


def aligned(gp_client: Any, bill_client: Any, record: Any) -> tuple[dict, dict]:
    from connectors.sync import vendor_fields as vf

    return vf.from_gp(gp_client.get_vendor(VENDOR)), vf.from_bill(
        bill_client.get_vendor(record.target_id).raw
    )


def test_a_clerk_keeps_one_value_at_a_time_and_nothing_else_changes(
    page, live_server, left_different, gp_client, bill_client
):
    record = left_different
    gp_before, bill_before = aligned(gp_client, bill_client, record)
    sign_in(page, live_server, "frank")
    page.goto(f"{live_server.url}/admin/audit/syncrecord/{record.pk}/change/")
    text = reads_as_words(page)
    assert page.locator("h1").count() == 1
    assert "Changed on both sides" in text and "Keep GP's value" in text and "Keep BILL's value" in text
    shot(page, "record-vendor-conflict")

    press(page, "tr[data-field=name] .ml-keep-bill button")
    assert "now has BILL's value in both GP and BILL" in page.locator(".messagelist").inner_text()
    gp_now, bill_now = aligned(gp_client, bill_client, record)
    assert gp_now == {**gp_before, "name": bill_before["name"]} and bill_now == bill_before

    press(page, "tr[data-field=email] .ml-keep-gp button")  # no confirmation ticked
    assert "tick “I confirm”" in page.locator(".messagelist").inner_text()
    assert aligned(gp_client, bill_client, record) == (gp_now, bill_now)

    page.locator("tr[data-field=email] .ml-keep-gp input[type=checkbox]").check()
    press(page, "tr[data-field=email] .ml-keep-gp button")
    gp_after, bill_after = aligned(gp_client, bill_client, record)
    assert bill_after == {**bill_now, "email": gp_now["email"]} and gp_after == gp_now
    text = reads_as_words(page)
    assert "A person chose which value to keep" in text  # the trail, in words
    assert "e-mail" in page.inner_text("#ml-vendor-changes") and "frank" in page.inner_text(
        "#ml-vendor-changes"
    )
    shot(page, "record-vendor-after-choices")


def test_replay_runs_as_a_job_and_the_trail_and_values_read_as_words(
    page, live_server, tenant, gp_connection, bill_connection, frank, inline_tasks
):
    from audit import waits
    from audit.ledger import settle
    from audit.models import SyncRecord
    from connectors.sync.runner import run_gp_to_bill

    run_gp_to_bill(tenant, full=True)
    record = (
        SyncRecord.objects.filter(tenant=tenant, kind="bill", state="blocked").order_by("source_key").first()
    )
    settle(
        record,
        "failed",
        reason="BILL did not take the bill: 503 Service Unavailable",
        fix="It is retried automatically; Replay to retry now.",
        waits=waits.of(record),
    )
    sign_in(page, live_server, "frank")
    page.goto(f"{live_server.url}/admin/audit/syncrecord/{record.pk}/change/")
    text = reads_as_words(page)
    assert "Failed (will retry)" in text and "Next try:" in text
    shot(page, "record-bill-failed")

    page.click("#ml-replay")
    assert "1 record:" in page.inner_text("#ml-job-result")
    reads_as_words(page)
    shot(page, "record-replay-job")
    with page.expect_navigation():
        page.click("#ml-back-to-record")
    page.wait_for_selector("#ml-trail")
    text = reads_as_words(page)
    assert "Replay" in page.inner_text("#ml-trail") and "frank" in page.inner_text("#ml-trail")
    assert "not mapped" in text or "Waiting" in text  # the reason is the one found now, not the 503
    assert "503 Service Unavailable" not in page.inner_text("#ml-summary")
    shot(page, "record-bill-after-replay")


def test_missing_and_forbidden_pages_say_what_happened_and_link_back(page, live_server, frank, tenant):
    sign_in(page, live_server, "frank")
    response = page.goto(f"{live_server.url}/admin/ops/jobs/999999/")
    assert response.status == 404
    text = reads_as_words(page)
    assert "Page not found" in text and "Nothing was changed in GP or BILL." in text
    shot(page, "error-404")
    page.click("#ml-error-dashboard")
    assert "/admin/ops/dashboard/" in page.url

    response = page.goto(f"{live_server.url}/admin/connectors/gpconnection/")
    assert response.status == 403
    text = reads_as_words(page)
    assert "You do not have access to this page" in text
    shot(page, "error-403")

    page.goto(f"{live_server.url}/admin/")
    page.click("text=View site")
    assert page.url.endswith("/admin/ops/dashboard/")

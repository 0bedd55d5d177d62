"""A finance clerk in a real browser, against a live server wired to the GP and BILL sandboxes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

VOUCHER = "00000000000000306"  # CONTOSO0001's invoice; its only account is 000-6100-00
VENDOR = "CONTOSO0001"  # BILL has "Contoso Ltd." too: a suggestion with its reasons
BILL_NAME = "Contoso Ltd."


@pytest.fixture
def first_sync(tenant: Any, gp_connection: Any, bill_connection: Any) -> Any:
    """What the scheduled sync leaves: vendors suggested, bills blocked on their mappings."""
    from connectors.sync.runner import run_gp_to_bill
    from mappings.models import GLAccountMapping

    run_gp_to_bill(tenant, full=True)
    # The GL account is settled already, so the bill waits on the vendor alone.
    GLAccountMapping.objects.filter(tenant=tenant, gp_account="000-6100-00").update(state="approved")
    return tenant


def ledger_row(tenant: Any, voucher: str) -> Any:
    from audit.models import SyncRecord

    return SyncRecord.objects.get(tenant=tenant, kind="bill", source_key=voucher)


def test_it_lets_finance_approve_a_vendor_suggestion_and_the_blocked_bill_goes_to_bill(
    page, live_server, frank, first_sync, inline_tasks, bill_client
):
    assert ledger_row(first_sync, VOUCHER).state == "blocked"
    sign_in(page, live_server, "frank")
    page.click("text=Needs attention")
    row = page.locator("tr", has_text=f"GP {VOUCHER}").first
    assert "Waiting for a mapping" in row.inner_text()
    row.locator(f"text=Map GP vendor {VENDOR}").click()

    review = page.locator("#ml-review")
    assert BILL_NAME in review.inner_text()
    assert re.search(r"same name|similar name|same tax ID|same e-mail", review.inner_text(), re.IGNORECASE)
    page.locator("#ml-approve-link").click()  # GP and BILL side by side below the suggestions
    assert "Records that waited for it are being sent" in page.locator(".messagelist").inner_text()

    record = ledger_row(first_sync, VOUCHER)
    page.goto(f"{live_server.url}/admin/audit/syncrecord/{record.pk}/change/")
    assert "Synced" in page.locator(".ml-badge").first.inner_text()
    assert record.target_id and record.target_id in page.content()
    bill = bill_client.get_bill(record.target_id)
    assert VOUCHER in bill.description


def test_it_lets_finance_replay_a_failed_record_and_see_it_succeed(
    page, live_server, frank, first_sync, bill_client, inline_tasks
):
    from audit.ledger import settle
    from mappings.models import VendorMapping

    VendorMapping.objects.filter(tenant=first_sync, gp_vendor_id=VENDOR).update(state="approved")
    failed = settle(
        ledger_row(first_sync, VOUCHER),
        "failed",
        reason="BILL did not take the bill: 503 Service Unavailable",
        fix="It is retried automatically; Replay to retry now.",
    )
    sign_in(page, live_server, "frank")
    page.goto(f"{live_server.url}/admin/audit/attentionrecord/?cause=error")
    row = page.locator("tr", has_text="503 Service Unavailable")
    row.locator("button", has_text="Replay").click()  # a job: its page says where the record ended
    assert "1 record: 1 synced." in page.locator("#ml-job-result").inner_text()
    failed.refresh_from_db()
    assert failed.state == "synced"
    page.goto(f"{live_server.url}/admin/audit/syncrecord/{failed.pk}/change/")
    trail = page.locator("#ml-trail").inner_text()
    assert "Replay" in trail and "Created" in trail and "frank" in trail
    assert bill_client.get_bill(failed.target_id).invoice_number


def test_it_shows_the_message_for_the_one_bad_row_of_an_imported_mapping_csv(
    page, live_server, frank, first_sync, bill_client
):
    bill_vendor = next(v for v in bill_client.iter_vendors() if v.name == BILL_NAME)
    csv = (
        "tenant,gp_vendor_id,gp_name,action,bill_vendor_id,bill_name,state,note\n"
        f"northwind,{VENDOR},,link,{bill_vendor.id},,approved,\n"
        "northwind,GHOST0001,,create,,,approved,\n"
    )
    sign_in(page, live_server, "frank")
    page.goto(f"{live_server.url}/admin/mappings/vendormapping/import/")
    page.set_input_files(
        "#id_import_file", files=[{"name": "vendors.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.select_option("#id_format", label="csv")
    page.click("input[type=submit]")
    content = page.inner_text("#content")
    assert "Unknown GP vendor 'GHOST0001'." in content
    assert content.count("Unknown") == 1  # one message, on the bad line (3: the header is line 1)
    bad = page.inner_text("#ml-line-3")
    assert "Not imported" in bad and "GHOST0001" in bad
    assert "Not imported" not in page.inner_text("#ml-line-2") and VENDOR in page.inner_text("#ml-line-2")
    assert page.locator("text=Confirm import").count() == 0


def test_it_keeps_finance_out_of_connection_settings(page, live_server, frank, tenant):
    sign_in(page, live_server, "frank")
    assert "GP connections" not in page.inner_text("#content-main")
    response = page.goto(f"{live_server.url}/admin/connectors/gpconnection/")
    assert response.status == 403

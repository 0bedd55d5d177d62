"""A finance clerk approves a vendor match in a real browser, choosing per field which side wins.

Screenshots go to var/screens/ (vendor-match-*.png) so a person can look at the screens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parents[2] / "var" / "screens"
VENDOR = "CONTOSO0001"


@pytest.fixture
def suggested(tenant: Any, gp_connection: Any, bill_connection: Any) -> Any:
    from connectors.sync.runner import run_gp_to_bill

    run_gp_to_bill(tenant, full=True)
    return tenant


def shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"vendor-match-{name}.png"), full_page=True)


def no_horizontal_overflow(page: Any) -> None:
    for width in (1280, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow}px wider than the window at {width}px"


def test_a_clerk_approves_the_contoso_match_keeping_gp_s_e_mail_in_bill_after_confirming_it(
    page, live_server, frank, suggested, inline_tasks, bill_client, gp_client
):
    from audit.models import SyncRecord
    from mappings.models import VendorMapping

    mapping = VendorMapping.objects.get(tenant=suggested, gp_vendor_id=VENDOR)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, "frank")
    page.click("text=Vendor mappings")
    page.click(f"text={VENDOR}")
    assert page.locator("h1").inner_text() == "Review vendor match"
    assert page.locator("input[name=_addanother]").count() == 0
    compare = page.locator("#ml-compare")
    assert "Evidence they are one vendor: Same name" in compare.inner_text()
    assert "Differs: name, e-mail, phone, remit address, tax ID." in compare.inner_text()
    assert "%" not in page.locator("#ml-review").inner_text()
    effects = page.locator("#ml-effects")
    assert "In BILL: nothing changes." in effects.inner_text()
    no_horizontal_overflow(page)
    shot(page, "review")

    row = compare.locator("tr[data-field=email]")
    assert "ap@contoso.example" in row.inner_text() and "billing@contoso.example" in row.inner_text()
    row.locator("input[value=gp]").check()
    assert "In BILL: e-mail becomes ap@contoso.example." in effects.inner_text()
    assert "In GP: nothing changes." in effects.inner_text()
    page.click("#ml-approve-link")
    assert "tick “I confirm” next to it. Nothing was approved." in page.locator(".messagelist").inner_text()
    mapping.refresh_from_db()
    assert mapping.state == "suggested"

    row = page.locator("#ml-compare tr[data-field=email]")
    row.locator("input[value=gp]").check()
    row.locator("input[name=confirm]").check()
    shot(page, "choices")
    page.click("#ml-approve-link")
    said = page.locator(".messagelist").inner_text()
    assert "In BILL: e-mail becomes ap@contoso.example. In GP: nothing changes." in said
    shot(page, "approved")

    bill = bill_client.get_vendor(mapping.bill_vendor_id)
    assert (bill.email, bill.name, bill.address.city) == ("ap@contoso.example", "Contoso Ltd.", "Redmond")
    assert gp_client.get_vendor(VENDOR).tax_id == ""
    history = page.locator("#ml-history").inner_text()
    assert (
        "frank changed the BILL vendor record" in history
        and "billing@contoso.example → ap@contoso.example" in history
    )

    record = SyncRecord.objects.get(tenant=suggested, kind="vendor", source_key=VENDOR)
    page.goto(f"{live_server.url}/admin/audit/syncrecord/{record.pk}/change/")
    changes = page.locator("#ml-vendor-changes").inner_text()
    assert "billing@contoso.example" in changes and "ap@contoso.example" in changes and "frank" in changes
    assert "{'" not in page.locator("#content").inner_text().split("Trail (every attempt")[0]
    no_horizontal_overflow(page)
    shot(page, "record")

    page.goto(f"{live_server.url}/admin/mappings/mappingchange/")
    assert "BILL vendor record" in page.locator("#result_list").inner_text()
    shot(page, "mapping-changes")


def test_the_review_page_warns_that_the_bill_vendor_of_a_held_gp_vendor_will_be_archived(
    page, live_server, frank, suggested
):
    from mappings.models import VendorMapping

    mapping = VendorMapping.objects.get(tenant=suggested, gp_vendor_id="ADVANCED0001")
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, "frank")
    page.goto(f"{live_server.url}/admin/mappings/vendormapping/{mapping.pk}/change/")
    assert (
        "The BILL vendor will be archived: the GP vendor is on hold."
        in page.locator("#ml-effect-archive").inner_text()
    )
    shot(page, "on-hold")


def test_freight_in_is_not_offered_as_professional_fees(page, live_server, frank, suggested):
    from connectors.sync.context import SyncContext
    from connectors.sync.suggest import ensure_account_suggestions
    from mappings.models import GLAccountMapping

    ensure_account_suggestions(SyncContext.for_tenant(suggested), ["000-6500-00"])
    mapping = GLAccountMapping.objects.get(tenant=suggested, gp_account="000-6500-00")
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, "frank")
    page.goto(f"{live_server.url}/admin/mappings/glaccountmapping/{mapping.pk}/change/")
    assert page.locator("h1").inner_text() == "Review GL account match"
    review = page.locator("#ml-review").inner_text()
    assert "Professional Fees" not in review and "%" not in review
    assert "No BILL record looks like this one." in review
    assert page.locator("input[name=_addanother]").count() == 0
    shot(page, "gl-account")

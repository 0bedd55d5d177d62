"""The admin under the Content-Security-Policy in a real browser: nothing blocked, scripts still run."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CSP_SCREENSHOTS", "")  # a folder: keep a screenshot of each page there


@pytest.fixture
def world(tenant):
    from audit.models import Job, SyncRecord
    from mappings.models import Suggestion, VendorMapping

    record = SyncRecord.objects.create(
        tenant=tenant,
        kind="bill",
        source_key="V1",
        state="failed",
        reason="The GP vendor is not mapped.",
        label="ACME invoice 1",
    )
    mapping = VendorMapping.objects.create(tenant=tenant, gp_vendor_id="ACME0001", gp_name="Acme")
    Suggestion.objects.create(
        tenant=tenant,
        kind="vendor",
        gp_key="ACME0001",
        bill_id="00902ACME00000001",
        bill_name="ACME Supply",
        score="0.9",
        reasons="same tax ID",
    )
    job = Job.objects.create(tenant=tenant, kind=Job.REPLAY, state=Job.RUNNING, total=4, done=1)
    return {"record": record, "mapping": mapping, "job": job}


def test_the_admin_renders_with_nothing_blocked(page: Any, live_server, alice, world):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.log('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    sign_in(page, live_server, "alice")
    pages = {
        "index": "/admin/",
        "dashboard": "/admin/ops/dashboard/",
        "job": f"/admin/ops/jobs/{world['job'].pk}/",
        "record": f"/admin/audit/syncrecord/{world['record'].pk}/change/",
        "attention": "/admin/audit/attentionrecord/",
        "mappings": "/admin/mappings/vendormapping/?review=all",
        "review": f"/admin/mappings/vendormapping/{world['mapping'].pk}/change/",
        "import": "/admin/mappings/vendormapping/import/",
        "export": "/admin/mappings/vendormapping/export/",
        "bill-connection-add": "/admin/connectors/billconnection/add/",
    }
    for name, path in pages.items():
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        assert page.locator("#header").is_visible(), name
        # The admin's stylesheet applied (not blocked): the header has the admin's colours.
        assert (
            page.evaluate("getComputedStyle(document.querySelector('#header')).backgroundColor")
            != "rgba(0, 0, 0, 0)"
        )
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)
    # Our stylesheet too: a state badge is drawn as a badge.
    page.goto(live_server.url + "/admin/audit/attentionrecord/")
    assert page.evaluate("getComputedStyle(document.querySelector('.ml-badge')).borderRadius") == "10px"
    # The admin's scripts run: "select all" ticks every row of the changelist.
    page.goto(live_server.url + "/admin/mappings/vendormapping/?review=all")
    page.check("#action-toggle")
    assert page.locator("input.action-select").first.is_checked()
    # The export page's "Select all" box clears and ticks every column, from a static script.
    page.goto(live_server.url + "/admin/mappings/vendormapping/export/")
    columns = page.locator('.selectable-field-export-row input[type="checkbox"]:not(#select-all-toggle)')
    page.uncheck("#select-all-toggle")
    assert not any(columns.nth(i).is_checked() for i in range(columns.count()))
    page.check("#select-all-toggle")
    assert all(columns.nth(i).is_checked() for i in range(columns.count()))
    assert violations == []

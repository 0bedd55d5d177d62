"""A connector admin opens the fit check from the GP connection list and reads it in a real browser."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import sign_in
from tests.fixtures_bill import wire_bill_connection
from tests.fixtures_gp import wire_gp_connection

pytestmark = pytest.mark.browser


def test_the_fit_check_page_reads_both_systems_and_shows_ready_vs_waiting(
    page: Any,
    live_server: Any,
    alice: Any,
    tenant: Any,
    gp_sandbox: Any,
    bill_sandbox_factory: Any,
    tmp_path: Path,
) -> None:
    gp_sandbox.reset("demo")
    wire_gp_connection(tenant, gp_sandbox)
    wire_bill_connection(tenant, bill_sandbox_factory(seed="demo"))
    gp_sandbox.set_variant(vendor_status="IsActive")
    gp_sandbox.reset_stats()
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/admin/connectors/gpconnection/")
    page.click("text=Fit check (read only)")
    page.click("input[value='Run the fit check']")
    page.wait_for_selector(".fit-banner")
    text = page.inner_text("#content")
    assert "Not ready yet" in text and "IsActive" in text
    assert "Ready for BILL" in text and "Approved unpaid invoices" in text and "Calls left this hour" in text
    assert page.locator(".fit-bar div").count() >= 2
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    page.screenshot(path=str(shots / "fit_check.png"), full_page=True)
    written = [k for k in gp_sandbox.stats()["requests"]["by_path"] if not k.startswith("GET")]
    assert written == []

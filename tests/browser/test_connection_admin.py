"""A connector admin sets up the GP connection in a real browser and tests it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def run_test_connection(page: Any) -> str:
    page.locator("input[name=_selected_action]").first.check()
    page.select_option("select[name=action]", "test_gp_connection")
    page.click("button[name=index]")
    return page.locator(".messagelist").inner_text()


def test_it_lets_an_admin_create_a_connection_and_test_it_with_a_wrong_then_the_right_password(
    page, live_server, alice, tenant, gp_sandbox
):
    from connectors.models import GPConnection

    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/admin/connectors/gpconnection/add/")
    page.select_option("#id_tenant", label=tenant.name)
    page.fill("#id_base_url", gp_sandbox.url)
    page.fill("#id_gp_tenant", gp_sandbox.tenant)
    page.fill("#id_company", gp_sandbox.company)
    page.fill("#id_domain", gp_sandbox.domain)
    page.fill("#id_username", gp_sandbox.user)
    page.fill("#id_password", "not-the-password")
    page.fill("#id_timeout_seconds", "5")
    page.click("input[name=_save]")
    assert "was added successfully" in page.locator(".messagelist").inner_text()

    message = run_test_connection(page)
    assert "GP answered" not in message
    assert tenant.name in message

    conn = GPConnection.objects.get(tenant=tenant)
    page.goto(f"{live_server.url}/admin/connectors/gpconnection/{conn.pk}/change/")
    assert "not-the-password" not in page.content()
    page.fill("#id_password", gp_sandbox.password)
    page.click("input[name=_save]")
    message = run_test_connection(page)
    assert f"GP answered for company '{gp_sandbox.company}'" in message

"""Stage or production: a new BILL connection talks to BILL's production gateway unless the admin
chooses stage (BILL's developer sandbox) or types another address, on the connection page."""

from __future__ import annotations

from connectors.models import BillConnection

FORM = {
    "organization_id": "00802ACMEORG00000001",
    "username": "ap@acme.example",
    "password": "pw",
    "dev_key": "dk",
    "timeout_seconds": "60",
    "webhook_subscription_id": "",
}


def _save(client, tenant, **fields) -> BillConnection:
    answer = client.post("/admin/connectors/billconnection/add/", {"tenant": tenant.pk, **FORM, **fields})
    assert answer.status_code == 302, answer.content.decode()[:3000]
    return BillConnection.objects.get(tenant=tenant)


def test_the_connection_page_offers_production_first_and_stage_as_a_choice(as_alice, tenant):
    page = as_alice.get("/admin/connectors/billconnection/add/").content.decode()
    assert '<option value="production" selected>Production (gateway.prod.bill.com)</option>' in page
    assert "Stage, BILL&#x27;s developer sandbox (gateway.stage.bill.com)" in page


def test_production_is_bills_production_gateway(as_alice, tenant):
    conn = _save(as_alice, tenant, environment="production", api_base_url="", webhook_api_base_url="")
    assert (conn.api_base_url, conn.webhook_api_base_url) == (
        "https://gateway.prod.bill.com/connect",
        "https://gateway.prod.bill.com/connect-events",
    )
    assert BillConnection(tenant=tenant).api_base_url == "https://gateway.prod.bill.com/connect"


def test_stage_is_chosen_on_the_page_and_overrides_any_typed_address(as_alice, tenant):
    conn = _save(
        as_alice,
        tenant,
        environment="stage",
        api_base_url="https://elsewhere.example/connect",
        webhook_api_base_url="",
    )
    assert conn.environment == "stage"
    assert (conn.api_base_url, conn.webhook_api_base_url) == (
        "https://gateway.stage.bill.com/connect",
        "https://gateway.stage.bill.com/connect-events",
    )


def test_another_address_needs_both_urls(as_alice, tenant):
    answer = as_alice.post(
        "/admin/connectors/billconnection/add/",
        {
            "tenant": tenant.pk,
            **FORM,
            "environment": "other",
            "api_base_url": "http://127.0.0.1:8702/connect",
            "webhook_api_base_url": "",
        },
    )
    assert (
        answer.status_code == 200
        and "enter both the API and the webhook API base URLs" in answer.content.decode()
    )
    conn = _save(
        as_alice,
        tenant,
        environment="other",
        api_base_url="http://127.0.0.1:8702/connect",
        webhook_api_base_url="http://127.0.0.1:8702/connect-events",
    )
    assert conn.environment == "other" and conn.api_base_url == "http://127.0.0.1:8702/connect"

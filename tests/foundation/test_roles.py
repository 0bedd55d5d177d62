"""Finance staff never reach connection settings; connector admins do."""

from __future__ import annotations

import pytest

from connectors.models import BillConnection, GPConnection

CONNECTION_URLS = [
    "/admin/connectors/gpconnection/",
    "/admin/connectors/gpconnection/add/",
    "/admin/connectors/gpconnection/{gp}/change/",
    "/admin/connectors/gpconnection/{gp}/delete/",
    "/admin/connectors/gpconnection/{gp}/history/",
    "/admin/connectors/billconnection/",
    "/admin/connectors/billconnection/add/",
    "/admin/connectors/billconnection/{bill}/change/",
    "/admin/connectors/billconnection/{bill}/delete/",
    "/admin/connectors/billconnection/{bill}/history/",
]


@pytest.fixture
def conns(tenant):
    gp = GPConnection.objects.create(
        tenant=tenant, base_url="https://gp.local", company="C", domain="D", username="u", password="p"
    )
    bill = BillConnection.objects.create(
        tenant=tenant, organization_id="008X", username="a@b.c", password="p", dev_key="k"
    )
    return {"gp": gp.pk, "bill": bill.pk}


@pytest.mark.parametrize("url", CONNECTION_URLS)
def test_it_forbids_finance_staff_every_connection_page(client, frank, conns, url):
    client.force_login(frank)
    assert client.get(url.format(**conns)).status_code == 403


@pytest.mark.parametrize("url", CONNECTION_URLS)
def test_it_lets_connector_admins_open_every_connection_page(client, alice, conns, url):
    client.force_login(alice)
    assert client.get(url.format(**conns)).status_code == 200


def test_it_hides_connections_from_the_finance_index(client, frank, conns):
    client.force_login(frank)
    page = client.get("/admin/").content.decode()
    assert "GP connections" not in page and "BILL connections" not in page


def test_it_sends_anonymous_visitors_to_the_login_page(client, conns):
    response = client.get("/admin/connectors/gpconnection/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]

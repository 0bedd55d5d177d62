"""Who may open what: finance works the records and mappings, never the connections."""

from __future__ import annotations

import pytest

from connectors.models import GPConnection


@pytest.mark.parametrize(
    "url",
    [
        "/admin/audit/attentionrecord/",
        "/admin/audit/syncrecord/",
        "/admin/mappings/vendormapping/",
        "/admin/mappings/glaccountmapping/",
        "/admin/mappings/checkbookmapping/",
        "/admin/mappings/mappingchange/",
        "/admin/mappings/vendormapping/import/",
        "/admin/mappings/vendormapping/export/",
        "/admin/ops/dashboard/",
        "/admin/audit/job/",
    ],
)
def test_it_lets_finance_staff_work(as_frank, tenant, url):
    assert as_frank.get(url).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/admin/connectors/gpconnection/",
        "/admin/connectors/billconnection/",
        "/admin/connectors/gpconnection/add/",
    ],
)
def test_it_keeps_finance_staff_out_of_connection_settings(as_frank, tenant, url):
    assert as_frank.get(url).status_code == 403


def test_it_shows_no_connection_link_or_secret_to_finance(as_frank, tenant):
    GPConnection.objects.create(
        tenant=tenant,
        base_url="https://gp.example",
        company="Fabrikam",
        domain="CORP",
        username="svc",
        password="Winter-2026-secret",
    )
    for url in ("/admin/", "/admin/ops/dashboard/"):
        page = as_frank.get(url).content.decode()
        assert "Winter-2026-secret" not in page
        assert "/admin/connectors/gpconnection/" not in page


@pytest.mark.parametrize(
    "url", ["/admin/ops/dashboard/", "/admin/ops/jobs/1/", "/admin/mappings/vendormapping/"]
)
def test_it_sends_anonymous_visitors_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_it_refuses_a_post_without_the_csrf_token(frank, tenant):
    from django.test import Client

    from tests.admin.conftest import record
    from tests.cast import CAST_PASSWORD

    strict = Client(enforce_csrf_checks=True)
    strict.login(username="frank", password=CAST_PASSWORD)
    rec = record(tenant, "C1", "failed")
    assert strict.post(f"/admin/audit/syncrecord/{rec.pk}/dont-sync/", {"reason": "x"}).status_code == 403
    assert strict.post("/admin/ops/dashboard/northwind/start/preview/").status_code == 403

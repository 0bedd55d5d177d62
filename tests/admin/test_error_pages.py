"""What a clerk sees when a page is missing, forbidden or broken (DEBUG off, as in production)."""

from __future__ import annotations

import pytest
from django.test import Client

RAW = ("Traceback", "DEBUG = True", "Page not found (404)</title>", "Request Method")


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False


def test_a_missing_page_says_so_in_the_admin_look_and_links_back(as_frank):
    response = as_frank.get("/admin/ops/jobs/999999/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page and "Nothing was changed in GP or BILL." in page
    assert 'href="/admin/ops/dashboard/"' in page and 'id="ml-error"' in page
    assert "ml-connector — Dynamics GP ⇄ BILL" in page  # the admin header, not a bare page
    assert not [raw for raw in RAW if raw in page]


def test_a_forbidden_page_says_why_and_what_to_do(as_frank):
    response = as_frank.get("/admin/connectors/gpconnection/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "You do not have access to this page" in page and "ask a connector admin" in page
    assert 'href="/admin/ops/dashboard/"' in page


def test_a_server_error_apologises_in_plain_words(frank, tenant, monkeypatch):
    from audit import status

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(status, "tenant_status", broken)
    client = Client(raise_request_exception=False)
    client.force_login(frank)
    response = client.get("/admin/ops/dashboard/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page and "trying again is safe" in page
    assert "boom" not in page and "Traceback" not in page


def test_view_site_goes_to_the_dashboard(as_frank):
    page = as_frank.get("/admin/").content.decode()
    assert '<a href="/admin/ops/dashboard/">View site</a>' in page

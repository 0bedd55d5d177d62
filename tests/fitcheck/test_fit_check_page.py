"""The fit check page: Connector admins only; the report, its JSON and CSV; a proposal saved for
confirming."""

from __future__ import annotations

import pytest
from django.test import Client

from connectors.models import GPResourceOverride
from tests.cast import CAST_PASSWORD


def _as(user: str) -> Client:
    client = Client()
    assert client.login(username=user, password=CAST_PASSWORD)
    return client


@pytest.fixture
def url(wired):
    return f"/admin/connectors/tenant/{wired.pk}/fit-check/"


def test_a_connector_admin_runs_it_and_reads_gp_bill_and_the_plan(wired, alice, url, gp_sandbox):
    page = _as("alice").get(url + "?run=1").content.decode()
    assert "These systems fit" in page
    assert "Approved unpaid invoices" in page and "Calls left this hour" in page and "Bills to create" in page
    assert "Ready for BILL" in page  # the chart
    assert "PATCH Purchasing/Vendors" not in gp_sandbox.stats()["requests"]["by_path"]
    as_json = _as("alice").get(url + "?run=1&format=json").json()
    assert as_json["gp"]["counts"]["vendors"] == 8
    csv = _as("alice").get(url + "?run=1&format=csv")
    assert csv["Content-Type"].startswith("text/csv") and csv.content.decode().startswith(
        "area,severity,subject"
    )


def test_finance_staff_are_refused(wired, frank, url):
    assert _as("frank").get(url + "?run=1").status_code == 403


def test_the_proposal_is_saved_for_a_connector_admin_to_confirm(wired, alice, url, gp_sandbox):
    gp_sandbox.set_variant(vendor_status="IsActive")
    client = _as("alice")
    page = client.get(url + "?run=1").content.decode()
    assert "Not ready yet" in page and "vendor_status_field" in page
    answer = client.post(url, {"values": '{"vendor_status_field": "IsActive"}'})
    override = GPResourceOverride.objects.get()
    assert answer.status_code == 302 and override.confirmed_at is None and override.proposed_by == alice
    assert override.values == {"vendor_status_field": "IsActive"}


def test_a_web_services_connection_is_shown_read_through_web_services(
    wired, alice, url, gp_sandbox, gp_ws_sandbox
):
    from tests.fixtures_gp_ws import wire_gp_interface

    wire_gp_interface(wired, gp_sandbox, gp_ws_sandbox, "web_services")
    page = _as("alice").get(url + "?run=1").content.decode()
    assert "Read through</th><td>GP Web Services" in page and "Operations missing from the WSDL" in page
    assert "Payments cannot be written back over GP Web Services" in page

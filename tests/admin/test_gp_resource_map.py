"""GP resource map overrides: proposed, confirmed by a Connector admin, versioned, never edited after."""

from __future__ import annotations

import pytest

from connectors.models import GPConnection, GPResourceOverride

URL = "/admin/connectors/gpresourceoverride/"


@pytest.fixture
def gp_conn(tenant):
    return GPConnection.objects.create(
        tenant=tenant,
        base_url="https://gp.example",
        company="Fabrikam",
        domain="CORP",
        username="svc",
        password="pw",
    )


def test_a_connector_admin_proposes_then_confirms_and_only_then_the_client_uses_it(as_alice, alice, gp_conn):
    answer = as_alice.post(
        URL + "add/",
        {
            "connection": gp_conn.pk,
            "values": '{"vendor_status_field": "IsActive"}',
            "reason": "GP sends IsActive",
        },
    )
    assert answer.status_code == 302
    proposed = GPResourceOverride.objects.get()
    assert proposed.version == 1 and proposed.proposed_by == alice and proposed.confirmed_at is None
    assert gp_conn.resource_shape().vendor_status_field == "Status"  # not in force yet
    as_alice.post(URL, {"action": "confirm", "_selected_action": [proposed.pk]})
    proposed.refresh_from_db()
    assert proposed.confirmed_by == alice and proposed.confirmed_at is not None
    assert gp_conn.resource_shape().vendor_status_field == "IsActive"
    # A confirmed version is history: it cannot be changed or deleted, only followed by a new one.
    assert (
        as_alice.post(URL + f"{proposed.pk}/change/", {"connection": gp_conn.pk, "values": "{}"}).status_code
        == 403
    )
    assert as_alice.post(URL + f"{proposed.pk}/delete/", {"post": "yes"}).status_code == 403


def test_a_setting_the_client_cannot_use_is_refused_with_the_reason(as_alice, gp_conn):
    page = as_alice.post(URL + "add/", {"connection": gp_conn.pk, "values": '{"modified_precision": "hour"}'})
    assert page.status_code == 200 and "modified_precision is" in page.content.decode()
    assert not GPResourceOverride.objects.exists()


def test_finance_staff_cannot_see_or_confirm_overrides(as_frank, gp_conn):
    override = GPResourceOverride.objects.create(connection=gp_conn, values={"envelope": ""})
    assert as_frank.get(URL).status_code == 403
    as_frank.post(URL, {"action": "confirm", "_selected_action": [override.pk]})
    override.refresh_from_db()
    assert override.confirmed_at is None

"""The admin's "Test connection" says in one sentence what is wrong with a GP connection."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from connectors.gp.client import diagnose
from tests.fixtures_gp import GP_UNMAPPED_ACCOUNT, GP_UNMAPPED_PASSWORD, wire_gp_connection


def test_it_passes_when_gp_answers(gp_connection):
    assert diagnose(gp_connection) is None


@pytest.mark.parametrize(
    "overrides, sentence",
    [
        (
            {"password": "wrong"},
            "GP refused the password for CORP\\svc-gp: check the domain, user name and password.",
        ),
        (
            {"username": GP_UNMAPPED_ACCOUNT.split("\\")[1], "password": GP_UNMAPPED_PASSWORD},
            "The Windows account CORP\\unmapped signs in, but is not mapped to a GP user with access to "
            "company 'Fabrikam, Inc.'.",
        ),
        (
            {"company": "Fabrikam Inc"},
            "GP has no company named 'Fabrikam Inc': enter the display name exactly as GP shows it.",
        ),
        (
            {"base_url": "http://127.0.0.1:9"},
            "The GP server at 127.0.0.1:9 cannot be reached: check the URL, port and firewall.",
        ),
    ],
)
def test_it_names_the_problem(tenant, gp_sandbox, overrides, sentence):
    assert diagnose(wire_gp_connection(tenant, gp_sandbox, **overrides)) == sentence


def test_it_says_when_gp_is_too_slow(tenant, gp_sandbox):
    gp_sandbox.set_faults("timeout", path_contains="Vendors", timeout_seconds=3)
    conn = wire_gp_connection(tenant, gp_sandbox, timeout_seconds=1)
    assert diagnose(conn) == (
        f"The GP server at {gp_sandbox.url.split('//')[1]} did not answer within 1 seconds: "
        "it may be starting up, so try again or raise the timeout."
    )


def test_the_admin_action_reports_the_sentence(client, alice, tenant, gp_sandbox):
    conn = wire_gp_connection(tenant, gp_sandbox, password="S3cret-Wr0ng!")
    client.force_login(alice)
    response = client.post(
        "/admin/connectors/gpconnection/",
        {"action": "test_gp_connection", "_selected_action": [conn.pk]},
        follow=True,
    )
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts == [
        f"{tenant}: GP refused the password for CORP\\svc-gp: check the domain, user name and password."
    ]
    assert "S3cret-Wr0ng!" not in response.content.decode()

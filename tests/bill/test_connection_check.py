"""The admin's "Test connection": one plain sentence per kind of failure."""

from __future__ import annotations

import socket

import pytest
from django.contrib.admin.sites import AdminSite
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from connectors.admin import BillConnectionAdmin
from connectors.bill.client import BillClient
from connectors.models import BillConnection
from tests.fixtures_bill import fast_backoff


def _check(conn) -> str | None:
    return BillClient.for_connection(conn, backoff=fast_backoff()).test_connection()


def test_a_good_connection_passes(bill_connection):
    assert _check(bill_connection) is None


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("password", "not-it", "did not accept the user name, password or organization ID"),
        ("dev_key", "not-it", "did not accept the developer key"),
        (
            "organization_id",
            "00802NOTTHISORG00001",
            "did not accept the user name, password or organization ID",
        ),
        ("organization_id", "12345", "does not look like a BILL organization ID"),
    ],
)
def test_a_wrong_setting_is_named_in_one_sentence(bill_connection, field, value, expected):
    setattr(bill_connection, field, value)
    bill_connection.save()
    problem = _check(bill_connection)
    assert expected in problem and problem.count(". ") == 0 and "not-it" not in problem


def test_an_unreachable_server_is_said_plainly(bill_connection):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bill_connection.api_base_url = f"http://127.0.0.1:{port}/connect"
    bill_connection.save()
    assert _check(bill_connection).startswith("Could not reach BILL at 127.0.0.1:")


def test_the_admin_action_reports_each_connection(bill_connection, alice):
    request = RequestFactory().post("/")
    request.user = alice
    request.session = {}
    request._messages = FallbackStorage(request)
    BillConnectionAdmin(BillConnection, AdminSite()).test_connection(request, BillConnection.objects.all())
    [message] = list(get_messages(request))
    assert "signed in to BILL org" in str(message)

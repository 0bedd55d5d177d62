"""The shared BILL session: cached encrypted, renewed once on expiry, never looped on bad credentials."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection

from connectors.bill.client import BillClient
from connectors.models import BillConnection
from tests.fixtures_bill import fast_backoff


def test_the_session_is_stored_encrypted_with_its_last_use(bill_client, bill_connection):
    bill_client.session_info()
    bill_connection.refresh_from_db()
    assert bill_connection.session_id and bill_connection.session_last_used_at
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_id FROM connectors_billconnection WHERE id = %s", [bill_connection.pk])
        stored = cursor.fetchone()[0]
    assert bill_connection.session_id.encode() not in bytes(
        stored if isinstance(stored, bytes | memoryview) else stored.encode()
    )


def test_a_second_client_reuses_the_stored_session(bill_client, bill_connection, bill_sandbox):
    bill_client.session_info()
    other = BillClient.for_connection(
        BillConnection.objects.get(pk=bill_connection.pk), backoff=fast_backoff()
    )
    other.session_info()
    assert bill_sandbox.stats()["logins"] == 1


def test_an_expired_session_is_renewed_once_and_the_call_repeated(bill_client, bill_connection, bill_sandbox):
    bill_client.session_info()
    other = BillClient.for_connection(
        BillConnection.objects.get(pk=bill_connection.pk), backoff=fast_backoff()
    )
    other.session_info()
    bill_sandbox.expire_sessions()
    bill_client.session_info()  # sees 401, logs in
    other.session_info()  # sees 401 with the old session, adopts the renewed one
    assert bill_sandbox.stats()["logins"] == 2
    assert bill_sandbox.stats()["requests"]["by_path"]["GET /connect/v3/login/session"]["401"] == 2


def test_a_session_idle_for_thirty_minutes_is_renewed_before_use(bill_client, bill_connection, bill_sandbox):
    bill_client.session_info()
    BillConnection.objects.filter(pk=bill_connection.pk).update(
        session_last_used_at=bill_connection.tenant.created_at - timedelta(hours=1)
    )
    fresh = BillClient.for_connection(
        BillConnection.objects.get(pk=bill_connection.pk), backoff=fast_backoff()
    )
    fresh.session_info()
    assert bill_sandbox.stats()["logins"] == 2
    assert "401" not in bill_sandbox.stats()["requests"]["by_path"]["GET /connect/v3/login/session"]


def test_wrong_credentials_fail_fast_with_a_clear_message_and_no_login_loop(bill_connection, bill_sandbox):
    from connectors.bill.http import BillError

    bill_connection.password = "wrong"
    bill_connection.save()
    client = BillClient.for_connection(bill_connection, backoff=fast_backoff())
    errors = []
    for _ in range(2):
        try:
            client.session_info()
        except BillError as exc:
            errors.append(exc)
    assert errors[0].code == "BDC_1101" and not errors[0].retryable
    assert "user name, password or organization ID" in errors[0].message and "wrong" not in errors[0].message
    # The second call inside the sign-in cool-down does not try again, and says why in the same words.
    assert errors[1].code == "LOGIN_COOLDOWN" and not errors[1].retryable
    assert "user name, password or organization ID" in errors[1].message
    assert bill_sandbox.stats()["login_failures"] == {"BDC_1101": 1}  # one try, not one per call
    assert bill_sandbox.stats()["requests"]["by_path"].keys() == {"POST /connect/v3/login"}

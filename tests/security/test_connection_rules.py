"""Connection addresses and the secrets bound to them (README › Security).

A connector admin who may edit a connection but was never shown its secrets must not be able to
send them somewhere else: changing where a connection points (or whose account it is) asks for the
password and developer key again. Addresses are https only (plain http only where the sandbox
setting allows it), carry no user name, never point at link-local or cloud-metadata addresses, and
BILL's are BILL's own gateways.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.forms.models import model_to_dict

from tests.fixtures_bill import wire_bill_connection
from tests.fixtures_gp import wire_gp_connection

BILL_FORM_FIELDS = (
    "tenant",
    "environment",
    "api_base_url",
    "webhook_api_base_url",
    "organization_id",
    "username",
    "timeout_seconds",
    "webhook_subscription_id",
)
GP_FORM_FIELDS = (
    "tenant",
    "base_url",
    "gp_tenant",
    "company",
    "domain",
    "username",
    "verify_tls",
    "ca_bundle_pem",
    "timeout_seconds",
)


class Listener:
    """An attacker's HTTP server on loopback: records every request it gets, answers 200 {}."""

    def __init__(self) -> None:
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def everything_received(self) -> str:
        return " ".join(f"{m} {p} {h} {b!r}" for m, p, h, b in self.seen)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.stop()


def _form(conn: Any, fields: tuple[str, ...], **changes: Any) -> dict[str, Any]:
    data = {**{k: v for k, v in model_to_dict(conn, fields=fields).items() if v is not None}, **changes}
    return {k: ("on" if v is True else v) for k, v in data.items() if v is not False}


def _save_bill(client, conn, **changes):
    return client.post(
        f"/admin/connectors/billconnection/{conn.pk}/change/", _form(conn, BILL_FORM_FIELDS, **changes)
    )


def _save_gp(client, conn, **changes):
    return client.post(
        f"/admin/connectors/gpconnection/{conn.pk}/change/", _form(conn, GP_FORM_FIELDS, **changes)
    )


def test_pointing_bill_elsewhere_with_the_secrets_left_blank_sends_them_nowhere(
    client, alice, tenant, bill_sandbox, listener
):
    conn = wire_bill_connection(tenant, bill_sandbox)
    password, dev_key = conn.password, conn.dev_key
    client.force_login(alice)
    page = _save_bill(client, conn, api_base_url=listener.url + "/connect", password="", dev_key="")
    assert page.status_code == 200  # the form again, with the reason
    text = page.content.decode()
    assert "The api base url changed: type the password again" in text
    assert "type the developer key again" in text
    conn.refresh_from_db()
    assert conn.api_base_url == bill_sandbox.api_url and conn.password == password and conn.dev_key == dev_key
    client.post(
        "/admin/connectors/billconnection/", {"action": "test_connection", "_selected_action": [conn.pk]}
    )
    assert password not in listener.everything_received() and dev_key not in listener.everything_received()


@pytest.mark.parametrize("field", ["organization_id", "username", "webhook_api_base_url", "environment"])
def test_a_new_bill_identity_asks_for_the_secrets_again(client, alice, tenant, bill_sandbox, field):
    conn = wire_bill_connection(tenant, bill_sandbox)
    client.force_login(alice)
    new = {
        "organization_id": "00802OTHERORG0000001",
        "username": "someone@else.example",
        "webhook_api_base_url": bill_sandbox.events_url + "/",
        "environment": "stage",
    }[field]  # BILL's stage gateway: another address for the same secrets
    page = _save_bill(client, conn, **{field: new})
    assert "type the password again" in page.content.decode()
    conn.refresh_from_db()
    assert getattr(conn, field) != new


def test_retyped_secrets_are_kept_the_old_session_dropped_and_the_change_in_the_history(
    client, alice, tenant, bill_sandbox, bill_client
):
    bill_client.session_info()  # a cached session for the old identity
    conn = type(bill_client.connection).objects.get(pk=bill_client.connection.pk)
    assert conn.session_id
    old_session, password = conn.session_id, conn.password
    client.force_login(alice)
    other = "00802OTHERORG0000001"
    page = _save_bill(
        client, conn, organization_id=other, password="N3w-BILL-pass!", dev_key="newdevkey000001"
    )
    assert page.status_code == 302, page.content.decode()[:2000]
    conn.refresh_from_db()
    assert (conn.organization_id, conn.password, conn.dev_key) == (other, "N3w-BILL-pass!", "newdevkey000001")
    assert conn.session_id is None
    entry = LogEntry.objects.filter(object_id=str(conn.pk)).latest("action_time")
    shown = entry.get_change_message()
    assert entry.user == alice
    assert f"→ '{other}'" in shown and "Password (replaced)" in shown and "session (dropped)" in shown
    history = client.get(f"/admin/connectors/billconnection/{conn.pk}/history/").content.decode()
    assert other in history and "replaced" in history
    for secret in ("N3w-BILL-pass!", "newdevkey000001", password, old_session):
        assert secret not in shown and secret not in history


def test_changing_only_the_timeout_keeps_the_stored_secrets(client, alice, tenant, bill_sandbox):
    conn = wire_bill_connection(tenant, bill_sandbox)
    client.force_login(alice)
    assert _save_bill(client, conn, timeout_seconds=9).status_code == 302
    conn.refresh_from_db()
    assert conn.timeout_seconds == 9 and conn.password == bill_sandbox.credentials.password


@pytest.mark.parametrize("field", ["base_url", "domain", "username", "company", "verify_tls"])
def test_a_new_gp_host_or_account_asks_for_the_password_again(
    client, alice, tenant, gp_sandbox, listener, field
):
    conn = wire_gp_connection(tenant, gp_sandbox)
    client.force_login(alice)
    new = {
        "base_url": listener.url,
        "domain": "EVIL",
        "username": "other",
        "company": "Other, Inc.",
        "verify_tls": False,
    }[field]
    page = _save_gp(client, conn, **{field: new})
    assert "type the password again" in page.content.decode()
    conn.refresh_from_db()
    assert getattr(conn, field) != new
    client.post(
        "/admin/connectors/gpconnection/", {"action": "test_gp_connection", "_selected_action": [conn.pk]}
    )
    assert not listener.seen


# --- addresses ------------------------------------------------------------------------------------

REFUSED = [
    ("http://169.254.169.254/latest/meta-data/", "must start with https://"),
    ("https://169.254.169.254/", "link-local or cloud metadata"),
    ("https://[fe80::1]/", "link-local or cloud metadata"),
    ("https://[::ffff:169.254.169.254]/", "link-local or cloud metadata"),
    ("https://metadata.google.internal/computeMetadata/v1/", "link-local or cloud metadata"),
    ("https://0.0.0.0/", "link-local or cloud metadata"),
    ("ftp://gp.example.com/", "must start with https://"),
    ("http://gp.example.com/", "must start with https://"),
    ("https://gp.example.com@169.254.169.254/", "must not contain a user name"),
    ("https://user:pass@gp.example.com/", "must not contain a user name"),
    ("https://gp.example.com/?next=x", "must not contain"),
]


@pytest.mark.parametrize(("url", "said"), REFUSED)
def test_the_gp_address_is_refused(client, alice, tenant, gp_sandbox, settings, url, said):
    settings.CONNECTION_ALLOW_HTTP = False
    conn = wire_gp_connection(tenant, gp_sandbox, base_url="https://gp.example.com")
    client.force_login(alice)
    page = _save_gp(client, conn, base_url=url, password="pw")
    assert said in page.content.decode().replace("&#x27;", "'"), url
    conn.refresh_from_db()
    assert conn.base_url == "https://gp.example.com"


def test_plain_http_is_accepted_only_with_the_sandbox_setting(client, alice, tenant, gp_sandbox, settings):
    conn = wire_gp_connection(tenant, gp_sandbox, base_url="https://gp.example.com")
    client.force_login(alice)
    settings.CONNECTION_ALLOW_HTTP = False
    assert _save_gp(client, conn, base_url=gp_sandbox.url, password=gp_sandbox.password).status_code == 200
    settings.CONNECTION_ALLOW_HTTP = True
    assert _save_gp(client, conn, base_url=gp_sandbox.url, password=gp_sandbox.password).status_code == 302
    # Even then, never a metadata address.
    page = _save_gp(client, conn, base_url="http://169.254.169.254/", password="pw")
    assert "link-local or cloud metadata" in page.content.decode()


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://gateway.prod.bill.com/connect", True),
        ("https://gateway.stage.bill.com/connect", True),
        ("https://gateway.prod.bill.com.evil.example/connect", False),
        ("https://bill.example.net/connect", False),
        ("https://gateway.prod.bill.com@evil.example/connect", False),
    ],
)
def test_bill_addresses_are_bills_gateways(client, alice, tenant, bill_sandbox, settings, url, accepted):
    settings.CONNECTION_ALLOW_HTTP, settings.BILL_EXTRA_HOSTS = False, []
    conn = wire_bill_connection(
        tenant,
        bill_sandbox,
        api_base_url="https://gateway.stage.bill.com/connect",
        webhook_api_base_url="https://gateway.stage.bill.com/connect-events",
    )
    client.force_login(alice)
    # "Other address" is the one choice that takes a typed URL (production and stage use BILL's own).
    page = _save_bill(client, conn, environment="other", api_base_url=url, password="pw", dev_key="dk")
    assert (page.status_code == 302) is accepted, url
    if not accepted:
        assert "address" in page.content.decode()


def test_a_listed_extra_host_is_allowed_for_bill(client, alice, tenant, bill_sandbox, settings):
    conn = wire_bill_connection(tenant, bill_sandbox, api_base_url="https://gateway.stage.bill.com/connect")
    client.force_login(alice)
    settings.BILL_EXTRA_HOSTS = []
    page = _save_bill(client, conn, api_base_url=bill_sandbox.api_url, password="pw", dev_key="dk")
    assert "one of BILL&#x27;s gateways" in page.content.decode()
    settings.BILL_EXTRA_HOSTS = ["127.0.0.1"]
    page = _save_bill(client, conn, api_base_url=bill_sandbox.api_url, password="pw", dev_key="dk")
    assert page.status_code == 302
    assert [str(m) for m in get_messages(page.wsgi_request)]


def test_an_address_saved_around_the_form_is_refused_when_the_client_is_built(
    tenant, gp_sandbox, bill_sandbox, settings
):
    """A row written by an import, a shell or an older release, or a setting tightened since: the clients
    check the address themselves, so no password leaves for a listener, plain http or a BILL look-alike."""
    from audit.models import SyncRecord
    from connectors.bill.client import BillClient
    from connectors.bill.http import BillError
    from connectors.gp.client import GPClient
    from connectors.gp.http import GPError
    from connectors.sync.runner import run_gp_to_bill

    listener = Listener()
    try:
        settings.CONNECTION_ALLOW_HTTP, settings.BILL_EXTRA_HOSTS = False, []
        gp = wire_gp_connection(tenant, gp_sandbox, base_url=listener.url)  # saved without the form
        bill = wire_bill_connection(tenant, bill_sandbox, api_base_url=listener.url + "/connect")
        with pytest.raises(GPError) as gp_refused:
            GPClient.for_connection(gp)
        assert gp_refused.value.code == "address" and "must start with https://" in str(gp_refused.value)
        with pytest.raises(BillError) as bill_refused:
            BillClient.for_connection(bill)
        assert bill_refused.value.code == "ADDRESS" and "must start with https://" in str(bill_refused.value)
        settings.CONNECTION_ALLOW_HTTP = True  # plain http allowed, yet not a BILL host
        with pytest.raises(BillError, match="one of BILL's gateways"):
            BillClient.for_connection(bill)
        with pytest.raises(Exception, match="cannot be used"):
            run_gp_to_bill(tenant)  # a run stops with the reason, before any request
        assert listener.seen == [] and gp_sandbox.password not in listener.everything_received()
        assert not SyncRecord.objects.filter(tenant=tenant).exists()
        gp.base_url = "http://169.254.169.254/"
        gp.save()
        with pytest.raises(GPError, match="link-local or cloud metadata"):
            GPClient.for_connection(gp)
    finally:
        listener.stop()

"""Credentials are encrypted at rest, written through the admin only, and never rendered back."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection

from connectors.models import BillConnection, GPConnection

GP_PASSWORD = "Gp-P@ss-4417-unique"
BILL_PASSWORD = "Bill-P@ss-9931-unique"
DEV_KEY = "01ABCDEVKEY-7781-unique"
SECURITY_KEY = "whsec-3312-unique"


@pytest.fixture
def connections(tenant):
    gp = GPConnection.objects.create(
        tenant=tenant,
        base_url="https://gp.example.local",
        company="Fabrikam, Inc.",
        domain="CORP",
        username="svc-gp",
        password=GP_PASSWORD,
    )
    bill = BillConnection.objects.create(
        tenant=tenant,
        organization_id="00802ORG",
        username="ap@example.com",
        password=BILL_PASSWORD,
        dev_key=DEV_KEY,
        webhook_security_key=SECURITY_KEY,
    )
    return gp, bill


def _raw_dump() -> bytes:
    """Every row of every table as the database stores it."""
    chunks: list[bytes] = []
    with connection.cursor() as cur:
        for table in connection.introspection.table_names():
            cur.execute(f'SELECT * FROM "{table}"')
            for row in cur.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value))
                    else:
                        chunks.append(str(value).encode())
    return b"\n".join(chunks)


@pytest.mark.django_db(transaction=True)
def test_it_stores_no_plaintext_secret_in_any_row(connections):
    dump = _raw_dump()
    for secret in (GP_PASSWORD, BILL_PASSWORD, DEV_KEY, SECURITY_KEY):
        assert secret.encode() not in dump
    gp, bill = connections
    assert GPConnection.objects.get(pk=gp.pk).password == GP_PASSWORD
    assert BillConnection.objects.get(pk=bill.pk).dev_key == DEV_KEY


@pytest.mark.django_db(transaction=True)
def test_it_keeps_secrets_out_of_the_sqlite_file(connections, settings):
    if not settings.IS_SQLITE:
        pytest.skip("checks the SQLite file itself")
    path = connection.settings_dict["NAME"]
    connection.close()
    # Read every page of the file (WAL included) as bytes, as someone with a copy of the file would.
    checkpoint = sqlite3.connect(path)
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.close()
    with open(path, "rb") as fh:
        data = fh.read()
    for secret in (GP_PASSWORD, BILL_PASSWORD, DEV_KEY, SECURITY_KEY):
        assert secret.encode() not in data


def test_it_never_renders_a_secret_on_the_admin_change_page(client, alice, connections):
    gp, bill = connections
    client.force_login(alice)
    for url in (
        f"/admin/connectors/gpconnection/{gp.pk}/change/",
        f"/admin/connectors/billconnection/{bill.pk}/change/",
        "/admin/connectors/gpconnection/",
        "/admin/connectors/billconnection/",
    ):
        page = client.get(url).content.decode()
        for secret in (GP_PASSWORD, BILL_PASSWORD, DEV_KEY, SECURITY_KEY):
            assert secret not in page, url
    assert (
        "Leave blank to keep the current value"
        in client.get(f"/admin/connectors/gpconnection/{gp.pk}/change/").content.decode()
    )


def test_it_keeps_the_stored_password_when_the_field_is_left_blank(client, alice, connections):
    gp, _ = connections
    client.force_login(alice)
    # Same address and account (a new address asks for the password again:
    # tests/security/test_connection_rules.py).
    response = client.post(
        f"/admin/connectors/gpconnection/{gp.pk}/change/",
        {
            "tenant": gp.tenant_id,
            "base_url": gp.base_url,
            "gp_tenant": "DefaultTenant",
            "company": "Fabrikam, Inc.",
            "domain": "CORP",
            "username": "svc-gp",
            "password": "",
            "verify_tls": "on",
            "ca_bundle_pem": "",
            "timeout_seconds": "90",
        },
    )
    assert response.status_code == 302
    gp.refresh_from_db()
    assert gp.timeout_seconds == 90
    assert gp.password == GP_PASSWORD


def test_it_replaces_the_password_when_a_new_one_is_typed(client, alice, connections):
    gp, _ = connections
    client.force_login(alice)
    client.post(
        f"/admin/connectors/gpconnection/{gp.pk}/change/",
        {
            "tenant": gp.tenant_id,
            "base_url": gp.base_url,
            "gp_tenant": "DefaultTenant",
            "company": "Fabrikam, Inc.",
            "domain": "CORP",
            "username": "svc-gp",
            "password": "new-secret-1",
            "verify_tls": "on",
            "ca_bundle_pem": "",
            "timeout_seconds": "60",
        },
    )
    gp.refresh_from_db()
    assert gp.password == "new-secret-1"

"""Known credential values go through a full sync both ways — faults, a failed connection test, a
forged webhook included — and are then searched for everywhere a person or an attacker could read:
every database column (the encrypted ones hold only ciphertext), the captured logs, the audit trail,
every admin page, and the error answers. None is found."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client

from audit.models import Attempt
from tests.cast import CAST_PASSWORD
from tests.fixtures_bill import wire_bill_connection
from tests.fixtures_gp import wire_gp_connection
from tests.security.test_access_matrix import _admin_urls
from tests.sync.conftest import approve_all, run

GP_USER, GP_PASSWORD = "CORP\\svc-secret", "Gp-Pa55word-7f3a9c"
BILL_PASSWORD, BILL_DEV_KEY = "Bill-Pa55word-91c2bd", "01DEVKEYSECRET5e8d77aa01"
WRONG_PASSWORD = "Guessed-Wrong-Pa55-4410"


@pytest.fixture
def secret_world(transactional_db, tenant, gp_sandbox, bill_sandbox_factory, alice):
    gp_sandbox.add_user(GP_USER, GP_PASSWORD)
    bill = bill_sandbox_factory(password=BILL_PASSWORD, dev_key=BILL_DEV_KEY)
    wire_gp_connection(tenant, gp_sandbox, username="svc-secret", password=GP_PASSWORD)
    wire_bill_connection(tenant, bill)
    tenant.default_checkbook_id = "UPTOWN TRUST"
    tenant.save()
    tenant.refresh_from_db()
    return tenant, gp_sandbox, bill


def _database_text() -> str:
    """Every value of every table, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_no_credential_is_readable_anywhere_after_a_full_sync(secret_world, caplog):
    from connectors.bill.client import BillClient
    from connectors.gp.client import GPClient, diagnose
    from connectors.models import BillConnection
    from connectors.sync.runner import run_bill_to_gp

    tenant, gp, bill = secret_world
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []

    run(tenant)
    approve_all(tenant)
    bill.expire_sessions()  # a re-login mid-run
    gp.set_faults(["5xx", "reset"], rate=0.2)
    bill.add_fault(
        "timeout_after_commit", count=1, methods=["POST"], path_contains="/v3/bills", hold_seconds=0.2
    )
    run(tenant)
    gp.clear_faults()
    synced = [b for b in BillClient.for_connection(tenant.bill_connection).iter_bills()][:2]
    for b in synced:
        bill.pay_bills([{"billId": b.id}])
    run_bill_to_gp(tenant)

    from connectors.subscriptions import subscribe

    subscribe(tenant, "https://connector.example.com/webhooks/bill/northwind/")
    tenant.refresh_from_db()
    session_id = BillConnection.objects.get(tenant=tenant).session_id
    webhook_key = BillConnection.objects.get(tenant=tenant).webhook_security_key
    assert session_id and webhook_key

    # A wrong password, as an admin would type it on a connection test.
    conn = tenant.gp_connection
    conn.password = WRONG_PASSWORD
    answers.append(str(diagnose(conn)))
    answers.append(repr(GPClient.for_connection(conn, sleep=lambda s: None).test_connection()))
    # Forged and broken webhooks.
    client = Client()
    answers.append(
        client.post(
            "/webhooks/bill/northwind/",
            data=b"{}",
            content_type="application/json",
            HTTP_X_BILL_SHA_SIGNATURE="forged",
        ).content.decode()
    )
    answers.append(
        client.post(
            "/webhooks/bill/northwind/", data=b"not json", content_type="application/json"
        ).content.decode()
    )

    # Every admin page, as the connector admin sees it.
    admin_client = Client()
    assert admin_client.login(username="alice", password=CAST_PASSWORD)
    pages = [admin_client.get(url).content.decode(errors="replace") for _, _, url in _admin_urls()]
    pages.append(admin_client.get("/admin/ops/dashboard/").content.decode())

    places = {
        "database": _database_text(),
        "logs": caplog.text + "\n".join(r.getMessage() for r in caplog.records),
        "audit trail": "\n".join(
            repr((a.request, a.error, a.response_status)) for a in Attempt.objects.all()
        ),
        "admin pages": "\n".join(pages),
        "error answers": "\n".join(answers),
    }
    assert Attempt.objects.exists() and len(pages) > 20
    secrets = {
        "GP password": GP_PASSWORD,
        "BILL password": BILL_PASSWORD,
        "BILL developer key": BILL_DEV_KEY,
        "BILL session ID": session_id,
        "webhook security key": webhook_key,
        "tried password": WRONG_PASSWORD,
    }
    for where, text in places.items():
        for name, value in secrets.items():
            assert value not in text, f"the {name} is readable in the {where}"

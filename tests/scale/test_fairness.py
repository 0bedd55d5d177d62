"""One tenant's long work must not hold up the others (issue 21 §3).

- Long work goes to the long queue: the admin's jobs (initial load), and a tenant's first GP → BILL
  run, handed off once by its scheduled poll, which still does BILL → GP itself; webhooks and polls
  stay on the short queue.
- With real qcluster processes on PostgreSQL + Redis: a tenant's payment webhook is written to GP
  while another tenant's initial load still holds the long queue's only worker.
- The developer key's hour: a tenant whose load wants more than its share is stopped at its share,
  and the other tenant on the key still syncs everything it has.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest
from django.db import transaction

from audit.models import Job, Kind, PollCursor, State, SyncRecord
from tests.fixtures_bill import wire_bill_connection
from tests.fixtures_gp import GP_ODD_COMPANY, wire_gp_connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def real_queues(monkeypatch):
    """Tasks go to the broker (as in production), not inline; both queues start empty."""
    from connectors import queue

    monkeypatch.setattr(queue, "RUN_INLINE", False)
    queue.reset_broker()
    for name in (queue.SHORT, queue.LONG):
        queue.shared_broker(name).purge_queue()
    yield queue
    for name in (queue.SHORT, queue.LONG):
        queue.shared_broker(name).purge_queue()
    queue.reset_broker()


def _sizes(queue: Any) -> tuple[int, int]:
    return queue.shared_broker(queue.SHORT).queue_size(), queue.shared_broker(queue.LONG).queue_size()


def _run_next(queue: Any, name: str) -> Any:
    """Take the next task of `name` off the broker and run it, as that queue's worker would."""
    from django.utils.module_loading import import_string
    from django_q.signing import SignedPackage

    broker = queue.shared_broker(name)
    (ack_id, payload), *_ = broker.dequeue()
    task = SignedPackage.loads(payload)
    broker.acknowledge(ack_id)
    return import_string(task["func"])(*task["args"], **task["kwargs"])


def _company(
    name: str, gp_sandbox: Any, bill_sandbox: Any, company: str | None = None, vendors: int | None = None
) -> Any:
    """A tenant on its GP company and BILL org, vendors (all, or the first `vendors`) approved as
    'create in BILL', accounts linked."""
    from bench._tenant import approve_vendors_as_create, link_accounts
    from connectors.models import Tenant
    from connectors.sync.context import SyncContext

    tenant = Tenant.objects.create(
        name=name,
        slug=name.lower(),
        bill_policy=Tenant.BILL_POLICY_APPROVED_UNPOSTED,
        default_checkbook_id="UPTOWN TRUST",
    )
    wire_gp_connection(tenant, gp_sandbox, **({"company": company} if company else {}))
    wire_bill_connection(tenant, bill_sandbox, webhook_security_key=f"{name}-webhook-key-" + "k" * 20)
    tenant = Tenant.objects.select_related("gp_connection", "bill_connection").get(pk=tenant.pk)
    ctx = SyncContext.for_tenant(tenant)
    approve_vendors_as_create(tenant, [v.vendor_id for v in ctx.gp.iter_vendors()][:vendors])
    link_accounts(tenant, ctx.gp, ctx.bill)
    ctx.gp.close()
    return tenant


def _payment_webhook(client: Any, tenant: Any, payment_id: str) -> Any:
    from connectors.bill.webhooks import compute_signature

    body = json.dumps(
        {
            "metadata": {
                "eventId": f"evt-{uuid.uuid4()}",
                "eventType": "payment.updated",
                "organizationId": tenant.bill_connection.organization_id,
                "version": "1",
            },
            "payment": {"id": payment_id},
        }
    ).encode()
    signature = compute_signature(body, tenant.bill_connection.webhook_security_key)
    return client.post(
        f"/webhooks/bill/{tenant.slug}/",
        data=body,
        content_type="application/json",
        HTTP_X_BILL_SHA_SIGNATURE=signature,
    )


def _pay_one_bill(tenant: Any, bill_sandbox: Any) -> str:
    bill_id = (
        SyncRecord.objects.filter(tenant=tenant, kind=Kind.BILL, state=State.SYNCED)
        .values_list("target_id", flat=True)
        .first()
    )
    assert bill_id, "the tenant has a bill in BILL to pay"
    return str(bill_sandbox.pay_bills([{"billId": bill_id, "amount": "1.00"}])["id"])


def test_long_work_goes_to_the_long_queue_and_a_first_load_is_handed_off_once(
    real_queues, client, gp_sandbox, bill_sandbox
):
    from audit import jobs
    from connectors.sync.gp_to_bill.bills import FLOW
    from connectors.tasks import sync_tenant

    queue = real_queues
    tenant = _company("Eastwind", gp_sandbox, bill_sandbox)

    # The admin's initial load: a job, on the long queue.
    with transaction.atomic():
        jobs.start(Job.INITIAL_LOAD, tenant=tenant)
    assert _sizes(queue) == (0, 1)
    queue.shared_broker(queue.LONG).purge_queue()

    # The scheduled poll of a tenant never loaded: GP → BILL handed to the long queue, BILL → GP done here.
    first = sync_tenant(tenant.pk)
    assert first["gp_to_bill"] == {"handed_to_long_queue": True}
    assert PollCursor.objects.get(tenant=tenant, flow="bill_payments").last_success_at is not None
    assert not SyncRecord.objects.filter(tenant=tenant, kind=Kind.BILL).exists()
    # The next poll, while that load is still queued, does not queue it again.
    assert sync_tenant(tenant.pk)["gp_to_bill"] == {"handed_to_long_queue": False}
    assert _sizes(queue) == (0, 1)

    # The long queue's worker runs the load; after it the polls do GP → BILL themselves.
    loaded = _run_next(queue, queue.LONG)
    assert loaded["bill_created"] > 0
    assert PollCursor.objects.get(tenant=tenant, flow=FLOW).cursor is not None
    later = sync_tenant(tenant.pk)
    assert "handed_to_long_queue" not in later["gp_to_bill"] and "skipped" not in later["gp_to_bill"]
    assert _sizes(queue) == (0, 0)

    # A payment webhook: the short queue.
    answer = _payment_webhook(client, tenant, _pay_one_bill(tenant, bill_sandbox))
    assert answer.status_code == 200, answer.content
    assert _sizes(queue) == (1, 0)
    _run_next(queue, queue.SHORT)
    assert SyncRecord.objects.get(tenant=tenant, kind=Kind.GP_PAYMENT).state == State.SYNCED


def test_one_tenant_cannot_spend_the_developer_keys_hour_while_another_has_work(
    settings, monkeypatch, gp_sandbox, bill_sandbox_factory
):
    """Two orgs on one developer key whose hour is 20 calls: A's first load (50 vendors, 300 invoices)
    wants 17 and is stopped at its 10; B, on the same key and asking after A, still syncs all it has
    (3 vendors approved, their bills: 7 calls). Without the shares A would have left B 3."""
    from connectors.bill.gate import DatabaseGate, gate_for, key_of, reset_gates
    from connectors.bill.http import BillError
    from connectors.sync.gp_to_bill.bills import FLOW
    from connectors.sync.runner import run_gp_to_bill

    settings.BILL_HOURLY_BUDGET = 20
    monkeypatch.setattr(DatabaseGate, "BUDGET_CHUNK", 1)  # count call by call, not 20 at a time
    reset_gates()
    dev_key = "01T" + uuid.uuid4().hex.upper()
    gp_sandbox.reset("demo")
    a = _company("Busy", gp_sandbox, bill_sandbox_factory(dev_key=dev_key))
    b = _company(
        "Quiet", gp_sandbox, bill_sandbox_factory(dev_key=dev_key), company=GP_ODD_COMPANY, vendors=3
    )
    try:
        with pytest.raises(BillError, match="part of the developer key's budget"):
            run_gp_to_bill(a)  # wants 17 calls: stopped at its 10
        run_gp_to_bill(b)  # wants 7: has them, though A asked first
        used = gate_for().used_this_hour(key_of(a.bill_connection))
        assert used[a.bill_connection.organization_id] == 10
        b_cursor = PollCursor.objects.get(tenant=b, flow=FLOW)
        assert b_cursor.last_error == "" and b_cursor.last_success_at is not None
        assert SyncRecord.objects.filter(tenant=b, kind=Kind.BILL, state=State.SYNCED).exists()
        assert not SyncRecord.objects.filter(tenant=b, state=State.FAILED).exists()
    finally:
        reset_gates()


@pytest.mark.services
def test_a_payment_webhook_is_written_to_gp_while_another_tenants_load_holds_the_long_queue(
    real_queues, client, gp_sandbox, bill_sandbox_factory
):
    from django.db import connection
    from django.utils import timezone

    from audit import jobs
    from connectors.sync.runner import run_gp_to_bill
    from tests.bill.processes import ROOT, database_url

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    gp_sandbox.reset("demo")
    slow = bill_sandbox_factory()
    a = _company("Loading", gp_sandbox, slow)
    b_bill = bill_sandbox_factory()
    b = _company("Paying", gp_sandbox, b_bill, company=GP_ODD_COMPANY)
    run_gp_to_bill(b)
    payment = _pay_one_bill(b, b_bill)
    slow.set_latency(ms=1500, per_item_ms=20)  # A's load: a minute or more
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "gpbill_site.settings",
        "LOG_LEVEL": "WARNING",
        "Q_WORKERS": "1",
        "Q_LONG_WORKERS": "1",
    }
    clusters = [
        subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**env, **extra},
        )
        for extra in ({}, {"Q_CLUSTER_NAME": "long"})
    ]
    try:
        job = jobs.start(Job.INITIAL_LOAD, tenant=a)
        deadline = time.monotonic() + 60
        while Job.objects.get(pk=job.pk).state == Job.QUEUED:
            assert time.monotonic() < deadline, "the long queue never started the load"
            time.sleep(0.2)
        sent = timezone.now()
        assert _payment_webhook(client, b, payment).status_code == 200
        record = SyncRecord.objects.filter(tenant=b, kind=Kind.GP_PAYMENT, source_key=payment)
        while not record.filter(state=State.SYNCED).exists():
            assert time.monotonic() < deadline + 60, "the payment was never written to GP"
            time.sleep(0.2)
        assert Job.objects.get(pk=job.pk).state == Job.RUNNING, "A's load was still running meanwhile"
        assert record.get().updated_at > sent
    finally:
        for cluster in clusters:
            cluster.terminate()
        for cluster in clusters:
            try:
                cluster.wait(timeout=20)
            except subprocess.TimeoutExpired:
                cluster.kill()

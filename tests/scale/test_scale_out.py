"""Several workers on PostgreSQL and Redis, each in its own process, as several qcluster hosts would be.

- Two companies synced into one BILL organization at once: BILL never sees more than 3 calls in
  flight from the two processes together, and never has to refuse one.
- Two workers given the same tenant: their runs never overlap and no bill is created twice.
- Two clusters (real `qcluster` processes, django-q2 on Redis): a due schedule fires once.
(A dead holder's gate slots expiring is in tests/bill/test_gate.py, for the database and Redis.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from tests.bill.processes import ROOT, database_url
from tests.fixtures_bill import wire_bill_connection
from tests.fixtures_gp import GP_ODD_COMPANY, wire_gp_connection

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def real_services():
    from django.db import connection

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "gpbill_site.settings",
        "LOG_LEVEL": "WARNING",
    }


def _company(name: str, company: str, gp_sandbox: Any, bill_sandbox: Any) -> Any:
    """A tenant for one GP company, its vendors approved as 'create in BILL' and its accounts linked."""
    from bench._tenant import approve_vendors_as_create, link_accounts
    from connectors.models import Tenant
    from connectors.sync.context import SyncContext

    tenant = Tenant.objects.create(
        name=name, slug=name.lower(), bill_policy=Tenant.BILL_POLICY_APPROVED_UNPOSTED
    )
    wire_gp_connection(tenant, gp_sandbox, company=company)
    wire_bill_connection(tenant, bill_sandbox)
    tenant.refresh_from_db()
    ctx = SyncContext.for_tenant(tenant)
    approve_vendors_as_create(tenant, [v.vendor_id for v in ctx.gp.iter_vendors()])
    link_accounts(tenant, ctx.gp, ctx.bill)
    ctx.gp.close()
    return tenant


def _workers(tenant_pks: list[int]) -> list[dict[str, Any]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.scale.worker", str(pk)],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for pk in tenant_pks
    ]
    out = []
    for pk, proc in zip(tenant_pks, procs, strict=True):
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr[-2000:]
        out.append({"tenant": pk, **json.loads(stdout.strip().splitlines()[-1])})
    return out


def _bill_vouchers(bill_sandbox: Any) -> Counter[str]:
    from connectors.sync.gp_to_bill.bill_payload import voucher_from_description

    return Counter(voucher_from_description(b.get("description")) for b in bill_sandbox.store.bills.values())


def test_two_companies_in_two_processes_share_the_orgs_three_slots(gp_sandbox, bill_sandbox):
    gp_sandbox.reset("demo")
    east = _company("East", gp_sandbox.company, gp_sandbox, bill_sandbox)
    west = _company("West", GP_ODD_COMPANY, gp_sandbox, bill_sandbox)
    bill_sandbox.set_latency(ms=40, per_item_ms=2)
    bill_sandbox.reset_stats()

    runs = _workers([east.pk, west.pk])

    from audit.models import Kind, State, SyncRecord

    stats = bill_sandbox.stats()
    org = bill_sandbox.credentials.org_id
    assert stats["max_in_flight"][org] <= 3
    assert stats["orgs"][org]["refused"] == {}  # the shared gate kept both processes inside BILL's limit
    assert all("skipped" not in r["result"]["gp_to_bill"] for r in runs)
    overlapped = min(r["finished"] for r in runs) > max(r["started"] for r in runs)
    assert overlapped  # the two companies really did sync at the same time
    for tenant in (east, west):
        synced = SyncRecord.objects.filter(tenant=tenant, kind=Kind.BILL, state=State.SYNCED).count()
        assert synced > 100
    # Both companies hold the same demo vouchers: each voucher has one bill per company, no more.
    assert set(_bill_vouchers(bill_sandbox).values()) == {2}


def test_workers_given_the_same_tenant_never_overlap_nor_duplicate(gp_sandbox, bill_sandbox):
    gp_sandbox.reset("demo")
    tenant = _company("Solo", gp_sandbox.company, gp_sandbox, bill_sandbox)
    bill_sandbox.set_latency(ms=40, per_item_ms=2)

    runs = _workers([tenant.pk, tenant.pk, tenant.pk])

    ran = sorted((r for r in runs if "skipped" not in r["result"]["gp_to_bill"]), key=lambda r: r["started"])
    assert ran  # someone synced
    for first, second in zip(ran, ran[1:], strict=False):
        assert second["started"] >= first["finished"] - 0.05  # one after the other, never together
    created = sum(r["result"]["gp_to_bill"].get("bill_created", 0) for r in ran)
    vouchers = _bill_vouchers(bill_sandbox)
    assert created == len(vouchers) > 100
    assert set(vouchers.values()) == {1}


def test_a_due_schedule_fires_once_with_two_clusters():
    import redis
    from django.utils import timezone
    from django_q.models import Schedule

    key = f"test:schedule:{uuid.uuid4().hex}"
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    Schedule.objects.create(
        name="fires once",
        func="tests.scale.tasks.note",
        args=repr(key),
        schedule_type=Schedule.MINUTES,
        minutes=10,
        repeats=-1,
        next_run=timezone.now() - timedelta(seconds=1),
    )
    env = {**_env(), "Q_WORKERS": "1"}
    clusters = [
        subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    started = time.monotonic()
    try:
        # Each cluster's scheduler ticks about every 30 s from its start; wait until both have ticked.
        while time.monotonic() - started < 45 and not client.get(key):
            time.sleep(0.5)
        assert client.get(key) == b"1"
        time.sleep(max(0.0, started + 40 - time.monotonic()))
        assert all(c.poll() is None for c in clusters), "a cluster died"
        assert client.get(key) == b"1"  # the second cluster found the schedule already taken
        assert Schedule.objects.get(name="fires once").next_run > timezone.now() + timedelta(minutes=9)
    finally:
        for cluster in clusters:
            cluster.terminate()
        for cluster in clusters:
            try:
                cluster.wait(timeout=20)
            except subprocess.TimeoutExpired:
                cluster.kill()
        client.delete(key)

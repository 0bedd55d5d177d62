"""Tenant isolation outside the admin pages the access matrix walks: jobs, the digest, the demo's
users and an upgraded install. (The matrix itself proves the pages, actions, imports and exports.)"""

from __future__ import annotations

import pytest
from django.core import mail

from audit import jobs
from audit.alerts import send_digest
from audit.models import Job, SyncRecord
from connectors.devtools.demo import demo_users
from connectors.models import Tenant, TenantMembership
from tests.admin.conftest import record
from tests.cast import make_user


@pytest.fixture
def contoso(db):
    return Tenant.objects.create(
        name="Contoso Pharmaceuticals", slug="contoso", alert_emails="ap@contoso.test"
    )


def test_a_replay_job_carrying_another_tenants_record_ids_replays_only_the_users_own(
    tenant, contoso, frank, monkeypatch
):
    replayed: list[int] = []

    def fake_replay_many(ids, *, trigger, user=None):
        replayed.extend(ids)
        return {"synced": len(ids)}

    monkeypatch.setattr("connectors.sync.replay.replay_many", fake_replay_many)
    mine, theirs = record(tenant, "N1"), record(contoso, "C1")
    job = Job.objects.create(kind=Job.REPLAY, user=frank, record_ids=[mine.pk, theirs.pk], total=2)
    jobs.run(job.pk)
    assert replayed == [mine.pk]


def test_a_job_page_of_another_tenant_or_another_persons_bulk_replay_is_404(
    client, tenant, contoso, frank, alice
):
    theirs = Job.objects.create(kind=Job.DRIFT, tenant=contoso, result={"summary": "Contoso drift"})
    alices_replay = Job.objects.create(kind=Job.REPLAY, user=alice, record_ids=[])
    franks_replay = Job.objects.create(kind=Job.REPLAY, user=frank, record_ids=[])
    client.force_login(frank)
    assert client.get(f"/admin/ops/jobs/{theirs.pk}/").status_code == 404
    assert client.get(f"/admin/ops/jobs/{alices_replay.pk}/").status_code == 404
    assert client.get(f"/admin/ops/jobs/{franks_replay.pk}/").status_code == 200
    listed = client.get("/admin/audit/job/").context["cl"].result_list
    assert [j.pk for j in listed] == [franks_replay.pk]


def test_starting_a_job_for_another_tenant_is_refused_and_starts_nothing(client, tenant, contoso, frank):
    client.force_login(frank)
    for kind in ("preview", "drift", "sync_now", "initial_load"):
        assert client.post(f"/admin/ops/dashboard/{contoso.slug}/start/{kind}/").status_code == 404
    assert not Job.objects.exists()


def test_the_digest_lists_its_own_tenants_records_and_links_to_its_own_list(tenant, contoso):
    record(contoso, "C-0001", "failed", label="Contoso invoice 1")
    record(contoso, "C-0002", "blocked", label="Contoso invoice 2")
    assert send_digest(contoso, base_url="https://connector.example")
    tenant.alert_emails = "ap@northwind.test"
    tenant.save()
    record(tenant, "N-0001", "failed", label="Northwind invoice 1")
    assert send_digest(tenant, base_url="https://connector.example")
    northwind = mail.outbox[1]
    assert northwind.to == ["ap@northwind.test"]
    assert "Northwind invoice 1" in northwind.body and "Contoso" not in northwind.body
    assert f"/admin/audit/attentionrecord/?tenant__id__exact={tenant.pk}" in northwind.body


def test_the_demo_users_are_members_of_the_demo_tenant_only(contoso, client):
    demo = Tenant.objects.create(name="Demo Building Products", slug="demo")
    passwords = demo_users(demo)
    assert set(passwords) == {"demo-admin", "demo-finance"}
    assert set(TenantMembership.objects.filter(tenant=demo).values_list("user__username", flat=True)) == set(
        passwords
    )
    assert not TenantMembership.objects.filter(tenant=contoso).exists()
    assert client.login(username="demo-finance", password=passwords["demo-finance"])
    page = client.get("/admin/ops/dashboard/").content.decode()
    assert "Demo Building Products" in page and "Contoso" not in page


def test_an_upgraded_single_tenant_install_keeps_its_staff_and_a_multi_tenant_one_grants_nobody(
    tenant, django_user_model
):
    from importlib import import_module

    from django.apps import apps

    step = import_module("connectors.migrations.0008_tenant_memberships").single_tenant_staff_keep_access
    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    step(apps, None)
    assert list(TenantMembership.objects.filter(user=clerk).values_list("tenant__slug", flat=True)) == [
        "northwind"
    ]
    TenantMembership.objects.all().delete()
    Tenant.objects.create(name="Contoso Pharmaceuticals", slug="contoso")
    step(apps, None)
    assert not TenantMembership.objects.exists()


def test_a_user_without_a_membership_sees_no_tenant(client, tenant, django_user_model):
    record(tenant, "N1")
    outsider = make_user("olga", "Finance staff")  # staff in a role, but nobody gave her a tenant
    client.force_login(outsider)
    assert client.get("/admin/audit/syncrecord/").context["cl"].result_count == 0
    assert SyncRecord.objects.count() == 1
    assert "Northwind" not in client.get("/admin/ops/dashboard/").content.decode()

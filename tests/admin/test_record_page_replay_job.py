"""Replay and Sync again on the record page queue a job and return at once; a second press while
that job is queued or running queues nothing; only people who could replay before can now."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from audit import jobs
from audit.models import Job, State
from connectors.models import Tenant
from connectors.tenancy import add_member
from tests import cast
from tests.admin.conftest import record


@pytest.fixture
def replayed(monkeypatch):
    """What the flows were asked to replay, and for whom (the flows themselves are not the point)."""
    calls: list[tuple[list[int], object]] = []

    def fake_replay_many(ids, *, trigger, user=None):
        calls.append((sorted(ids), user))
        return {"synced": len(ids)}

    monkeypatch.setattr("connectors.sync.replay.replay_many", fake_replay_many)
    return calls


def _press(client, rec, button="replay"):
    return client.post(f"/admin/audit/syncrecord/{rec.pk}/{button}/", follow=True)


def _said(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_replay_returns_without_running_the_flow_and_the_job_runs_it_for_the_person(
    as_frank, frank, tenant, replayed
):
    rec = record(tenant, "Q1", "failed", label="ACME invoice 1")
    response = as_frank.post(f"/admin/audit/syncrecord/{rec.pk}/replay/")
    job = Job.objects.get()
    assert response["Location"] == f"/admin/ops/jobs/{job.pk}/"
    assert replayed == [] and job.state == Job.QUEUED  # the request did not run the flow
    jobs.run(job.pk)
    assert replayed == [([rec.pk], frank)]


def test_the_trail_says_who_asked_for_the_replay(as_frank, frank, tenant, monkeypatch):
    from connectors.sync import replay

    monkeypatch.setattr(replay.SyncContext, "for_tenant", lambda *a, **k: None)
    monkeypatch.setattr(replay, "_replay_account", lambda ctx, record: None)
    rec = record(tenant, "000-6100-00", "blocked", kind="gl_account", reason="Waiting for BILL")
    as_frank.post(f"/admin/audit/syncrecord/{rec.pk}/replay/")
    assert not rec.trail.exists()
    jobs.run(Job.objects.get().pk)
    assert [(a.outcome, a.trigger, a.user) for a in rec.trail.all()] == [("replayed", "replay", frank)]


def test_a_second_press_while_the_replay_is_queued_or_running_queues_nothing(as_frank, tenant, replayed):
    rec = record(tenant, "Q2", "failed", label="ACME invoice 2")
    _press(as_frank, rec)
    first = Job.objects.get()
    response = _press(as_frank, rec)
    assert Job.objects.count() == 1
    assert response.redirect_chain[-1][0] == f"/admin/ops/jobs/{first.pk}/"
    said = _said(response)
    assert "A replay of ACME invoice 2 is queued and starts shortly (asked for by frank" in said
    assert "No second replay was queued." in said

    Job.objects.filter(pk=first.pk).update(state=Job.RUNNING, started_at=timezone.now())
    assert "is running now" in _said(_press(as_frank, rec))
    assert Job.objects.count() == 1

    Job.objects.filter(pk=first.pk).update(state=Job.DONE, finished_at=timezone.now())
    _press(as_frank, rec)  # done: a new press reads the source again
    assert Job.objects.count() == 2


def test_a_replay_whose_worker_was_lost_does_not_hold_back_a_new_one(as_frank, tenant, replayed):
    rec = record(tenant, "Q3", "failed")
    lost = Job.objects.create(kind=Job.REPLAY, tenant=tenant, record_ids=[rec.pk], total=1)
    Job.objects.filter(pk=lost.pk).update(created_at=timezone.now() - jobs.LOST_AFTER - timedelta(minutes=1))
    _press(as_frank, rec)
    assert Job.objects.count() == 2


def test_a_bulk_replay_still_to_reach_the_record_counts_and_one_past_it_does_not(
    as_frank, frank, tenant, replayed
):
    rec, other = record(tenant, "Q4", "failed"), record(tenant, "Q5", "failed")
    bulk = Job.objects.create(
        kind=Job.REPLAY, user=frank, record_ids=[other.pk] * 20 + [rec.pk], total=21, state=Job.RUNNING
    )
    Job.objects.filter(pk=bulk.pk).update(started_at=timezone.now())
    assert jobs.replay_waiting_for(rec) == bulk
    assert jobs.replay_waiting_for(other) == bulk
    Job.objects.filter(pk=bulk.pk).update(done=20)  # the first chunk is done: `other` was replayed
    assert jobs.replay_waiting_for(other) is None
    assert jobs.replay_waiting_for(rec) == bulk


def test_another_persons_waiting_bulk_replay_is_named_but_not_linked(as_frank, alice, tenant, replayed):
    rec = record(tenant, "Q6", "failed", label="ACME invoice 6")
    Job.objects.create(kind=Job.REPLAY, user=alice, record_ids=[rec.pk], total=1)  # tenant-less: alice's
    response = _press(as_frank, rec)
    assert Job.objects.count() == 1
    assert response.redirect_chain[-1][0] == f"/admin/audit/syncrecord/{rec.pk}/change/"
    assert "asked for by alice" in _said(response) and "Reload this page" in _said(response)
    page = response.content.decode()
    assert 'id="ml-replay-waiting"' in page and "/admin/ops/jobs/" not in page


def test_the_record_page_says_a_replay_is_queued_links_to_it_and_offers_no_second_replay(
    as_frank, tenant, replayed
):
    rec = record(tenant, "Q7", "failed")
    page = as_frank.get(f"/admin/audit/syncrecord/{rec.pk}/change/").content.decode()
    assert 'id="ml-replay"' in page and "ml-replay-waiting" not in page
    _press(as_frank, rec)
    job = Job.objects.get()
    page = as_frank.get(f"/admin/audit/syncrecord/{rec.pk}/change/").content.decode()
    assert "Replay queued:" in page and "asked for by frank" in page
    assert f'href="/admin/ops/jobs/{job.pk}/"' in page and "Follow it on its job page" in page
    assert 'id="ml-replay"' not in page
    jobs.run(job.pk)
    page = as_frank.get(f"/admin/audit/syncrecord/{rec.pk}/change/").content.decode()
    assert "ml-replay-waiting" not in page and 'id="ml-replay"' in page


def test_sync_again_while_a_replay_is_queued_uses_that_replay(as_frank, frank, tenant, replayed):
    rec = record(tenant, "Q8", "skipped", label="ACME invoice 8", reason="Don't sync (frank): duplicate")
    waiting = Job.objects.create(kind=Job.REPLAY, tenant=tenant, user=frank, record_ids=[rec.pk], total=1)
    response = _press(as_frank, rec, "resume")
    rec.refresh_from_db()
    assert rec.state == State.PENDING and rec.trail.get().outcome == "resumed"
    assert Job.objects.count() == 1
    assert response.redirect_chain[-1][0] == f"/admin/ops/jobs/{waiting.pk}/"
    assert "ACME invoice 8 will sync again. A replay of ACME invoice 8 is queued" in _said(response)
    jobs.run(waiting.pk)
    assert replayed == [([rec.pk], frank)]


def test_sync_again_queues_its_own_job_when_none_waits(as_frank, tenant, replayed):
    rec = record(tenant, "Q9", "skipped", reason="Don't sync (frank): duplicate")
    response = as_frank.post(f"/admin/audit/syncrecord/{rec.pk}/resume/")
    job = Job.objects.get()
    assert response["Location"] == f"/admin/ops/jobs/{job.pk}/" and job.record_ids == [rec.pk]
    assert replayed == []


@pytest.mark.parametrize("role", [cast.FINANCE_STAFF, cast.CONNECTOR_ADMINS])
def test_both_roles_may_replay_and_sync_again_on_their_tenants_records(client, tenant, role, replayed):
    user = cast.make_user("pat", role)
    add_member(tenant, user)
    client.force_login(user)
    failed, skipped = record(tenant, "P1", "failed"), record(tenant, "P2", "skipped")
    assert client.post(f"/admin/audit/syncrecord/{failed.pk}/replay/").status_code == 302
    assert client.post(f"/admin/audit/syncrecord/{skipped.pk}/resume/").status_code == 302
    assert Job.objects.filter(user=user).count() == 2


def test_who_could_not_replay_before_cannot_now_and_nothing_is_queued(client, tenant, replayed):
    failed, skipped = record(tenant, "P3", "failed"), record(tenant, "P4", "skipped")
    urls = (f"/admin/audit/syncrecord/{failed.pk}/replay/", f"/admin/audit/syncrecord/{skipped.pk}/resume/")
    for url in urls:  # nobody signed in: to the login page
        response = client.post(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    viewer = User.objects.create_user("vera", "vera@example.com", cast.CAST_PASSWORD, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_syncrecord"))
    add_member(tenant, viewer)
    client.force_login(viewer)  # may read the record page, not act on it
    assert client.get(f"/admin/audit/syncrecord/{failed.pk}/change/").status_code == 200
    for url in urls:
        assert client.post(url).status_code == 403
    contoso = Tenant.objects.create(name="Contoso Pharmaceuticals", slug="contoso")
    outsider = cast.make_user("otto", cast.FINANCE_STAFF)
    add_member(contoso, outsider)
    client.force_login(outsider)  # another tenant's record does not exist for them
    for url in urls:
        assert client.post(url).status_code == 404
    assert not Job.objects.exists()
    skipped.refresh_from_db()
    assert skipped.state == State.SKIPPED and not skipped.trail.exists()

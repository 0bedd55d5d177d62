"""Schedules follow each tenant, the sync and replay commands say what they did, Sync now runs a job."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from audit.models import State, SyncRecord
from connectors.schedules import ensure_schedules
from tests.sync.conftest import approve_all, run


def test_it_creates_each_schedule_once_at_the_tenant_interval(tenant):
    tenant.poll_interval_minutes = 7
    tenant.save()
    ensure_schedules(tenant)
    ensure_schedules(tenant)
    sync = Schedule.objects.filter(name=f"ml-connector:{tenant.slug}:sync")
    assert sync.count() == 1 and sync.get().minutes == 7
    assert Schedule.objects.filter(name__startswith=f"ml-connector:{tenant.slug}:").count() == 3


def test_it_removes_the_schedules_of_an_inactive_tenant(tenant):
    ensure_schedules(tenant)
    tenant.is_active = False
    tenant.save()
    ensure_schedules(tenant)
    assert not Schedule.objects.filter(name__startswith=f"ml-connector:{tenant.slug}:").exists()


def test_the_sync_command_prints_what_it_did(wired, capsys):
    call_command("sync", "--tenant", wired.slug, "--once")
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["gp_to_bill"]["bill_blocked"] > 0
    assert "bill_blocked:" in out


def test_the_sync_command_names_an_unknown_tenant(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No tenant with slug 'nope'"):
        call_command("sync", "--tenant", "nope", "--once")


def test_the_replay_command_replays_what_needs_attention(wired, bill_sandbox, capsys):
    run(wired)
    approve_all(wired)
    synced = SyncRecord.objects.filter(tenant=wired, kind="bill", state=State.SYNCED).first()
    SyncRecord.objects.filter(pk=synced.pk).update(state=State.FAILED, reason="BILL answered 503")
    call_command("replay", "--tenant", wired.slug, "--state", "failed")
    synced.refresh_from_db()
    assert synced.state == State.SYNCED
    assert "Replayed 1 record(s): synced 1" in capsys.readouterr().out


def test_sync_now_starts_a_job_that_runs_the_flows(wired, client, alice):
    from audit.models import Job

    client.force_login(alice)
    response = client.post(
        "/admin/connectors/tenant/", {"action": "sync_now", "_selected_action": [wired.pk]}, follow=True
    )
    assert "sync started" in response.content.decode()
    job = Job.objects.get(tenant=wired)
    assert job.state == Job.DONE, job.error
    assert SyncRecord.objects.filter(tenant=wired, kind="bill").exists()

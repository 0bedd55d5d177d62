"""An idle poll (nothing changed in GP or BILL) writes no new rows: a hosted installation polls every
tenant every five minutes, so a row per poll would grow the database for ever with nothing to say."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django_q.models import Schedule, Task

from audit.models import PollCursor
from connectors.schedules import ensure_schedules, schedule_name
from connectors.tasks import sync_tenant


def row_counts() -> dict[str, int]:
    """Rows of every table of the trail, ledger, polls, mappings and task results."""
    labels = ("audit", "connectors", "mappings", "django_q")
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in labels and not m._meta.proxy
    }


def settle(tenant: Any) -> None:
    """Sync until a run finds nothing new (the first runs create bills once vendors exist)."""
    for _ in range(3):
        sync_tenant(tenant.pk)


def test_an_idle_poll_cycle_writes_no_new_rows_and_still_shows_the_last_success(synced):
    settle(synced)
    before = row_counts()
    last_success = dict(PollCursor.objects.filter(tenant=synced).values_list("flow", "last_success_at"))
    assert last_success and all(last_success.values())

    result = sync_tenant(synced.pk)
    sync_tenant(synced.pk)

    assert "skipped" not in result["gp_to_bill"] and "skipped" not in result["bill_to_gp"]
    assert row_counts() == before
    now = dict(PollCursor.objects.filter(tenant=synced).values_list("flow", "last_success_at"))
    assert set(now) == set(last_success)
    assert all(now[flow] > last_success[flow] for flow in now), "the screens' last success time moves on"


def test_a_scheduled_sync_runs_and_stores_no_success_result(synced, monkeypatch):
    from django.utils import timezone
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.scheduler import scheduler

    settle(synced)
    ensure_schedules(synced)
    before = dict(PollCursor.objects.filter(tenant=synced).values_list("flow", "last_success_at"))
    Schedule.objects.filter(name=schedule_name(synced, "sync")).update(next_run=timezone.now())
    monkeypatch.setattr(Conf, "SYNC", True)  # the scheduler's task runs here, as a worker would run it

    scheduler(broker=get_broker())

    after = dict(PollCursor.objects.filter(tenant=synced).values_list("flow", "last_success_at"))
    assert all(after[flow] > before[flow] for flow in before), "the scheduled run polled every flow"
    assert not Task.objects.filter(func="connectors.tasks.sync_tenant").exists()

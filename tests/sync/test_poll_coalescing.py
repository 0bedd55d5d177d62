"""Scheduled polls that queued up behind a later one are coalesced, and nothing is lost by it.

django-q2's scheduler queues a tenant's poll every time it is due, whether or not the last one ran: when
workers fall behind (a thousand first loads, a busy CPU), one tenant has several polls queued. Each poll
reads from its cursor (the start of the last successful run) up to its own start, so a poll begun after
another was due read everything that one would have: the late one is skipped after one read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.scheduler import scheduler

from audit.models import PollCursor, State, SyncRecord, Trigger
from connectors.schedules import DUE_KWARG, ensure_schedules, pass_due_times, schedule_name
from connectors.tasks import sync_tenant

from .conftest import record


def _requests(sandbox: Any) -> int:
    return sum(sum(codes.values()) for codes in sandbox.stats()["requests"]["by_path"].values())


def _cursors(tenant: Any) -> dict[str, tuple[Any, ...]]:
    return {
        c.flow: (c.cursor, c.last_started_at, c.last_success_at, c.last_error, c.last_summary)
        for c in PollCursor.objects.filter(tenant=tenant)
    }


def _due_in_the_past(tenant: Any, seconds: float) -> Any:
    """The tenant's scheduled poll was due `seconds` ago (queued then, still waiting for a worker)."""
    due = timezone.now() - timedelta(seconds=seconds)
    Schedule.objects.filter(name=schedule_name(tenant, "sync")).update(next_run=due)
    return due


def test_a_scheduled_poll_queued_behind_a_later_one_is_skipped_without_calling_gp_or_bill(
    synced, gp_sandbox, bill_sandbox, monkeypatch
):
    ensure_schedules(synced)
    _due_in_the_past(synced, 120)
    sync_tenant(synced.pk)  # a poll that began after the one above was due (e.g. the next one queued)
    before, rows = _cursors(synced), SyncRecord.objects.count()
    gp_sandbox.reset_stats()
    bill_sandbox.reset_stats()
    monkeypatch.setattr(Conf, "SYNC", True)  # the scheduler's task runs here, as a worker would run it

    scheduler(broker=get_broker())  # the late poll, due 2 minutes ago

    assert _requests(gp_sandbox) == 0 and _requests(bill_sandbox) == 0
    assert _cursors(synced) == before, "no cursor is written"
    assert SyncRecord.objects.count() == rows


def test_a_change_made_while_polls_were_queued_reaches_the_other_side_on_the_next_poll(
    synced, gp_sandbox, bill_sandbox
):
    """Polls due at T1 and T2 are both queued; the T2 poll runs first, a change lands in GP and in BILL,
    the T1 poll is skipped: the next poll (due after T2's started) reads both changes from the cursor."""
    t1 = timezone.now()  # after the fixture's own runs
    vendor = SyncRecord.objects.filter(tenant=synced, kind="vendor", state=State.SYNCED).first()
    bill = SyncRecord.objects.filter(tenant=synced, kind="bill", state=State.SYNCED).first()
    assert vendor and bill, "the seed synced vendors and bills"

    sync_tenant(synced.pk, due=timezone.now().isoformat())  # the T2 poll ran first
    gp_sandbox.update_vendor(vendor.source_key, Name="Renamed While Queued")
    payment = bill_sandbox.pay_bills([{"billId": bill.target_id}])
    late = sync_tenant(synced.pk, due=t1.isoformat())  # the T1 poll, taken from the queue after it

    assert late == {"skipped": "polled since this run was due"}
    assert record(synced, "vendor", vendor.source_key).snapshot["agreed"]["name"] != "Renamed While Queued"
    assert not SyncRecord.objects.filter(tenant=synced, kind="gp_payment", source_key=payment["id"]).exists()

    sync_tenant(synced.pk, due=timezone.now().isoformat())  # the next scheduled poll

    assert record(synced, "vendor", vendor.source_key).snapshot["agreed"]["name"] == "Renamed While Queued"
    assert record(synced, "gp_payment", payment["id"]).state == State.SYNCED


def test_only_the_direction_that_has_polled_since_is_skipped(synced, bill_sandbox):
    due = timezone.now()
    PollCursor.objects.update_or_create(
        tenant=synced, flow="bill_payments", defaults={"last_started_at": due + timedelta(seconds=1)}
    )
    bill = SyncRecord.objects.filter(tenant=synced, kind="bill", state=State.SYNCED).first()
    payment = bill_sandbox.pay_bills([{"billId": bill.target_id}])
    gp_started = PollCursor.objects.get(tenant=synced, flow="gp_vendors").last_started_at

    result = sync_tenant(synced.pk, due=due.isoformat())

    assert result["bill_to_gp"] == {"skipped": "polled since this run was due"}
    assert "skipped" not in result["gp_to_bill"]
    assert PollCursor.objects.get(tenant=synced, flow="gp_vendors").last_started_at > gp_started
    assert not SyncRecord.objects.filter(tenant=synced, kind="gp_payment", source_key=payment["id"]).exists()


def test_a_run_not_from_the_schedule_is_never_skipped(synced, bill_sandbox):
    """A person's run, a webhook's or the watchdog's carries no due time: it runs even right after a poll."""
    sync_tenant(synced.pk, due=timezone.now().isoformat())
    bill = SyncRecord.objects.filter(tenant=synced, kind="bill", state=State.SYNCED).first()
    payment = bill_sandbox.pay_bills([{"billId": bill.target_id}])
    started = dict(PollCursor.objects.filter(tenant=synced).values_list("flow", "last_started_at"))

    result = sync_tenant(synced.pk, Trigger.PERSON)

    assert "skipped" not in result["gp_to_bill"] and "skipped" not in result["bill_to_gp"]
    after = dict(PollCursor.objects.filter(tenant=synced).values_list("flow", "last_started_at"))
    assert all(after[flow] > started[flow] for flow in ("gp_vendors", "bill_payments"))
    assert record(synced, "gp_payment", payment["id"]).state == State.SYNCED


def test_the_tenant_poll_schedule_passes_its_due_time_and_older_schedules_get_it(synced):
    schedules = {s.func: s for s in ensure_schedules(synced)}
    assert schedules["connectors.tasks.sync_tenant"].intended_date_kwarg == DUE_KWARG
    assert all(
        s.intended_date_kwarg is None for f, s in schedules.items() if f != "connectors.tasks.sync_tenant"
    )

    Schedule.objects.filter(pk=schedules["connectors.tasks.sync_tenant"].pk).update(intended_date_kwarg=None)
    pass_due_times()  # after every migrate: schedules made before this change

    assert Schedule.objects.get(name=schedule_name(synced, "sync")).intended_date_kwarg == DUE_KWARG

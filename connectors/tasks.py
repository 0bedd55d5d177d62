"""django-q2 entry points. Thin: each calls the same function the tests and commands call."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model

from audit.models import PollCursor, Trigger, WebhookEvent
from connectors import queue, subscriptions, webhook_drain
from connectors.models import Tenant
from connectors.sync import locks, on_approval, replay, runner
from connectors.sync.bill_to_gp import events, payments
from connectors.sync.gp_to_bill import bills, vendors

GP_TO_BILL, BILL_TO_GP = "gp_to_bill", "bill_to_gp"
# The flow each direction polls first: its cursor's `last_started_at` is when the direction last began.
FIRST_FLOW = {GP_TO_BILL: vendors.FLOW, BILL_TO_GP: payments.FLOW}


def _tenant(tenant_id: int) -> Tenant:
    return Tenant.objects.select_related("gp_connection", "bill_connection").get(pk=tenant_id)


def polled_since(tenant_id: int, due: str) -> set[str]:
    """The directions that began a poll at or after `due` (one read of two cursors).

    A poll reads from its flow's cursor (the start of the last successful run) up to its own start, so
    a poll begun after a scheduled run was due reads every change that run would have read."""
    since = datetime.fromisoformat(due)
    started = dict(
        PollCursor.objects.filter(tenant_id=tenant_id, flow__in=FIRST_FLOW.values()).values_list(
            "flow", "last_started_at"
        )
    )
    return {d for d, flow in FIRST_FLOW.items() if (at := started.get(flow)) is not None and at >= since}


def sync_tenant(tenant_id: int, trigger: str = Trigger.SCHEDULE, due: str | None = None) -> dict[str, Any]:
    """Both directions for one tenant: GP → BILL, then BILL → GP (the webhook safety net).

    A tenant whose GP → BILL has never finished a run (its first load: every open invoice) has that
    direction handed to the long queue, once; this short task does only BILL → GP.

    `due` (ISO time) is passed by the tenant's schedule only (django-q2's `intended_date_kwarg`): the
    scheduler queues every due poll whether or not the last one ran, so when workers fall behind the
    queue holds several polls of one tenant. A direction that has begun a poll since this one was due is
    skipped after one read: that poll covered it. Runs without `due` (a person's, a webhook's) always run."""
    done = polled_since(tenant_id, due) if due else set()
    if done == {GP_TO_BILL, BILL_TO_GP}:
        return {"skipped": "polled since this run was due"}
    tenant = _tenant(tenant_id)
    if not tenant.is_active:
        return {"skipped": "tenant is not active"}
    out: dict[str, Any] = {}
    if GP_TO_BILL in done:
        out[GP_TO_BILL] = {"skipped": "polled since this run was due"}
    elif needs_first_load(tenant):
        out[GP_TO_BILL] = {"handed_to_long_queue": hand_off_first_load(tenant, trigger)}
    else:
        out[GP_TO_BILL] = runner.run_gp_to_bill(tenant, trigger=trigger)
    if BILL_TO_GP in done:
        out[BILL_TO_GP] = {"skipped": "polled since this run was due"}
    else:
        out[BILL_TO_GP] = runner.run_bill_to_gp(tenant, trigger=trigger)
    return out


FIRST_LOAD_LEASE = "first-load-queued"


def needs_first_load(tenant: Tenant) -> bool:
    """GP → BILL has not yet completed a run over the tenant's bills: the next run reads them all."""
    return not PollCursor.objects.filter(tenant=tenant, flow=bills.FLOW, cursor__isnull=False).exists()


def hand_off_first_load(tenant: Tenant, trigger: str) -> bool:
    """Queue the tenant's first GP → BILL run on the long queue unless one is queued or running (a
    lease held from queueing to the run's end; it expires with the long queue's timeout)."""
    name = f"{tenant.pk}:{FIRST_LOAD_LEASE}"
    # Not taken over when the short worker that queued the load has exited (django-q2 recycles its
    # workers every few hundred tasks): the load is still queued or running on the long queue. Taking
    # it over queued the same first load again, up to three times per tenant (bench tenants, N=1000).
    holder = locks.try_acquire(name, timedelta(seconds=settings.Q_LONG_TIMEOUT + 300), takeover=False)
    if holder is None:
        return False
    queue.enqueue("connectors.tasks.first_load", tenant.pk, holder, trigger, queue=queue.LONG)
    return True


def first_load(tenant_id: int, holder: str, trigger: str = Trigger.SCHEDULE) -> dict[str, Any]:
    """The long queue's GP → BILL run of a tenant's first load; frees the hand-off lease at the end."""
    try:
        tenant = _tenant(tenant_id)
        return (
            runner.run_gp_to_bill(tenant, trigger=trigger)
            if tenant.is_active
            else {"skipped": "tenant is not active"}
        )
    finally:
        locks.release(f"{tenant_id}:{FIRST_LOAD_LEASE}", holder)


def replay_records(
    ids: list[int], trigger: str = Trigger.REPLAY, user_id: int | None = None
) -> dict[str, int]:
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return replay.replay_many(ids, trigger=trigger, user=user)


def process_webhook_event(event_id: int) -> str:
    event = WebhookEvent.objects.select_related("tenant").filter(pk=event_id).first()
    if event is None:
        return "gone"
    return events.process_event(event).state


def drain_webhook_events(tenant_id: int) -> dict[str, int]:
    """The tenant's received webhook events, all of them (see connectors/webhook_drain.py)."""
    return webhook_drain.drain(tenant_id)


def webhook_watchdog(tenant_id: int) -> str:
    webhook_drain.sweep(tenant_id)  # events whose drain was lost (see connectors/webhook_drain.py)
    return subscriptions.watchdog(_tenant(tenant_id))


def mappings_approved(model_label: str, pks: list[int], user_id: int | None = None) -> None:
    """A bulk approval's follow-up, for a batch of mappings (see mappings.approval.approve_many)."""
    mappings = list(
        apps.get_model(model_label).objects.select_related("tenant").filter(pk__in=pks).order_by("pk")
    )
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    on_approval.apply_mappings(mappings, user)  # those deleted since they were queued are simply not there


def mapping_approved(model_label: str, pk: int, user_id: int | None = None) -> None:
    """Create the approved vendor/account in BILL if asked, then release what waited on it."""
    mapping = apps.get_model(model_label).objects.select_related("tenant").filter(pk=pk).first()
    if mapping is None:  # deleted since it was queued (e.g. its tenant was removed): nothing to do
        return
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    on_approval.apply_mapping(mapping, user)

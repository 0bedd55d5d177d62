"""django-q2 entry points. Thin: each calls the same function the tests and commands call."""

from __future__ import annotations

from typing import Any

from audit.models import PollCursor, Trigger, WebhookEvent
from connectors import queue
from connectors.models import Tenant
from connectors.subscriptions import watchdog
from connectors.sync import events
from connectors.sync.bills import FLOW
from connectors.sync.locks import release, try_acquire
from connectors.sync.on_approval import apply_mapping, apply_mappings
from connectors.sync.replay import replay_many
from connectors.sync.runner import run_bill_to_gp, run_gp_to_bill
from connectors.webhook_drain import drain, sweep


def _tenant(tenant_id: int) -> Tenant:
    return Tenant.objects.select_related("gp_connection", "bill_connection").get(pk=tenant_id)


def sync_tenant(tenant_id: int, trigger: str = Trigger.SCHEDULE) -> dict[str, Any]:
    """Both directions for one tenant: GP → BILL, then BILL → GP (the webhook safety net).

    A tenant whose GP → BILL has never finished a run (its first load: every open invoice) has that
    direction handed to the long queue, once; this short task does only BILL → GP."""
    tenant = _tenant(tenant_id)
    if not tenant.is_active:
        return {"skipped": "tenant is not active"}
    if needs_first_load(tenant):
        gp_to_bill: dict[str, Any] = {"handed_to_long_queue": hand_off_first_load(tenant, trigger)}
    else:
        gp_to_bill = run_gp_to_bill(tenant, trigger=trigger)
    return {"gp_to_bill": gp_to_bill, "bill_to_gp": run_bill_to_gp(tenant, trigger=trigger)}


FIRST_LOAD_LEASE = "first-load-queued"


def needs_first_load(tenant: Tenant) -> bool:
    """GP → BILL has not yet completed a run over the tenant's bills: the next run reads them all."""
    return not PollCursor.objects.filter(tenant=tenant, flow=FLOW, cursor__isnull=False).exists()


def hand_off_first_load(tenant: Tenant, trigger: str) -> bool:
    """Queue the tenant's first GP → BILL run on the long queue unless one is queued or running (a
    lease held from queueing to the run's end; it expires with the long queue's timeout)."""
    from datetime import timedelta

    from django.conf import settings

    name = f"{tenant.pk}:{FIRST_LOAD_LEASE}"
    # Not taken over when the short worker that queued the load has exited (django-q2 recycles its
    # workers every few hundred tasks): the load is still queued or running on the long queue. Taking
    # it over queued the same first load again, up to three times per tenant (bench tenants, N=1000).
    holder = try_acquire(name, timedelta(seconds=settings.Q_LONG_TIMEOUT + 300), takeover=False)
    if holder is None:
        return False
    queue.enqueue("connectors.tasks.first_load", tenant.pk, holder, trigger, queue=queue.LONG)
    return True


def first_load(tenant_id: int, holder: str, trigger: str = Trigger.SCHEDULE) -> dict[str, Any]:
    """The long queue's GP → BILL run of a tenant's first load; frees the hand-off lease at the end."""
    try:
        tenant = _tenant(tenant_id)
        return (
            run_gp_to_bill(tenant, trigger=trigger)
            if tenant.is_active
            else {"skipped": "tenant is not active"}
        )
    finally:
        release(f"{tenant_id}:{FIRST_LOAD_LEASE}", holder)


def replay_records(
    ids: list[int], trigger: str = Trigger.REPLAY, user_id: int | None = None
) -> dict[str, int]:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return replay_many(ids, trigger=trigger, user=user)


def process_webhook_event(event_id: int) -> str:
    event = WebhookEvent.objects.select_related("tenant").filter(pk=event_id).first()
    if event is None:
        return "gone"
    return events.process_event(event).state


def drain_webhook_events(tenant_id: int) -> dict[str, int]:
    """The tenant's received webhook events, all of them (see connectors/webhook_drain.py)."""
    return drain(tenant_id)


def webhook_watchdog(tenant_id: int) -> str:
    sweep(tenant_id)  # events whose drain was lost (see connectors/webhook_drain.py)
    return watchdog(_tenant(tenant_id))


def mappings_approved(model_label: str, pks: list[int], user_id: int | None = None) -> None:
    """A bulk approval's follow-up, for a batch of mappings (see mappings.approval.approve_many)."""
    from django.apps import apps
    from django.contrib.auth import get_user_model

    mappings = list(
        apps.get_model(model_label).objects.select_related("tenant").filter(pk__in=pks).order_by("pk")
    )
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    apply_mappings(mappings, user)  # those deleted since they were queued are simply not there


def mapping_approved(model_label: str, pk: int, user_id: int | None = None) -> None:
    """Create the approved vendor/account in BILL if asked, then release what waited on it."""
    from django.apps import apps
    from django.contrib.auth import get_user_model

    mapping = apps.get_model(model_label).objects.select_related("tenant").filter(pk=pk).first()
    if mapping is None:  # deleted since it was queued (e.g. its tenant was removed): nothing to do
        return
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    apply_mapping(mapping, user)

"""django-q2 entry points. Thin: each calls the same function the tests and commands call."""

from __future__ import annotations

from typing import Any

from audit.models import Trigger
from connectors.models import Tenant


def _tenant(tenant_id: int) -> Tenant:
    return Tenant.objects.select_related("gp_connection", "bill_connection").get(pk=tenant_id)


def sync_tenant(tenant_id: int, trigger: str = Trigger.SCHEDULE) -> dict[str, Any]:
    """Both directions for one tenant: GP → BILL, then BILL → GP (the webhook safety net)."""
    from connectors.sync.runner import run_bill_to_gp, run_gp_to_bill

    tenant = _tenant(tenant_id)
    if not tenant.is_active:
        return {"skipped": "tenant is not active"}
    return {"gp_to_bill": run_gp_to_bill(tenant, trigger=trigger), "bill_to_gp": run_bill_to_gp(tenant, trigger=trigger)}


def replay_records(ids: list[int], trigger: str = Trigger.REPLAY, user_id: int | None = None) -> dict[str, int]:
    from django.contrib.auth import get_user_model

    from connectors.sync.replay import replay_many

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return replay_many(ids, trigger=trigger, user=user)


def process_webhook_event(event_id: int) -> str:
    from audit.models import WebhookEvent
    from connectors.sync.events import process_event

    event = WebhookEvent.objects.select_related("tenant").filter(pk=event_id).first()
    if event is None:
        return "gone"
    return process_event(event).state


def webhook_watchdog(tenant_id: int) -> str:
    from connectors.subscriptions import watchdog

    return watchdog(_tenant(tenant_id))


def mappings_approved(model_label: str, pks: list[int], user_id: int | None = None) -> None:
    """A bulk approval's follow-up, for a batch of mappings (see mappings.approval.approve_many)."""
    from django.apps import apps
    from django.contrib.auth import get_user_model

    from connectors.sync.on_approval import apply_mappings

    mappings = list(apps.get_model(model_label).objects.select_related("tenant").filter(pk__in=pks).order_by("pk"))
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    apply_mappings(mappings, user)  # those deleted since they were queued are simply not there


def mapping_approved(model_label: str, pk: int, user_id: int | None = None) -> None:
    """Create the approved vendor/account in BILL if asked, then release what waited on it."""
    from django.apps import apps
    from django.contrib.auth import get_user_model

    from connectors.sync.on_approval import apply_mapping

    mapping = apps.get_model(model_label).objects.select_related("tenant").filter(pk=pk).first()
    if mapping is None:  # deleted since it was queued (e.g. its tenant was removed): nothing to do
        return
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    apply_mapping(mapping, user)

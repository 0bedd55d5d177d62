"""django-q2 entry points. Thin: each calls the same function the tests and commands call."""

from __future__ import annotations

from typing import Any

from audit.models import Trigger
from connectors.models import Tenant


def sync_tenant(tenant_id: int, trigger: str = Trigger.SCHEDULE) -> dict[str, Any]:
    from connectors.sync.runner import run_gp_to_bill

    tenant = Tenant.objects.select_related("gp_connection", "bill_connection").get(pk=tenant_id)
    if not tenant.is_active:
        return {"skipped": "tenant is not active"}
    return run_gp_to_bill(tenant, trigger=trigger)


def replay_records(ids: list[int], trigger: str = Trigger.REPLAY, user_id: int | None = None) -> dict[str, int]:
    from django.contrib.auth import get_user_model

    from connectors.sync.replay import replay_many

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return replay_many(ids, trigger=trigger, user=user)

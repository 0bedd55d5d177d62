"""Process one stored BILL event: re-read the object from BILL, then act as polling would."""

from __future__ import annotations

import logging

from django.utils import timezone

from audit.models import Trigger, WebhookEvent

from ..context import SyncContext
from ..errors import explain
from ..locks import flow_lock
from .payments import process_payment
from .vendors_back import apply_bill_vendor

log = logging.getLogger(__name__)


def process_event(event: WebhookEvent, ctx: SyncContext | None = None) -> WebhookEvent:
    """Idempotent: the event's object is read fresh from BILL, so repeats and reordering are harmless."""
    if event.state == WebhookEvent.PROCESSED:
        return event
    ctx = ctx or SyncContext.for_tenant(event.tenant, trigger=Trigger.WEBHOOK)
    family = event.event_type.split(".", 1)[0]
    try:
        if family == "payment" and event.event_type == "payment.updated":
            with flow_lock(f"{event.tenant_id}:payment:{event.entity_id}") as held:
                if not held:  # another worker is writing this payment right now; polling re-checks
                    _done(event, WebhookEvent.IGNORED, "another worker was processing this payment")
                    return event
                process_payment(ctx, ctx.bill.get_payment(event.entity_id))
        elif family == "vendor":
            apply_bill_vendor(ctx, ctx.bill.get_vendor(event.entity_id))
        else:
            # bill.* and payment.failed change nothing in GP; the trail of the bill shows BILL's side.
            _done(event, WebhookEvent.IGNORED, "")
            return event
    except Exception as exc:
        log.exception("webhook event %s failed", event.event_id)
        _done(event, WebhookEvent.FAILED, explain(exc))
        raise
    _done(event, WebhookEvent.PROCESSED, "")
    return event


def _done(event: WebhookEvent, state: str, error: str) -> None:
    event.state = state
    event.error = error
    event.processed_at = timezone.now()
    event.save(update_fields=["state", "error", "processed_at"])

"""Stored BILL events are processed by one queued *drain* per tenant, not one task per delivery.

Why: queuing a django-q2 task for every delivery (build, pickle and sign the package, RPUSH) was
≈ 0.8 ms of the webhook endpoint's ≈ 2.5 ms of CPU. Now a delivery, once its event is committed,
sets a per-tenant flag "a drain is pending" (Redis SET NX with a TTL; a FlowLease row without Redis)
and queues a drain only when it was the one to set it. A burst of deliveries queues one drain.

Why nothing is left behind: the drain clears the flag *before* it reads the tenant's received events. A
delivery that found the flag set had committed its event before that clear, so the drain's read (after
the clear) sees it; a delivery that comes after the clear sets the flag anew and queues the next drain.
The flag's TTL bounds the harm of a lost drain (worker killed, queue flushed): after it, the next
delivery queues a drain, which takes every received event of the tenant, old ones included; and without a
next delivery, the tenant's webhook watchdog (every 15 minutes) does (sweep). If the flag expires while
its drain still waits in the queue, two drains may run: an event processed twice is harmless
(process_event re-reads the object from BILL; a payment is written under its own flow lock and its
ledger).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import FlowLease, WebhookEvent
from connectors.queue import enqueue
from connectors.sync.bill_to_gp import events

log = logging.getLogger(__name__)
FLAG_TTL = timedelta(seconds=120)
HOLDER = "webhook-drain"
_clients: dict[str, Any] = {}


def flag_name(tenant_id: int) -> str:
    return f"{tenant_id}:webhook-drain"


def _redis() -> Any:
    """One client (and connection pool) per process: a new one per delivery would cost a TCP connect."""
    url = settings.REDIS_URL
    if url not in _clients:
        import redis

        _clients[url] = redis.Redis.from_url(url)
    return _clients[url]


def _set_flag(tenant_id: int) -> bool:
    """True when this call set the flag (no drain was pending): the caller must queue one."""
    name = flag_name(tenant_id)
    if settings.REDIS_URL:
        return bool(
            _redis().set(f"mlc:lock:{name}", HOLDER, nx=True, px=int(FLAG_TTL.total_seconds() * 1000))
        )
    now = timezone.now()
    if FlowLease.objects.filter(name=name, expires_at__lt=now).update(expires_at=now + FLAG_TTL):
        return True  # a stale flag (its drain was lost): taken over
    try:
        with transaction.atomic():
            FlowLease.objects.create(name=name, holder=HOLDER, expires_at=now + FLAG_TTL)
        return True
    except IntegrityError:
        return False


def clear_flag(tenant_id: int) -> None:
    name = flag_name(tenant_id)
    if settings.REDIS_URL:
        _redis().delete(f"mlc:lock:{name}")
        return
    FlowLease.objects.filter(name=name).delete()


def request_drain(tenant_id: int) -> bool:
    """Call after an event of the tenant is committed. Returns whether a drain was queued."""
    if not _set_flag(tenant_id):
        return False
    enqueue("connectors.tasks.drain_webhook_events", tenant_id)
    return True


def sweep(tenant_id: int) -> bool:
    """For the tenant's webhook watchdog (every 15 minutes): an event still waiting longer than a flag
    lives means its drain was lost and no delivery came since to queue another; queue one now."""
    cutoff = timezone.now() - FLAG_TTL
    if WebhookEvent.objects.filter(
        tenant_id=tenant_id, state=WebhookEvent.RECEIVED, received_at__lt=cutoff
    ).exists():
        return request_drain(tenant_id)
    return False


def drain(tenant_id: int) -> dict[str, int]:
    """Process every received event of the tenant, oldest first; one failure does not stop the rest."""
    clear_flag(tenant_id)  # first: a delivery committed after this line queues the next drain
    counts: dict[str, int] = {}
    received = WebhookEvent.objects.filter(tenant_id=tenant_id, state=WebhookEvent.RECEIVED)
    for event_pk in list(received.order_by("pk").values_list("pk", flat=True)):
        event = received.select_related("tenant").filter(pk=event_pk).first()
        if event is None:  # processed meanwhile by another drain
            continue
        try:
            state = events.process_event(event).state
        except Exception:  # process_event stored it as failed with the reason; go on with the others
            state = WebhookEvent.FAILED
        counts[state] = counts.get(state, 0) + 1
    return counts

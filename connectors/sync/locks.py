"""Flow locks: two runs of the same (tenant, flow) never overlap, across processes and hosts.

A lease that expires, so a worker killed mid-run does not block its flow for ever; a lease whose
holder is a process of this host that no longer exists is taken over at once. Redis when REDIS_URL
is set (SET NX PX), the database otherwise.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import FlowLease

DEFAULT_TTL = timedelta(minutes=30)
_RELEASE_LUA = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
)
_TAKE_OVER_LUA = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) else return 0 end"
)


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_is_dead(holder: str) -> bool:
    from audit.ledger import writer_is_dead

    return writer_is_dead(holder.rpartition(":")[0])


def _redis() -> Any:  # pragma: no cover - exercised by the services suite
    """Any: redis-py types each answer `T | Awaitable[T]` (its sync and async clients in one)."""
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def try_acquire(name: str, ttl: timedelta = DEFAULT_TTL, takeover: bool = True) -> str | None:
    """Take the lease `name`; returns a holder token, or None when someone else holds it.

    `takeover=False`: a lease whose taker has exited is not taken over (it lasts until released or
    expired), for a lease that outlives the process taking it (one taken to queue work elsewhere)."""
    holder = _holder()
    if settings.REDIS_URL:
        client, key, px = _redis(), f"mlc:lock:{name}", int(ttl.total_seconds() * 1000)
        if client.set(key, holder, nx=True, px=px):
            return holder
        current = client.get(key)
        current = current.decode() if isinstance(current, bytes) else current
        dead = takeover and current and _holder_is_dead(current)
        if dead and client.eval(_TAKE_OVER_LUA, 1, key, current, holder, px):
            return holder
        return None
    now = timezone.now()
    with transaction.atomic():
        if FlowLease.objects.filter(name=name, expires_at__lt=now).update(
            holder=holder, expires_at=now + ttl
        ):
            return holder
        current = FlowLease.objects.filter(name=name).values_list("holder", flat=True).first()
        if takeover and current and _holder_is_dead(current):
            taken = FlowLease.objects.filter(name=name, holder=current).update(
                holder=holder, expires_at=now + ttl
            )
            return holder if taken else None
        try:
            with transaction.atomic():
                FlowLease.objects.create(name=name, holder=holder, expires_at=now + ttl)
            return holder
        except IntegrityError:
            return None


def release(name: str, holder: str) -> None:
    if settings.REDIS_URL:
        _redis().eval(_RELEASE_LUA, 1, f"mlc:lock:{name}", holder)
        return
    FlowLease.objects.filter(name=name, holder=holder).delete()


@contextmanager
def flow_lock(name: str, ttl: timedelta = DEFAULT_TTL) -> Iterator[bool]:
    """Yields True with the lease held, False when another run holds it (the caller skips)."""
    holder = try_acquire(name, ttl)
    try:
        yield holder is not None
    finally:
        if holder:
            release(name, holder)

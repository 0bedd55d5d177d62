"""Flow locks: two runs of the same (tenant, flow) never overlap, across processes and hosts.

A flow lock is a lease (`audit.leases`): it expires, so a worker killed mid-run does not block its flow
for ever, and a lease whose holder is a process of this host that no longer exists is taken over at once.
Redis when REDIS_URL is set, the database otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from audit.leases import Lease, leases

DEFAULT_TTL = timedelta(minutes=30)


def try_acquire(name: str, ttl: timedelta = DEFAULT_TTL, takeover: bool = True) -> str | None:
    """Take the lease `name`; returns a holder token, or None when someone else holds it.

    `takeover=False`: a lease whose taker has exited is not taken over (it lasts until released or
    expired), for a lease that outlives the process taking it (one taken to queue work elsewhere)."""
    lease = leases().acquire([name], ttl, takeover=takeover)
    return lease.holder if lease else None


def release(name: str, holder: str) -> None:
    leases().release(Lease(name, holder))


@contextmanager
def flow_lock(name: str, ttl: timedelta = DEFAULT_TTL) -> Iterator[bool]:
    """Yields True with the lease held, False when another run holds it (the caller skips)."""
    holder = try_acquire(name, ttl)
    try:
        yield holder is not None
    finally:
        if holder:
            release(name, holder)

"""The BILL gate: at most BILL_CONCURRENCY_LIMIT calls in flight per org across every process and host,
and BILL's hourly limits counted, in the database or in Redis when REDIS_URL is set.

BILL's rate-limit page: 20,000 calls and 200 sign-ins per hour *per developer key*, across every
organization that uses the key; 3 concurrent calls per organization. So slots are per org, and the
hour's calls and sign-ins are counted per developer key (`DevKey`: a fingerprint, never the key) and
shared fairly between the orgs using it: each org is guaranteed budget ÷ orgs and takes no more while
the others are still configured (an idle org's part is kept for it, not lent) — one busy tenant cannot
spend the hour of the others.

Slots are leases (`audit.leases`) that expire, so a worker killed mid-call frees its slot after
`lease_seconds` (at once when it was a process of this host). The gate also offers a named mutex, a
lease too, that the session layer uses to log in once.
"""

from __future__ import annotations

import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.leases import DatabaseLeases, Lease, Leases, RedisLeases
from connectors.models import BillConnection, BillHourlyUsage

from .http import BillError

DEFAULT_WAIT_SECONDS = 300.0
REQUESTS, LOGINS = "requests", "logins"


@dataclass(frozen=True)
class DevKey:
    """A developer key as the gate counts it: its fingerprint and the orgs configured with it."""

    id: str
    orgs: frozenset[str]

    @classmethod
    def alone(cls, org_id: str) -> DevKey:
        """An org whose key is unknown counts on its own (as if it had a key to itself)."""
        return cls(f"org:{org_id}", frozenset({org_id}))


def fair_allows(
    used: dict[str, int], org_id: str, members: frozenset[str], requests: int, budget: int
) -> bool:
    """Whether `org_id` may count `requests` more this hour: the key's budget less what the other orgs
    have used or are still guaranteed must leave room for them. Each org configured with the key
    (`members`) is guaranteed an equal share; an org no longer configured keeps only what it used."""
    members = members | {org_id}
    share = budget // len(members)
    others = sum(
        max(used.get(o, 0), share) if o in members else n
        for o, n in {**dict.fromkeys(members, 0), **used}.items()
        if o != org_id
    )
    return used.get(org_id, 0) + requests + others <= budget


def key_of(connection: Any) -> DevKey:
    """The DevKey of a BillConnection: its key's fingerprint and every active org configured with it."""
    if not connection.dev_key_id:
        return DevKey.alone(connection.organization_id)
    orgs = BillConnection.objects.filter(dev_key_id=connection.dev_key_id, tenant__is_active=True)
    return DevKey(
        connection.dev_key_id,
        frozenset(orgs.values_list("organization_id", flat=True)) | {connection.organization_id},
    )


class BillGate(ABC):
    """Shared limits for one BILL org: slots and the mutex are leases (`audit.leases`); subclasses count the
    hour (and say which lease backend holds the slots)."""

    def __init__(
        self,
        leases: Leases,
        limit: int = 3,
        hourly_budget: int = 20000,
        lease_seconds: float = 150.0,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        hourly_logins: int = 200,
    ) -> None:
        self.leases = leases
        self.limit = limit
        self.hourly_budget = hourly_budget
        self.hourly_logins = hourly_logins
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds
        self.sleep = sleep
        # Threads of this process waiting for a slot are woken as soon as one of them frees it, rather
        # than at their next poll; waiters in other processes still poll (and take any expired lease).
        self._freed = threading.Condition()

    def slot_names(self, org_id: str) -> list[str]:
        """The org's call slots: one lease each."""
        return [f"bill:{org_id}:slot:{n}" for n in range(self.limit)]

    @contextmanager
    def acquire(
        self, org_id: str, lease_seconds: float | None = None, key: DevKey | None = None
    ) -> Iterator[None]:
        """Hold one of the org's slots for one BILL request (plus a re-login, if it needs one)."""
        ttl = timedelta(seconds=lease_seconds or self.lease_seconds)
        slots = self.slot_names(org_id)

        def take() -> Lease | None:
            return self.leases.acquire(random.sample(slots, len(slots)), ttl)  # spread over the slots

        lease = self._wait_for(take, f"all {self.limit} BILL call slots")
        try:
            self.spend(org_id, key=key)
            yield
        finally:
            self.leases.release(lease)
            self._wake()

    @contextmanager
    def mutex(self, org_id: str, name: str, lease_seconds: float = 90.0) -> Iterator[None]:
        """One holder at a time for `name` in this org (e.g. "login"), across processes."""
        names, ttl = [f"bill:{org_id}:mutex:{name}"], timedelta(seconds=lease_seconds)
        lease = self._wait_for(lambda: self.leases.acquire(names, ttl), f"the BILL {name} lock")
        try:
            yield
        finally:
            self.leases.release(lease)
            self._wake(every=True)

    def in_use(self, org_id: str) -> int:
        """Slots held now (for tests and the admin)."""
        return self.leases.held(self.slot_names(org_id))

    def spend(self, org_id: str, requests: int = 1, key: DevKey | None = None) -> None:
        """Count requests against this hour's budget of the developer key; a retryable BillError once this
        org's fair part of it is used up."""
        key = key or DevKey.alone(org_id)
        if not self._count(key, org_id, requests, REQUESTS, self.hourly_budget):
            raise BillError(
                f"This organization's part of the developer key's budget of {self.hourly_budget} BILL "
                f"requests "
                f"for this hour ({len(key.orgs)} organization(s) share it) is used up; "
                "calls resume at the start of the next hour.",
                retryable=True,
                code="HOURLY_BUDGET",
            )

    def spend_login(self, org_id: str, key: DevKey | None = None) -> None:
        """Count one sign-in against the developer key's hourly sign-ins (BILL: 200); BillError when spent."""
        key = key or DevKey.alone(org_id)
        if not self._count(key, org_id, 1, LOGINS, self.hourly_logins):
            raise BillError(
                f"This organization's part of the developer key's {self.hourly_logins} BILL sign-ins for "
                f"this "
                "hour is used up; the connector signs in again at the start of the next hour.",
                retryable=False,
                code="HOURLY_LOGINS",
            )

    def _wait_for(self, take: Callable[[], Lease | None], what: str) -> Lease:
        deadline = time.monotonic() + self.wait_seconds
        pause = 0.005
        while (lease := take()) is None:
            if time.monotonic() > deadline:
                raise BillError(
                    f"Waited {self.wait_seconds:g} s for {what}; they stayed busy.", retryable=True
                )
            self._pause(pause + random.random() * pause)
            pause = min(pause * 1.5, 0.1)
        return lease

    def _pause(self, seconds: float) -> None:
        if self.sleep is time.sleep:
            with self._freed:
                self._freed.wait(seconds)
        else:  # a test's clock
            self.sleep(seconds)

    def _wake(self, every: bool = False) -> None:
        with self._freed:
            self._freed.notify_all() if every else self._freed.notify()

    @abstractmethod
    def _count(self, key: DevKey, org_id: str, requests: int, what: str, budget: int) -> bool:
        """Add `requests` to the org's count of `what` this hour unless `fair_allows` says no; False then."""

    @abstractmethod
    def used_this_hour(self, key: DevKey, what: str = REQUESTS) -> dict[str, int]:
        """Counted this clock hour per org using the key (for the dashboard)."""


class DatabaseGate(BillGate):
    """Slots are FlowLease rows (`DatabaseLeases`); the hour is counted in BillHourlyUsage rows.

    The hourly budget is reserved from the database `BUDGET_CHUNK` requests at a time per process, so
    counting adds a write per chunk, not per call; the count may run ahead by a chunk per process.
    """

    BUDGET_CHUNK = 20

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(DatabaseLeases(), **kwargs)
        self._reserved: dict[tuple[str, str, datetime], int] = {}

    def _count(self, key: DevKey, org_id: str, requests: int, what: str, budget: int) -> bool:
        if what != REQUESTS:  # sign-ins are few: counted one by one
            return self._reserve(key, org_id, _this_hour(), requests, what, budget)
        slot = (key.id, org_id, _this_hour())
        have = self._reserved.get(slot, 0)
        if have >= requests:
            self._reserved[slot] = have - requests
            return True
        self._reserved = {slot: have}  # forget past hours
        for chunk in (min(max(requests, self.BUDGET_CHUNK), budget), requests):
            if self._reserve(key, org_id, slot[2], chunk, what, budget):
                self._reserved[slot] = have + chunk - requests
                return True
        return False

    def _reserve(
        self, key: DevKey, org_id: str, hour: datetime, requests: int, what: str, budget: int
    ) -> bool:
        """Count under the key's total row ("*"): updating it first serialises the key's counting (the row
        lock on PostgreSQL, the write lock on SQLite), so every org's count read after it is current."""
        if requests > budget:
            return False
        BillHourlyUsage.objects.bulk_create(
            [BillHourlyUsage(dev_key_id=key.id, organization_id=o, hour=hour) for o in ("*", org_id)],
            ignore_conflicts=True,
        )
        rows = BillHourlyUsage.objects.filter(dev_key_id=key.id, hour=hour)
        with transaction.atomic():
            rows.filter(organization_id="*").update(**{what: F(what) + 0})
            used = dict(rows.exclude(organization_id="*").values_list("organization_id", what))
            if not fair_allows(used, org_id, key.orgs, requests, budget):
                return False
            rows.filter(organization_id__in=["*", org_id]).update(**{what: F(what) + requests})
        return True

    def used_this_hour(self, key: DevKey, what: str = REQUESTS) -> dict[str, int]:
        # Reserved in chunks per process, so this can run ahead of the calls made by a chunk or so.
        rows = BillHourlyUsage.objects.filter(dev_key_id=key.id, hour=_this_hour()).exclude(
            organization_id="*"
        )
        return dict(rows.values_list("organization_id", what))


# fair_allows in Lua: KEYS[1] is the hash org -> count for (key, what, hour); ARGV = org, n, budget,
# members...
_COUNT = """
local org, n, budget = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local used, members, count = {}, {}, 0
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do used[flat[i]] = tonumber(flat[i + 1]) end
for i = 4, #ARGV do members[ARGV[i]] = true end
members[org] = true
for _ in pairs(members) do count = count + 1 end
local share = math.floor(budget / count)
local others = 0
for o in pairs(members) do
  if o ~= org then others = others + math.max(used[o] or 0, share) end
end
for o, u in pairs(used) do
  if not members[o] then others = others + u end
end
if (used[org] or 0) + n + others > budget then return 0 end
redis.call('HINCRBY', KEYS[1], org, n)
redis.call('EXPIRE', KEYS[1], 7200)
return 1
"""


class RedisGate(BillGate):
    """Slots are Redis leases (`RedisLeases`); the hour is counted in a hash per key, by a Lua script.

    `prefix` names the hour counters only; leases have the one key scheme of `audit.leases`."""

    def __init__(self, client: Any, prefix: str = "ml-connector:bill", **kwargs: Any) -> None:
        super().__init__(RedisLeases(client), **kwargs)
        self.redis = client
        self.prefix = prefix
        self._count_script = client.register_script(_COUNT)

    def _key(self, *parts: str) -> str:
        return ":".join([self.prefix, *parts])

    def _hour_key(self, key: DevKey, what: str) -> str:
        return self._key("hour", key.id, what, _this_hour().strftime("%Y%m%d%H"))

    def _count(self, key: DevKey, org_id: str, requests: int, what: str, budget: int) -> bool:
        args = [org_id, requests, budget, *sorted(key.orgs)]
        return bool(self._count_script(keys=[self._hour_key(key, what)], args=args))

    def used_this_hour(self, key: DevKey, what: str = REQUESTS) -> dict[str, int]:
        raw = self.redis.hgetall(self._hour_key(key, what))
        return {k.decode(): int(v) for k, v in raw.items()}


def _this_hour() -> datetime:
    return timezone.now().replace(minute=0, second=0, microsecond=0)


_gates: dict[tuple[str, int, int, int], BillGate] = {}


def gate_for(config: Any = settings, timeout_seconds: float = 60.0) -> BillGate:
    """The process's gate for these settings: Redis when REDIS_URL is set, else the database.

    The lease outlives one request plus one re-login, each bounded by `timeout_seconds`.
    """
    redis_url = getattr(config, "REDIS_URL", "") or ""
    limit = int(getattr(config, "BILL_CONCURRENCY_LIMIT", 3))
    budget = int(getattr(config, "BILL_HOURLY_BUDGET", 20000))
    logins = int(getattr(config, "BILL_HOURLY_LOGINS", 200))
    lease = 2 * timeout_seconds + 30
    key = (redis_url, limit, budget, logins)
    gate = _gates.get(key)
    if gate is None:
        options: dict[str, Any] = {"limit": limit, "hourly_budget": budget, "hourly_logins": logins}
        if redis_url:
            gate = RedisGate(redis.Redis.from_url(redis_url), **options)
        else:
            gate = DatabaseGate(**options)
        _gates[key] = gate
    gate.lease_seconds = max(gate.lease_seconds, lease)
    return gate


def reset_gates() -> None:
    """Test hook: forget the cached gates (e.g. after changing settings)."""
    _gates.clear()

"""Leases: one holder per name across processes and hosts, for a while. The one lease mechanism of the app.

Flow locks (two runs of one flow never overlap), the BILL gate's call slots (an org's N slots are the N
leases `bill:<org>:slot:<n>`) and its login mutex all take leases here. A lease expires, so a holder
killed mid-work blocks nobody for ever; a lease whose holder is a process of this host that no longer
exists is taken over at once (`takeover`), the same test the ledger uses for a row left `sending`
(`writer_is_dead`). Holders are named after their writer (`host:pid:random`), so that test can be made.

Two backends with the same rules: rows of `FlowLease` (SQLite, PostgreSQL) and Redis keys
`mlc:lock:<name>` (SET NX PX, expiry on Redis's clock), chosen by REDIS_URL.
"""

from __future__ import annotations

import os
import socket
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import FlowLease

# Every lease's Redis key is PREFIX + its name; the only key scheme leases have.
PREFIX = "mlc:lock:"
HOST = socket.gethostname()
_HOLDER_MAX = 120  # FlowLease.holder's length

_RELEASE_LUA = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
)
_TAKE_OVER_LUA = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) else return 0 end"
)


def writer_id() -> str:
    """Who is writing: host and process, so a row left `sending` by a dead process can be told apart."""
    return f"{HOST}:{os.getpid()}"[:_HOLDER_MAX]


def writer_is_dead(writer: str) -> bool:
    """True only when the writer surely is gone: a process of this host that no longer exists.
    Another host's writer, or an unreadable one, is never declared dead (time decides for those)."""
    host, _, pid = writer.rpartition(":")
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but is not ours to signal
        return False
    return _is_zombie(int(pid))


def _is_zombie(pid: int) -> bool:
    # A killed child its parent has not reaped yet still answers signal 0; it runs nothing.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def new_holder() -> str:
    """A holder token: the writer and a random part (threads of one process hold leases apart)."""
    return f"{writer_id()[: _HOLDER_MAX - 9]}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str) -> bool:
    """Whether a lease's holder surely is gone (see `writer_is_dead`); tokens of another form never are."""
    return writer_is_dead(holder.rpartition(":")[0])


@dataclass(frozen=True)
class Lease:
    """A lease held: its name and the holder token that alone may release it."""

    name: str
    holder: str


class Leases(ABC):
    """A backend. `acquire` looks before it writes: waiters that poll a busy lease only read."""

    def acquire(self, names: Sequence[str], ttl: timedelta, *, takeover: bool = True) -> Lease | None:
        """Take one of `names` (tried in the order given) for `ttl`; None when every one is held.

        `takeover=False`: a lease whose holder has exited is not taken over (it lasts until released or
        expired), for a lease that outlives the process taking it (one taken to queue work elsewhere)."""
        holder = new_holder()
        current = self._holders(names)
        for name in names:
            if name not in current and self._take_free(name, holder, ttl):
                return Lease(name, holder)
        for name, was in current.items():
            if takeover and holder_is_dead(was) and self._take_over(name, was, holder, ttl):
                return Lease(name, holder)
        return None

    def held(self, names: Sequence[str]) -> int:
        """How many of `names` are held now."""
        return len(self._holders(names))

    @abstractmethod
    def release(self, lease: Lease) -> None:
        """Free the lease if this holder still has it (a late release never frees a successor's)."""

    @abstractmethod
    def _holders(self, names: Sequence[str]) -> dict[str, str]:
        """The live (unexpired) holder of each of `names` that is held."""

    @abstractmethod
    def _take_free(self, name: str, holder: str, ttl: timedelta) -> bool: ...

    @abstractmethod
    def _take_over(self, name: str, was: str, holder: str, ttl: timedelta) -> bool:
        """Take the lease from holder `was`, only if it still holds it."""


class DatabaseLeases(Leases):
    """Rows of FlowLease; a lease is taken by a conditional UPDATE or an INSERT on its unique name, so it
    is atomic on SQLite and PostgreSQL alike. A released lease's row is deleted."""

    def _holders(self, names: Sequence[str]) -> dict[str, str]:
        live = FlowLease.objects.filter(name__in=names, expires_at__gte=timezone.now())
        return dict(live.values_list("name", "holder"))

    def _take_free(self, name: str, holder: str, ttl: timedelta) -> bool:
        now = timezone.now()
        if FlowLease.objects.filter(name=name, expires_at__lt=now).update(
            holder=holder, expires_at=now + ttl
        ):
            return True
        try:
            with transaction.atomic():  # a savepoint: a lost race must not break the caller's transaction
                FlowLease.objects.create(name=name, holder=holder, expires_at=now + ttl)
            return True
        except IntegrityError:
            return False

    def _take_over(self, name: str, was: str, holder: str, ttl: timedelta) -> bool:
        rows = FlowLease.objects.filter(name=name, holder=was)
        return rows.update(holder=holder, expires_at=timezone.now() + ttl) == 1

    def release(self, lease: Lease) -> None:
        FlowLease.objects.filter(name=lease.name, holder=lease.holder).delete()


class RedisLeases(Leases):
    """Keys PREFIX + name holding the holder token, with Redis's own expiry (host clocks do not matter)."""

    def __init__(self, client: Any) -> None:
        """`client`: Any, since redis-py types each answer `T | Awaitable[T]` (its sync and async clients)."""
        self.redis = client

    def _holders(self, names: Sequence[str]) -> dict[str, str]:
        values = self.redis.mget([PREFIX + n for n in names]) if names else []
        pairs = zip(names, values, strict=True)
        return {n: v.decode() if isinstance(v, bytes) else v for n, v in pairs if v is not None}

    def _take_free(self, name: str, holder: str, ttl: timedelta) -> bool:
        return bool(self.redis.set(PREFIX + name, holder, nx=True, px=_ms(ttl)))

    def _take_over(self, name: str, was: str, holder: str, ttl: timedelta) -> bool:
        return bool(self.redis.eval(_TAKE_OVER_LUA, 1, PREFIX + name, was, holder, _ms(ttl)))

    def release(self, lease: Lease) -> None:
        self.redis.eval(_RELEASE_LUA, 1, PREFIX + lease.name, lease.holder)


def _ms(ttl: timedelta) -> int:
    return max(1, int(ttl.total_seconds() * 1000))


_backends: dict[str, Leases] = {}


def leases(redis_url: str | None = None) -> Leases:
    """The backend for REDIS_URL (or `redis_url`): Redis when set, else the database; one per URL."""
    url = settings.REDIS_URL if redis_url is None else redis_url
    backend = _backends.get(url)
    if backend is None:
        backend = RedisLeases(redis.Redis.from_url(url)) if url else DatabaseLeases()
        _backends[url] = backend
    return backend

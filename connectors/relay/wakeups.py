"""Wake-ups for the relay: whoever waits (the connector for an answer, a held agent poll for a new
request) sleeps on an event and is woken the moment the row it waits for changes, instead of
re-reading it in a loop.

A change signals a key (`t<tenant id>`: new work for that tenant; `r<request id>`: that request was
answered) after its transaction commits. Waiters of this process are woken at once; other processes
(gunicorn workers, the agent bench's client) hear it through one listener thread per process:
Redis pub/sub when REDIS_URL is set, else PostgreSQL LISTEN/NOTIFY, else nothing is needed (SQLite
runs the connector in one process). One thread per process, not per waiter or agent. A lost signal
(the listener reconnecting) costs at most RECHECK_SECONDS: waiters re-read their row that often.
On PostgreSQL the database sends the NOTIFY itself (a trigger, migration 0011), in the statement that
queues or answers the request: no extra round trip.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger(__name__)
RECHECK_SECONDS = 0.25  # a waiter re-reads its row at least this often, in case a wake-up was lost
PG_CHANNEL = "mlc_relay"

_lock = threading.Lock()
_waiters: dict[str, set[threading.Event]] = {}
_listener: tuple[int, threading.Thread] | None = None  # (pid, thread): a forked worker starts its own
_redis: Any = None


def _channel() -> str:
    """The Redis channel: pub/sub ignores the db number, so the database's name keeps installs apart."""
    return f"mlc:relay:{settings.DATABASES['default'].get('NAME', '')}"


def backend() -> str:
    if getattr(settings, "REDIS_URL", ""):
        return "redis"
    return "postgresql" if connection.vendor == "postgresql" else "local"


# --- this process -------------------------------------------------------------------------------------
def _wake_here(key: str) -> None:
    with _lock:
        events = list(_waiters.get(key, ()))
    for event in events:
        event.set()


@contextmanager
def watching(keys: Iterable[str]) -> Iterator[threading.Event]:
    """An event set whenever one of `keys` is signalled while the block runs. Clear it, re-read the
    row, then wait on it: a signal between the two is never lost."""
    keys = list(keys)
    _ensure_listener()
    event = threading.Event()
    with _lock:
        for key in keys:
            _waiters.setdefault(key, set()).add(event)
    try:
        yield event
    finally:
        with _lock:
            for key in keys:
                waiting = _waiters.get(key)
                if waiting is not None:
                    waiting.discard(event)
                    if not waiting:
                        del _waiters[key]


def signal(key: str, *, sent_by_database: bool = False) -> None:
    """Wake the waiters of `key` here and in every other process, once the current transaction commits.
    `sent_by_database`: on PostgreSQL the relay's trigger has sent it already (queued, answered)."""
    transaction.on_commit(lambda: _publish(key, sent_by_database))


def _publish(key: str, sent_by_database: bool) -> None:
    _wake_here(key)
    kind = backend()
    try:
        if kind == "redis":
            _redis_client().publish(_channel(), key)
        elif kind == "postgresql" and not sent_by_database:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, %s)", [PG_CHANNEL, key])
    except Exception as exc:  # noqa: BLE001 - a lost wake-up only delays a waiter by RECHECK_SECONDS
        log.warning("relay wake-up %s not published (%s)", key, type(exc).__name__)


# --- other processes: one listener thread -------------------------------------------------------------
def _redis_client() -> Any:
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.REDIS_URL)
    return _redis


def _ensure_listener() -> None:
    global _listener
    kind = backend()
    if kind == "local":
        return
    pid = os.getpid()
    with _lock:
        if _listener is not None and _listener[0] == pid and _listener[1].is_alive():
            return
        target = _listen_redis if kind == "redis" else _listen_postgresql
        ready = threading.Event()
        thread = threading.Thread(target=_forever, args=(target, ready), name="relay-wakeups", daemon=True)
        _listener = (pid, thread)
        thread.start()
    ready.wait(2.0)  # subscribed before the first wait, so its first signal is heard


def _forever(listen: Any, ready: threading.Event) -> None:
    delay = 0.5
    while True:
        try:
            listen(ready)
        except Exception as exc:  # noqa: BLE001 - reconnect; waiters re-read meanwhile
            log.warning("relay wake-up listener lost its connection (%s); reconnecting", type(exc).__name__)
        ready.set()
        threading.Event().wait(delay)
        delay = min(delay * 2, 10.0)


def _listen_redis(ready: threading.Event) -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(_channel())
    ready.set()
    for message in pubsub.listen():
        if message and message.get("type") == "message":
            data = message["data"]
            _wake_here(data.decode() if isinstance(data, bytes) else str(data))


def _listen_postgresql(ready: threading.Event) -> None:
    import psycopg

    params = dict(connection.get_connection_params())
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    listener = psycopg.connect(**params, autocommit=True)
    try:
        listener.execute(f"LISTEN {PG_CHANNEL}")
        ready.set()
        while True:
            for notice in listener.notifies(timeout=30.0):
                _wake_here(notice.payload)
            listener.execute("SELECT 1")  # a dead connection raises here and is made again
    finally:
        listener.close()

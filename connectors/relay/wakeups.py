"""Wake-ups for the relay: whoever waits (the connector for an answer, a held agent poll for a new
request) sleeps on an event and is woken the moment the row it waits for changes, instead of
re-reading it in a loop.

A change signals a key (`t<tenant id>`: new work for that tenant; `r<request id>`: that request was
answered) after its transaction commits. Waiters of this process are woken at once; other processes
(gunicorn workers, qcluster workers) hear it through a listener thread: Redis pub/sub when REDIS_URL
is set, else PostgreSQL LISTEN/NOTIFY, else nothing is needed (SQLite runs the connector in one
process). At most two threads per process, not one per waiter or agent, and each hears only what it
waits for: "new work" goes to the channel that processes holding agent polls listen to (gunicorn),
and an answer goes to the one process that queued the request — its request IDs start with the
process's tag (`new_request_id`), which names its own answer channel. So a connector with many
worker processes does not wake every one of them for every answer. A lost signal (a listener
reconnecting, or a wait for another process's request) costs at most RECHECK_SECONDS: waiters re-read
their row that often. On PostgreSQL the database sends the NOTIFY itself (a trigger, migrations 0012
and 0013), in the statement that queues or answers the request: no extra round trip.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger(__name__)
RECHECK_SECONDS = 0.25  # a waiter re-reads its row at least this often, in case a wake-up was lost
PG_WORK_CHANNEL, PG_ANSWER_CHANNEL = "mlc_relay_work", "mlc_relay_a"  # the latter + a process tag

_lock = threading.Lock()
_waiters: dict[str, set[threading.Event]] = {}
_listeners: dict[
    str, tuple[int, threading.Thread]
] = {}  # "work"/"answers" → (pid, thread); a fork starts its own
_redis: Any = None
_tag: tuple[int, str] | None = None  # (pid, 8 hex digits)


def process_tag() -> str:
    """This process's tag: the first 8 hex digits of the request IDs it makes (a forked worker gets its
    own)."""
    global _tag
    pid = os.getpid()
    if _tag is None or _tag[0] != pid:
        _tag = (pid, uuid.uuid4().hex[:8])
    return _tag[1]


def new_request_id() -> uuid.UUID:
    """A random request ID whose first 8 hex digits are this process's tag (its answer channel)."""
    return uuid.UUID(process_tag() + uuid.uuid4().hex[8:])


def _kind(key: str) -> str:
    return "work" if key.startswith("t") else "answers"


def _channel(key: str) -> str:
    """Where a key is published: the work channel, or the answer channel of the process that queued the
    request (its ID's first 8 hex digits). Redis pub/sub ignores the db number, so the database's name
    keeps installs apart; PostgreSQL's NOTIFY is per database already."""
    if backend() == "redis":
        prefix = f"mlc:relay:{settings.DATABASES['default'].get('NAME', '')}:"
        return prefix + ("work" if _kind(key) == "work" else "a" + key[1:].replace("-", "")[:8])
    return PG_WORK_CHANNEL if _kind(key) == "work" else PG_ANSWER_CHANNEL + key[1:].replace("-", "")[:8]


def _own_channel(kind: str) -> str:
    return _channel("t" if kind == "work" else "r" + process_tag())


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
    for kind in {_kind(key) for key in keys}:
        _ensure_listener(kind)
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
    signal_all([key], sent_by_database=sent_by_database)


def signal_all(keys: Iterable[str], *, sent_by_database: bool = False) -> None:
    """`signal` for several keys (the answers an agent posts together): one round trip to Redis for
    all of them, not one each."""
    keys = list(keys)
    if keys:
        transaction.on_commit(lambda: _publish(keys, sent_by_database))


def _publish(keys: list[str], sent_by_database: bool) -> None:
    for key in keys:
        _wake_here(key)
    kind = backend()
    try:
        if kind == "redis":
            pipe = _redis_client().pipeline(transaction=False)
            for key in keys:
                pipe.publish(_channel(key), key)
            pipe.execute()
        elif kind == "postgresql" and not sent_by_database:
            with connection.cursor() as cursor:
                for key in keys:
                    cursor.execute("SELECT pg_notify(%s, %s)", [_channel(key), key])
    except Exception as exc:  # noqa: BLE001 - a lost wake-up only delays a waiter by RECHECK_SECONDS
        log.warning("relay wake-up %s not published (%s)", ", ".join(keys), type(exc).__name__)


# --- other processes: a listener thread per kind of wait --------------------------------------------
def _redis_client() -> Any:
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.REDIS_URL)
    return _redis


def _ensure_listener(kind: str) -> None:
    """Start this process's listener for "work" (held agent polls) or "answers" (its own requests)."""
    engine = backend()
    if engine == "local":
        return
    pid = os.getpid()
    with _lock:
        current = _listeners.get(kind)
        if current is not None and current[0] == pid and current[1].is_alive():
            return
        target = _listen_redis if engine == "redis" else _listen_postgresql
        ready = threading.Event()
        thread = threading.Thread(
            target=_forever,
            args=(target, _own_channel(kind), ready),
            name=f"relay-wakeups-{kind}",
            daemon=True,
        )
        _listeners[kind] = (pid, thread)
        thread.start()
    ready.wait(2.0)  # subscribed before the first wait, so its first signal is heard


def _forever(listen: Any, channel: str, ready: threading.Event) -> None:
    delay = 0.5
    while True:
        try:
            listen(channel, ready)
        except Exception as exc:  # noqa: BLE001 - reconnect; waiters re-read meanwhile
            log.warning("relay wake-up listener lost its connection (%s); reconnecting", type(exc).__name__)
        ready.set()
        threading.Event().wait(delay)
        delay = min(delay * 2, 10.0)


def _listen_redis(channel: str, ready: threading.Event) -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    ready.set()
    for message in pubsub.listen():
        if message and message.get("type") == "message":
            data = message["data"]
            _wake_here(data.decode() if isinstance(data, bytes) else str(data))


def _listen_postgresql(channel: str, ready: threading.Event) -> None:
    import psycopg

    params = dict(connection.get_connection_params())
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    listener = psycopg.connect(**params, autocommit=True)
    try:
        listener.execute(f'LISTEN "{channel}"')  # our own name: mlc_relay_work or mlc_relay_a + 8 hex digits
        ready.set()
        while True:
            for notice in listener.notifies(timeout=30.0):
                _wake_here(notice.payload)
            listener.execute("SELECT 1")  # a dead connection raises here and is made again
    finally:
        listener.close()

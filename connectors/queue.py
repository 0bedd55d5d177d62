"""The one place tasks are enqueued. django-q2 reads its Conf once at import, so `RUN_INLINE`
is the explicit test hook: tests set it to run tasks in the caller's process.

Two queues. SHORT (the default cluster, `python manage.py qcluster`): webhook events, scheduled polls,
approvals, digests — each seconds long, and someone is waiting on them. LONG (`Q_CLUSTER_NAME=long
python manage.py qcluster`, settings `ALT_CLUSTERS`): initial loads and person-started jobs, minutes
to hours. Separate queues rather than priorities because django-q2 has no priorities (a worker takes
the oldest task of its queue, on Redis and on the ORM broker alike): only a queue of its own, with
workers of its own, guarantees a short task never waits behind a long one.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

RUN_INLINE = False
SHORT, LONG = "", "long"
# django-q2 builds a broker (and, for Redis, a new connection pool) on every async_task; the webhook
# view enqueues once a request, so the process keeps one. reset_broker() is the test hook.
_brokers: dict[str, Any] = {}


def shared_broker(queue: str = SHORT) -> Any:
    """The process's broker for `queue` (SHORT: the default cluster's own list)."""
    if queue not in _brokers:
        from django_q.brokers import get_broker

        _brokers[queue] = get_broker(queue or None)
    return _brokers[queue]


def reset_broker() -> None:
    _brokers.clear()


def enqueue(func: str, *args: Any, queue: str = SHORT, **kwargs: Any) -> None:
    """Queue `func` on `queue` after the current transaction commits (the worker must see our rows)."""
    from django_q.tasks import async_task

    if RUN_INLINE:
        from django.utils.module_loading import import_string

        transaction.on_commit(lambda: import_string(func)(*args, **kwargs))
        return
    options = {"cluster": queue} if queue else {}
    transaction.on_commit(lambda: async_task(func, *args, broker=shared_broker(queue), **options, **kwargs))

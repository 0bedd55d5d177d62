"""The one place tasks are enqueued. django-q2 reads its Conf once at import, so `RUN_INLINE`
is the explicit test hook: tests set it to run tasks in the caller's process."""

from __future__ import annotations

from typing import Any

from django.db import transaction

RUN_INLINE = False
# django-q2 builds a broker (and, for Redis, a new connection pool) on every async_task; the webhook
# view enqueues once a request, so the process keeps one. reset_broker() is the test hook.
_broker: Any = None


def shared_broker() -> Any:
    global _broker
    if _broker is None:
        from django_q.brokers import get_broker

        _broker = get_broker()
    return _broker


def reset_broker() -> None:
    global _broker
    _broker = None


def enqueue(func: str, *args: Any, **kwargs: Any) -> None:
    """Queue `func` after the current transaction commits (the worker must see our rows)."""
    from django_q.tasks import async_task

    if RUN_INLINE:
        from django.utils.module_loading import import_string

        transaction.on_commit(lambda: import_string(func)(*args, **kwargs))
        return
    transaction.on_commit(lambda: async_task(func, *args, broker=shared_broker(), **kwargs))

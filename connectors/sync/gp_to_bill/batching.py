"""Feeding BILL's bulk calls from a GP stream: fixed-size chunks, and a bounded set of batches in flight
on worker threads (each closes its database connection when done, as a django-q2 worker would)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from itertools import islice
from typing import Any, TypeVar

from django.db import close_old_connections

log = logging.getLogger(__name__)
T = TypeVar("T")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def drain(pending: list[Future[None]], keep: int) -> list[Future[None]]:
    """Wait until at most `keep` batches are in flight (bounded memory), re-raising their errors."""
    while len(pending) > keep:
        pending.pop(0).result()
    return pending


def in_thread(func: Callable[..., object], *args: Any) -> None:
    try:
        func(*args)
    finally:
        close_old_connections()


def deferrer(
    pool: Executor, pending: list[Future[None]], on_error: Callable[[str, Exception], None]
) -> Callable[..., None]:
    """`later(key, func, *args)`: run func(*args) on the pool (a change to an existing BILL object,
    which waits on BILL, not on us); an exception is handed to on_error(key, exc), as the inline
    path would have handled it, instead of stopping the run."""

    def guarded(key: str, func: Callable[..., None], *args: Any) -> None:
        try:
            func(*args)
        except Exception as exc:  # one bad record must not stop the run
            log.exception("sync of %s failed", key)
            on_error(key, exc)

    def later(key: str, func: Callable[..., None], *args: Any) -> None:
        pending.append(pool.submit(in_thread, guarded, key, func, *args))

    return later

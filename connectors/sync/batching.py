"""Feeding BILL's bulk calls from a GP stream: fixed-size chunks, and a bounded set of batches in flight
on worker threads (each closes its database connection when done, as a django-q2 worker would)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from itertools import islice
from typing import Any

from django.db import close_old_connections


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def drain(pending: list[Future[None]], keep: int) -> list[Future[None]]:
    """Wait until at most `keep` batches are in flight (bounded memory), re-raising their errors."""
    while len(pending) > keep:
        pending.pop(0).result()
    return pending


def in_thread(func: Any, *args: Any) -> None:
    try:
        func(*args)
    finally:
        close_old_connections()

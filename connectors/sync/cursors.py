"""Polling cursors: advance only to the start of the last successful run; re-read an overlap."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from audit.models import PollCursor
from connectors.models import Tenant

from .errors import explain

if TYPE_CHECKING:
    from .context import SyncContext

OVERLAP = timedelta(minutes=5)


def cursor_for(tenant: Tenant, flow: str) -> PollCursor:
    cursor, _ = PollCursor.objects.get_or_create(tenant=tenant, flow=flow)
    return cursor


def start_run(cursor: PollCursor) -> datetime:
    """Note the run's start; the cursor moves there only if the run succeeds."""
    started = timezone.now()
    cursor.last_started_at = started
    cursor.save(update_fields=["last_started_at"])
    return started


def finish_run(cursor: PollCursor, started: datetime, summary: dict[str, Any]) -> None:
    cursor.cursor = started
    cursor.last_success_at = timezone.now()
    cursor.last_error = ""
    cursor.last_summary = summary
    cursor.save(update_fields=["cursor", "last_success_at", "last_error", "last_summary"])


def fail_run(cursor: PollCursor, error: str) -> None:
    cursor.last_error = error[:2000]
    cursor.save(update_fields=["last_error"])


@dataclass
class PollRun:
    """What a polling flow reads from: `since` is the last successful run's start (None = everything)."""

    since: datetime | None
    started: datetime
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def since_with_overlap(self) -> datetime | None:
        """For APIs that take the cursor as is (BILL): re-read the overlap window ourselves."""
        return None if self.since is None else self.since - OVERLAP


@contextmanager
def poll_run(ctx: SyncContext, flow: str, prefix: str, *, full: bool = False) -> Iterator[PollRun]:
    """One run of a polling flow: the cursor moves to this run's start only if the body finishes and
    left no record to another worker (`<prefix>busy`); a failure is noted on the cursor and re-raised.
    The summary is the tally's `prefix` counts."""
    cursor = cursor_for(ctx.tenant, flow)
    started = start_run(cursor)
    run = PollRun(since=None if full else cursor.cursor, started=started)
    try:
        yield run
    except Exception as exc:
        fail_run(cursor, explain(exc))
        raise
    run.summary.update({k: v for k, v in ctx.tally.items() if k.startswith(prefix)})
    if run.summary.get(f"{prefix}busy"):
        # A record another worker was writing was left to it: keep the cursor, so the next run reads
        # that source record again instead of skipping a change made meanwhile.
        cursor.last_summary = run.summary
        cursor.save(update_fields=["last_summary"])
        return
    finish_run(cursor, started, run.summary)

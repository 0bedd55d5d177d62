"""Polling cursors: advance only to the start of the last successful run; re-read an overlap."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from audit.models import PollCursor
from connectors.models import Tenant

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

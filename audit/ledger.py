"""The write-ahead ledger: every external write is preceded by a committed `sending` row.

Flows call `write_ahead` right before a create/update on GP or BILL and `settle` right after.
A row still `sending` (crash) or `in_doubt` (timeout) is reconciled against the target before
anything is sent again, so a repeat never creates a second bill or applies a payment twice.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from connectors.models import Tenant

from .models import UNCERTAIN_STATES, Attempt, State, SyncRecord, Trigger
from .redact import redact

RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
HOST = socket.gethostname()


def writer_id() -> str:
    """Who is writing: host and process, so a row left `sending` by a dead process can be told apart."""
    return f"{HOST}:{os.getpid()}"[:120]


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


def get_record(tenant: Tenant, kind: str, source_key: str) -> SyncRecord:
    record, _ = SyncRecord.objects.get_or_create(tenant=tenant, kind=kind, source_key=source_key)
    return record


def _assert_autocommit() -> None:
    # The write-ahead row must be durable before the call leaves the process.
    if not connection.get_autocommit():
        raise RuntimeError("write_ahead must run outside a transaction so the row commits before the call.")


def write_ahead(records: Iterable[SyncRecord]) -> None:
    """Mark records `sending` and commit, before the external write that may create their targets."""
    _assert_autocommit()
    rows = list(records)
    now = timezone.now()
    with transaction.atomic():
        for record in rows:
            record.state = State.SENDING
            record.attempts += 1
            record.updated_at = now
            record.sending_by = writer_id()
        SyncRecord.objects.bulk_update(rows, ["state", "attempts", "updated_at", "sending_by"])


def is_uncertain(record: SyncRecord) -> bool:
    """True when an earlier write may have reached the target: reconcile before sending again."""
    return record.state in UNCERTAIN_STATES


def settle(record: SyncRecord, state: str, **fields: Any) -> SyncRecord:
    """Record where a record stands after an attempt (the counterpart of write_ahead)."""
    apply_settlement(record, state, **fields)
    record.save()
    return record


def apply_settlement(
    record: SyncRecord,
    state: str,
    *,
    target_id: str | None = None,
    reason: str = "",
    fix: str = "",
    waiting_on: str = "",
    synced_hash: str | None = None,
    source_hash: str | None = None,
    snapshot: dict[str, Any] | None = None,
    label: str | None = None,
) -> None:
    """The in-memory part of `settle`, shared with bulk settling (connectors.sync.ledger_bulk)."""
    record.state = state
    if target_id is not None:
        record.target_id = target_id
    record.reason = reason
    record.fix = fix
    record.waiting_on = waiting_on
    if synced_hash is not None:
        record.synced_hash = synced_hash
    if source_hash is not None:
        record.source_hash = source_hash
    if snapshot is not None:
        record.snapshot = snapshot
    if label is not None:
        record.label = label[:255]
    if state == State.FAILED:
        step = RETRY_BACKOFF[min(max(record.attempts - 1, 0), len(RETRY_BACKOFF) - 1)]
        record.next_retry_at = timezone.now() + step * settings.SYNC_RETRY_SCALE
    else:
        record.next_retry_at = None


@dataclass
class AttemptLog:
    """Collects what one attempt did, then appends it to the trail."""

    record: SyncRecord
    flow: str
    trigger: str
    user: Any = None
    request: dict[str, Any] = field(default_factory=dict)
    response_status: str = ""
    outcome: str = ""
    error: str = ""


@contextmanager
def attempt(record: SyncRecord, flow: str, trigger: str = Trigger.SCHEDULE, user: Any = None) -> Iterator[AttemptLog]:
    """Time one attempt and append it to the trail, whatever happens inside."""
    log = AttemptLog(record=record, flow=flow, trigger=trigger, user=user)
    started = timezone.now()
    t0 = time.monotonic()
    try:
        yield log
    except Exception as exc:  # the trail records the failure; the caller decides what to do with it
        log.outcome = log.outcome or "error"
        log.error = log.error or str(exc)[:2000]
        raise
    finally:
        Attempt.objects.create(
            record=record,
            flow=flow,
            trigger=trigger,
            started_at=started,
            duration_ms=int((time.monotonic() - t0) * 1000),
            outcome=log.outcome or record.state,
            request=redact(log.request),
            response_status=str(log.response_status)[:40],
            error=log.error[:2000],
            user=log.user if getattr(log.user, "pk", None) else None,
        )


def stuck_sending(older_than: timedelta | None = None) -> QuerySet[SyncRecord]:
    """Rows left in `sending` by a worker that died: candidates for reconcile-and-retry.

    A row is stuck when its writer is a process of this host that no longer exists (after a short
    grace, so a request it sent has landed), or, whoever wrote it, when it has been `sending` longer
    than LEDGER_STUCK_SENDING_SECONDS. A live writer's row is never taken from it: reconciling while
    its create is still in flight could miss the bill and send a second one.
    """
    now = timezone.now()
    older_than = older_than or timedelta(seconds=settings.LEDGER_STUCK_SENDING_SECONDS)
    sending = SyncRecord.objects.filter(state=State.SENDING)
    grace = now - timedelta(seconds=settings.LEDGER_DEAD_WRITER_GRACE_SECONDS)
    recent = sending.filter(updated_at__lt=grace, updated_at__gte=now - older_than).exclude(sending_by="")
    dead = [pk for pk, writer in recent.values_list("pk", "sending_by") if writer_is_dead(writer)]
    return sending.filter(Q(updated_at__lt=now - older_than) | Q(pk__in=dead))

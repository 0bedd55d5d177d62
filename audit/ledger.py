"""The write-ahead ledger: every external write is preceded by a committed `sending` row.

Flows call `write_ahead` right before a create/update on GP or BILL and `settle` right after.
A row still `sending` (crash) or `in_doubt` (timeout) is reconciled against the target before
anything is sent again, so a repeat never creates a second bill or applies a payment twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

if TYPE_CHECKING:  # a name for the type only: the ledger core imports nothing of connectors
    from connectors.models import Tenant

from . import waits as waiting
from .leases import writer_id, writer_is_dead
from .models import UNCERTAIN_STATES, Attempt, State, SyncRecord, Trigger
from .redact import redact
from .waits import WaitFor

log = logging.getLogger(__name__)

# The fields settling a row changes (`settle`, bulk settling, keep_in_doubt).
SETTLED_FIELDS = [
    "state",
    "target_id",
    "reason",
    "fix",
    "waiting_on",
    "synced_hash",
    "snapshot",
    "label",
    "next_retry_at",
    "updated_at",
]
RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))


# Rows this process has written ahead and a thread of it is still working on (see `writing`).
_IN_FLIGHT: set[int] = set()
_IN_FLIGHT_LOCK = threading.Lock()


def get_record(tenant: Tenant, kind: str, source_key: str) -> SyncRecord:
    record, _ = SyncRecord.objects.get_or_create(tenant=tenant, kind=kind, source_key=source_key)
    return record


def _assert_autocommit() -> None:
    # The write-ahead row must be durable before the call leaves the process.
    if not connection.get_autocommit():
        raise RuntimeError("write_ahead must run outside a transaction so the row commits before the call.")


def settle_window(timeout_seconds: float = 0) -> timedelta:
    """How long after an unconfirmed create was sent it may still appear on the target.

    A service can commit a request the client has already given up on; a lookup right after the
    timeout proves nothing. The window is LEDGER_SETTLE_SECONDS, and always longer than the client's
    timeout (twice it, plus a second)."""
    return timedelta(seconds=max(float(settings.LEDGER_SETTLE_SECONDS), 2 * float(timeout_seconds) + 1))


def absence_confirmed(record: SyncRecord, window: timedelta) -> bool:
    """True once the settle window since the last send has passed: a lookup now that finds nothing
    means the unconfirmed create really did not happen, and it may be sent again."""
    return record.sent_at is None or timezone.now() >= record.sent_at + window


def is_stuck(record: SyncRecord) -> bool:
    """A `sending` row whose writer is gone (or has had it far too long): others may reconcile it."""
    if record.state != State.SENDING:
        return False
    age = timezone.now() - record.updated_at
    if age > timedelta(seconds=settings.LEDGER_STUCK_SENDING_SECONDS) or _left_by_this_process(
        record.pk, record.sending_by
    ):
        return True
    grace = timedelta(seconds=settings.LEDGER_DEAD_WRITER_GRACE_SECONDS)
    return age >= grace and bool(record.sending_by) and writer_is_dead(record.sending_by)


def _left_by_this_process(pk: int, sending_by: str) -> bool:
    """A row this process wrote ahead that none of its threads is working on any more: the call and
    its settling ended without settling it (the database went away meanwhile, say)."""
    with _IN_FLIGHT_LOCK:
        return sending_by == writer_id() and pk not in _IN_FLIGHT


def owned_elsewhere(record: SyncRecord) -> bool:
    """A live writer has this row `sending`: nobody else looks it up, settles it or sends it."""
    return record.state == State.SENDING and not is_stuck(record)


def _may_take(record: SyncRecord, window: timedelta | None) -> bool:
    if record.state == State.SENDING and not is_stuck(record):
        return False
    if window is not None and record.state in UNCERTAIN_STATES:
        return absence_confirmed(record, window)
    return True


def write_ahead(records: Iterable[SyncRecord], *, window: timedelta | None = None) -> list[SyncRecord]:
    """Mark records `sending` and commit, before the external write that may create their targets.

    A compare-and-set, row by row, on the state the caller read (state and `updated_at`, which every
    save moves): a row another writer changed since — took it, settled it, created its target — is
    not taken, so two writers that both decided to create one object never both send it. Returns
    the rows taken; the caller sends only those. A row another live process has `sending` is never
    taken; for a create (`window` given) an uncertain row is taken only once the settle window since
    its last send has passed (the caller has looked it up first and found nothing)."""
    _assert_autocommit()
    now = timezone.now()
    me = writer_id()
    taken: list[SyncRecord] = []
    with transaction.atomic():
        for record in records:
            if not _may_take(record, window):
                continue
            won = SyncRecord.objects.filter(
                pk=record.pk, state=record.state, updated_at=record.updated_at
            ).update(
                state=State.SENDING, attempts=F("attempts") + 1, updated_at=now, sent_at=now, sending_by=me
            )
            if won:
                record.state, record.updated_at, record.sent_at, record.sending_by = (
                    State.SENDING,
                    now,
                    now,
                    me,
                )
                record.attempts += 1
                taken.append(record)
    with _IN_FLIGHT_LOCK:  # this process's work now, until `writing` (or the process) ends
        _IN_FLIGHT.update(r.pk for r in taken)
    return taken


@contextmanager
def writing(records: Iterable[SyncRecord], *, window: timedelta | None = None) -> Iterator[list[SyncRecord]]:
    """`write_ahead`, then the block that sends and settles the rows taken (yielded). While the block
    runs the rows are this process's work in flight; after it they are not, so a row it could not
    settle is reconciled by the next sweep instead of waiting LEDGER_STUCK_SENDING_SECONDS. If the
    block fails and the call may have gone out (`may_have_written`), the rows it left `sending` go
    `in_doubt`: they are looked up before anything is sent again."""
    taken = write_ahead(records, window=window)
    pks = {r.pk for r in taken}
    try:
        yield taken
    except BaseException as exc:
        _leave_in_doubt(taken, window or settle_window(), exc)
        raise
    finally:
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT.difference_update(pks)


def may_have_written(exc: BaseException) -> bool:
    """Whether a failed call may still have been carried out. GP's and BILL's errors say so themselves
    (`in_doubt`, or a timeout, reset or 5xx: the answer was lost); a clear refusal did nothing. Any
    other error (the database or Redis went away around the call, a bug) may have struck after the
    request left, so it counts as maybe written."""
    if hasattr(exc, "in_doubt") or hasattr(exc, "code"):
        return bool(getattr(exc, "in_doubt", False)) or getattr(exc, "code", None) in (
            "timeout",
            "reset",
            "server",
        )
    return True


def _leave_in_doubt(records: list[SyncRecord], window: timedelta, exc: BaseException) -> None:
    if not may_have_written(exc):
        return  # a clear refusal: the caller settles the rows (failed, or parked)
    try:
        for record in records:
            record.refresh_from_db()
            if record.state == State.SENDING and record.sending_by == writer_id():
                keep_in_doubt(
                    record,
                    window,
                    gave_up=True,
                    reason=f"The write was interrupted ({type(exc).__name__}); it is looked up before "
                    "anything is sent again.",
                )
    except Exception:  # noqa: BLE001 - the database itself may be down: the next sweep finds the rows
        log.warning("could not mark %d interrupted rows in doubt", len(records))


def keep_in_doubt(
    record: SyncRecord, window: timedelta, reason: str, *, gave_up: bool = False, **fields: Any
) -> bool:
    """Leave an unconfirmed create `in_doubt`: every retry sweep looks it up again (no retry time: due
    at once, and only looked up), and it is sent again only when a lookup after its settle window
    (`window` from `sent_at`) still finds nothing. Written only if the row is still as the caller read
    it (another writer may have settled it meanwhile); returns whether it was."""
    seen_state, seen_at = record.state, record.updated_at
    if gave_up or record.sent_at is None:
        # Called as the client gives up on the call: the window runs from now, not from the write-ahead
        # (the request may have left much later, after waiting for a BILL slot or a retry).
        record.sent_at = timezone.now()
    until = record.sent_at + window
    had_waits = bool(record.waiting_on)
    apply_settlement(
        record,
        State.IN_DOUBT,
        reason=reason,
        fix=fields.pop(
            "fix",
            f"Nothing: it is looked up on every sync, and sent again only if still "
            f"absent after {until:%H:%M:%S} UTC.",
        ),
        **fields,
    )
    record.updated_at = timezone.now()
    with transaction.atomic() if had_waits else nullcontext():
        changed = SyncRecord.objects.filter(pk=record.pk, state=seen_state, updated_at=seen_at).update(
            sent_at=record.sent_at, **{name: getattr(record, name) for name in SETTLED_FIELDS}
        )
        if changed and had_waits:
            waiting.replace(record, ())  # in doubt, it waits for nothing: its rows go with its text
    return bool(changed)


def still_settling(record: SyncRecord, window: timedelta, reason: str, **fields: Any) -> bool:
    """For an unconfirmed create just looked up and not found: True while its settle window runs (the
    row is then kept `in_doubt`, nothing may be sent); False when it may be sent (again)."""
    if not is_uncertain(record) or absence_confirmed(record, window):
        return False
    keep_in_doubt(record, window, reason=reason, **fields)
    return True


def fail_unless_uncertain(
    record: SyncRecord,
    reason: str,
    *,
    maybe_written: bool = True,
    fix: str = "Retried automatically; Replay to retry now.",
) -> None:
    """After an error: `failed` (retried as is) unless a write of the row may be out. A row this
    process left `sending` goes `in_doubt` (looked up first) when the call may have been carried out
    (`maybe_written`: its answer was lost); a row in doubt, or another writer's `sending` row, is left
    as it is."""
    record.refresh_from_db()
    if record.state == State.SENDING and record.sending_by == writer_id():
        if maybe_written:
            keep_in_doubt(record, settle_window(), reason=reason, gave_up=True)
        else:
            settle(record, State.FAILED, reason=reason, fix=fix)
    elif record.state not in UNCERTAIN_STATES:
        settle(record, State.FAILED, reason=reason, fix=fix)


def is_uncertain(record: SyncRecord) -> bool:
    """True when an earlier write may have reached the target: reconcile before sending again."""
    return record.state in UNCERTAIN_STATES


def settle(record: SyncRecord, state: str, **fields: Any) -> SyncRecord:
    """Record where a record stands after an attempt (the counterpart of write_ahead).

    A compare-and-set on the state the caller read (state and `updated_at`), writing only the settled
    fields: a caller holding a stale copy (another worker took the row, sent it or settled it since)
    never puts back an older state, send time or attempt count, which could let a third worker send
    the same create again. When the row moved on, the newer writer wins: the caller's copy is
    refreshed and nothing is written. What the record waits for (`waits`, or nothing) is written with
    it, rows and display text in one transaction (audit.waits)."""
    seen_state, seen_at = record.state, record.updated_at
    waits: Sequence[WaitFor] = fields.get("waits", ())
    rows_change = bool(waits) or bool(record.waiting_on)  # else the rows are none before and after
    apply_settlement(record, state, **fields)
    with transaction.atomic() if rows_change else nullcontext():
        if record.pk is None or seen_at is None:
            record.save()
            changed = 1
        else:
            record.updated_at = timezone.now()
            changed = SyncRecord.objects.filter(pk=record.pk, state=seen_state, updated_at=seen_at).update(
                **{name: getattr(record, name) for name in SETTLED_FIELDS}
            )
        if changed and rows_change:
            waiting.replace(record, waits)  # the rows with their display text, or neither
    if not changed:
        log.info("record %s moved on meanwhile (was %s); not settling it to %s", record.pk, seen_state, state)
        record.refresh_from_db()
    return record


def apply_settlement(
    record: SyncRecord,
    state: str,
    *,
    target_id: str | None = None,
    reason: str = "",
    fix: str = "",
    waits: Sequence[WaitFor] = (),
    synced_hash: str | None = None,
    snapshot: dict[str, Any] | None = None,
    label: str | None = None,
) -> None:
    """The in-memory part of `settle`, shared with bulk settling (audit.send_once.SyncedBatch). `waits`:
    what a blocked record waits for (audit.waits; their rows are written by the caller); none otherwise."""
    record.state = state
    if target_id is not None:
        record.target_id = target_id
    record.reason = reason
    record.fix = fix
    record.waiting_on = waiting.text(waits)
    if synced_hash is not None:
        record.synced_hash = synced_hash
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
def attempt(
    record: SyncRecord, flow: str, trigger: str = Trigger.SCHEDULE, user: Any = None
) -> Iterator[AttemptLog]:
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
    dead += [
        pk
        for pk, writer in sending.filter(sending_by=writer_id()).values_list("pk", "sending_by")
        if _left_by_this_process(pk, writer)
    ]
    return sending.filter(Q(updated_at__lt=now - older_than) | Q(pk__in=dead))

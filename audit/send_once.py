"""One external write, exactly once: the protocol every flow follows, written once.

`send_once` is the single write (a create, an update, an archive, an apply); `send_batch_once` is the
bulk create (≤100 bills, ≤20 vendors a call) and `SyncedBatch` settles a batch's rows together. Both sit
on the ledger (audit.ledger): a row is looked up when an earlier write may be out, and written ahead
(committed `sending`) before anything leaves.

The protocol, in order:

1. A row another live writer has `sending` is left alone (BUSY): its answer settles it.
2. An uncertain row (`sending` left behind, `in_doubt`) — and, where the flow asks, a `failed` one — is
   looked up in the target (`find`). Found: adopted (trail "adopted", then `done`). Not found while its
   settle window runs: kept `in_doubt`, nothing is sent (SETTLING).
3. Write-ahead (`writing`, a compare-and-set): a row another writer took meanwhile is not sent (BUSY).
4. The call, timed and trailed (`attempt`), then `done` settles the row to what was made (SENT).
5. The exception-to-state rule, for an error the client raised about the call (it has `retryable`):
   a "duplicate" refusal of a deterministic key is looked up and adopted; an error that may have
   written (`may_have_written`: in doubt, timeout, reset, 5xx) leaves the row `in_doubt` (looked up
   before anything is sent again); a retryable one that surely did not write fails it (retried); a
   refusal flags it for a person (`refused`). Any other exception (the database, a bug) is not the
   client's answer: it propagates, and `writing` leaves the row `in_doubt`, since it may have struck
   after the request left.

Where the flows' hand-written copies differed, this takes the safer side for money:
- In doubt is decided by `may_have_written` (BILL's `in_doubt` flag *or* a timeout/reset/server code),
  not by one of the two alone: GP's payments looked at the code only, BILL's flows at the flag only.
- Every adoption leaves an "adopted" attempt in the trail (GP accounts and segment values left none,
  and a payment found on a `failed` row left none): what the connector took as its own is evidence.
- A "duplicate" answer is looked up and adopted for any flow (GP payments and credit applies did so);
  it is never taken as a refusal that a person must settle, nor as a reason to send again.
- A row `failed` by an earlier run is looked up first when the flow says a failure may hide a write
  (`look_up_failed`; GP payments and credit applies, whose `failed` can follow a posting error after
  the write). For the BILL creates a `failed` row is one BILL surely refused, as before.
- An immediate look-up after an in-doubt answer (`find_after_doubt`, bills and vendor credits) is
  kept where a flow had it; it can only adopt, never send.

It imports nothing from `connectors` or `mappings` (the ledger core, docs/layers.md): the flow hands in
its calls and its words.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.db import connection, transaction
from django.utils import timezone

from . import waits
from .ledger import (
    SETTLED_FIELDS,
    AttemptLog,
    apply_settlement,
    attempt,
    is_uncertain,
    keep_in_doubt,
    may_have_written,
    owned_elsewhere,
    settle,
    settle_window,
    still_settling,
    writing,
)
from .models import Attempt, State, SyncRecord, Trigger
from .redact import redact

T = TypeVar("T")
D = TypeVar("D")


class Sent(enum.Enum):
    """Where one `send_once` left its row (the flow counts it in its run summary)."""

    SENT = "sent"  # the call went and `done` settled the row
    ADOPTED = "adopted"  # an earlier (or duplicate) write was found in the target and taken
    SETTLING = "settling"  # an unconfirmed create not found yet, inside its settle window: nothing sent
    BUSY = "busy"  # another writer has (or just took) the row
    IN_DOUBT = "in_doubt"  # the call may have been carried out: looked up before anything is sent again
    FAILED = "failed"  # surely not written, worth trying again: retried
    REFUSED = "refused"  # the target refused it: settled as `refused` says (flagged for a person)


@dataclass(frozen=True)
class Trail:
    """Who writes the attempts: the flow, what started it, and the person if one did."""

    flow: str
    trigger: str = Trigger.SCHEDULE
    user: Any = None


def is_client_error(exc: BaseException) -> bool:
    """An error GP's or BILL's client raised about the call (it says whether a retry can help)."""
    return hasattr(exc, "retryable")


def error_message(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc)


@dataclass
class Words:
    """What the row says after a failed call: `reason(exc)` for every outcome, one fix per outcome."""

    reason: Callable[[BaseException], str]
    fix_failed: str = "Retried automatically."
    fix_refused: str = "Correct it at the source, then Replay."
    refused: str = State.FLAGGED  # updates pass State.FAILED: a refused update is simply retried
    refused_outcome: str = "refused"  # the trail's word for a refusal


RETRIED = "Retried automatically; Replay to retry now."


def retried_as_is(reason: Callable[[BaseException], str]) -> Words:
    """Words for an update or archive (idempotent: sent again as it is): every failure is retried."""
    return Words(reason=reason, fix_failed=RETRIED, fix_refused=RETRIED, refused=State.FAILED)


def changed(log: AttemptLog, outcome: str, answer: T) -> T:
    """`send` for a change the target took: the trail's word for it, once the call has returned."""
    log.outcome, log.response_status = outcome, "200"
    return answer


def count_change(tally: MutableMapping[str, int], sent: Sent, done: str, prefix: str) -> None:
    """A change's place in the run summary: `done`, or the flow's busy or failed count."""
    if sent == Sent.SENT:
        tally[done] += 1
    elif sent == Sent.BUSY:  # another worker changed the row since it was read: it has it
        tally[f"{prefix}_busy"] += 1
    else:
        tally[f"{prefix}_failed"] += 1


def send_once(
    record: SyncRecord,
    *,
    trail: Trail,
    send: Callable[[AttemptLog], T],
    done: Callable[[T, AttemptLog], object],
    words: Words,
    find: Callable[[], T | None] | None = None,
    window: timedelta | None = None,
    request: dict[str, Any] | None = None,
    label: str | None = None,
    settling_reason: str = "",
    look_up_failed: bool = False,
    find_after_doubt: bool = False,
    duplicate_outcome: str = "already_there",
) -> Sent:
    """Write once: look up what may be out, else write ahead, call, settle (see the module docstring).

    `send(log)` makes the call and returns what it made; `done(made, log)` settles the row to it (inside
    the trail's attempt, after a create or an adoption; it may flag a found object that is not ours).
    `find()` looks the write up in the target; give it (and `window`) for a create, leave both out for
    an idempotent update or archive, which is simply sent again."""
    if owned_elsewhere(record):
        return Sent.BUSY
    if find is not None and window is not None:
        looked = look_up_first(
            record,
            trail=trail,
            find=find,
            done=done,
            window=window,
            request=request,
            label=label,
            settling_reason=settling_reason,
            look_up_failed=look_up_failed,
        )
        if looked is not None:
            return looked
    with writing([record], window=window) as taken:
        if not taken:  # another writer took or settled the row since it was read
            return Sent.BUSY
        with attempt(record, trail.flow, trail.trigger, trail.user) as log:
            log.request = dict(request or {})
            try:
                made = send(log)
            except Exception as exc:
                if not is_client_error(exc):
                    raise  # `writing` leaves the row in doubt: it may have struck after the request left
                after = _After(words, find, window, label, duplicate_outcome, find_after_doubt)
                return after.error(record, log, exc, done)
            log.outcome = log.outcome or "created"
            log.response_status = log.response_status or "201"
            done(made, log)
    return Sent.SENT


def look_up_first(
    record: SyncRecord,
    *,
    trail: Trail,
    find: Callable[[], T | None],
    done: Callable[[T, AttemptLog], object],
    window: timedelta,
    request: dict[str, Any] | None = None,
    label: str | None = None,
    settling_reason: str = "",
    look_up_failed: bool = False,
) -> Sent | None:
    """Step 2 alone, for a create sent later in bulk (bills, vendors) or by `send_once`: an uncertain row
    is looked up and adopted if found (ADOPTED), kept in doubt while its settle window runs (SETTLING);
    None when it may be sent (written ahead first)."""
    if is_uncertain(record) or (look_up_failed and record.state == State.FAILED):
        found = find()
        if found is not None:
            adopt(record, trail, found, done, request)
            return Sent.ADOPTED
    if still_settling(record, window, label=label, reason=settling_reason):
        return Sent.SETTLING
    return None


def adopt(
    record: SyncRecord,
    trail: Trail,
    found: T,
    done: Callable[[T, AttemptLog], object],
    request: dict[str, Any] | None = None,
) -> None:
    """Take what an earlier, unconfirmed write made as this row's own: `done` settles the row, and the
    trail says "adopted" (evidence of what the connector took as its own)."""
    with attempt(record, trail.flow, trail.trigger, trail.user) as log:
        log.outcome = "adopted"
        log.request = {"reconciled": True, **(request or {})}
        done(found, log)


@dataclass
class _After:
    """What `send_once` was told, for the exception-to-state rule."""

    words: Words
    find: Callable[[], Any] | None
    window: timedelta | None
    label: str | None
    duplicate_outcome: str
    find_after_doubt: bool

    def error(
        self, record: SyncRecord, log: AttemptLog, exc: Exception, done: Callable[[T, AttemptLog], object]
    ) -> Sent:
        """The exception-to-state rule, for an error the client raised about the call."""
        log.response_status = str(getattr(exc, "status", None) or "")
        log.error = error_message(exc)
        reason = self.words.reason(exc)
        if getattr(exc, "code", None) == "duplicate" and self.find is not None:
            found = self.find()  # the target refused our deterministic key: an earlier write landed
            if found is not None:
                log.outcome = self.duplicate_outcome
                done(found, log)
                return Sent.ADOPTED
        if may_have_written(exc):
            log.outcome = State.IN_DOUBT
            found = self._quietly_found() if self.find_after_doubt else None
            if found is not None:  # it did land, and already shows: ours (a look-up can only adopt)
                log.outcome = "adopted"
                done(found, log)
                return Sent.ADOPTED
            keep_in_doubt(
                record, self.window or settle_window(), gave_up=True, reason=reason, label=self.label
            )
            return Sent.IN_DOUBT
        if getattr(exc, "retryable", False):
            log.outcome = State.FAILED
            settle(record, State.FAILED, reason=reason, fix=self.words.fix_failed, label=self.label)
            return Sent.FAILED
        log.outcome = self.words.refused_outcome
        settle(record, self.words.refused, reason=reason, fix=self.words.fix_refused, label=self.label)
        return Sent.REFUSED

    def _quietly_found(self) -> Any:
        try:
            return self.find() if self.find is not None else None
        except Exception:  # noqa: BLE001 - the target still unreachable: the retry sweep looks again
            return None


# --- the bulk form: one call creates many -----------------------------------------------------------------
def send_batch_once(
    items: Sequence[tuple[SyncRecord, D]],
    *,
    window: timedelta,
    send: Callable[[list[tuple[SyncRecord, D]]], list[T]],
    created: Callable[[list[tuple[SyncRecord, D]], list[T], int], None],
    failed: Callable[[list[tuple[SyncRecord, D]], BaseException, Sent], None],
) -> int:
    """Create many in one call, each row written ahead first; returns how many rows another writer had.

    `send(items)` makes one bulk call; `created(items, answer, duration_ms)` matches the answer to the
    rows by identity (never by position) and settles them (`SyncedBatch`), keeping in doubt any row the
    answer does not clearly give back. An error about the call is sorted by the same rule as
    `send_once` and handed to `failed(items, exc, how)` to settle those rows (`how` is IN_DOUBT, FAILED
    or REFUSED); a refused batch of several is first split in two, to isolate the row BILL refuses."""
    with writing([r for r, _ in items], window=window) as rows:
        taken = {id(r) for r in rows}
        mine = [item for item in items if id(item[0]) in taken]
        if mine:
            _send_batch(mine, send, created, failed)
    return len(items) - len(mine)


def _send_batch(
    items: list[tuple[SyncRecord, D]],
    send: Callable[[list[tuple[SyncRecord, D]]], list[T]],
    created: Callable[[list[tuple[SyncRecord, D]], list[T], int], None],
    failed: Callable[[list[tuple[SyncRecord, D]], BaseException, Sent], None],
) -> None:
    started = time.monotonic()
    try:
        answer = send(items)
    except Exception as exc:
        if not is_client_error(exc):
            raise  # `writing` leaves the rows in doubt
        if may_have_written(exc):
            failed(items, exc, Sent.IN_DOUBT)
        elif getattr(exc, "retryable", False):
            failed(items, exc, Sent.FAILED)
        elif len(items) > 1:
            mid = len(items) // 2
            _send_batch(items[:mid], send, created, failed)
            _send_batch(items[mid:], send, created, failed)
        else:
            failed(items, exc, Sent.REFUSED)
        return
    created(items, answer, int((time.monotonic() - started) * 1000))


class SyncedBatch:
    """Collects rows settled `synced` after one bulk call, with their trail, then saves them together:
    what `settle` and `attempt` write for each row, in one transaction of two statements instead of two
    statements per row. Only for outcomes known after the call; rows appear `synced` together with
    their trail entries, or neither does."""

    def __init__(self, flow: str, trigger: str, user: Any = None, duration_ms: int = 0) -> None:
        self.flow, self.trigger = flow, trigger
        self.user = user if getattr(user, "pk", None) else None
        self.duration_ms = duration_ms
        self.started_at = timezone.now()
        self.records: list[SyncRecord] = []
        self.trail: list[Attempt] = []
        self.had_waits: list[int] = []

    def add(
        self,
        record: SyncRecord,
        *,
        outcome: str,
        request: dict[str, Any],
        response_status: str,
        target_id: str | None = None,
        synced_hash: str | None = None,
        snapshot: dict[str, Any] | None = None,
        label: str | None = None,
    ) -> None:
        """The in-memory part of settle(record, State.SYNCED, ...), and its attempt."""
        if record.waiting_on:  # it waited for something before it was sent: its rows go with the save
            self.had_waits.append(record.pk)
        apply_settlement(
            record,
            State.SYNCED,
            target_id=target_id,
            synced_hash=synced_hash,
            snapshot=snapshot,
            label=label,
        )
        self.records.append(record)
        self.trail.append(
            Attempt(
                record=record,
                flow=self.flow,
                trigger=self.trigger,
                started_at=self.started_at,
                duration_ms=self.duration_ms,
                outcome=outcome,
                request=redact(request),
                response_status=response_status[:40],
                error="",
                user=self.user,
            )
        )

    def save(self) -> None:
        if not self.records:
            return
        now = timezone.now()
        for record in self.records:
            record.updated_at = now
        with transaction.atomic():
            update_rows(self.records, SETTLED_FIELDS)
            Attempt.objects.bulk_create(self.trail)
            waits.clear(self.had_waits)


def update_rows(records: list[Any], fields: list[str]) -> None:
    """`bulk_update` without its CASE expression (which costs ~1 ms a row to build): one parameterised
    UPDATE by primary key, sent with executemany (a single pipelined round trip on PostgreSQL).
    `records` are instances of one model; like bulk_update, it sends no signals and sets no auto_now."""
    if not records:
        return
    meta, qn = type(records[0])._meta, connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    sql = (
        f"UPDATE {qn(meta.db_table)} SET "
        + ", ".join(f"{qn(c.column)} = %s" for c in columns)
        + f" WHERE {qn(meta.pk.column)} = %s"
    )
    params = [
        [c.get_db_prep_save(getattr(r, c.attname), connection) for c in columns] + [r.pk] for r in records
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)

"""What a person can do to a ledger record from the admin: replay it, stop it, or resume it.

Each action leaves a line in the record's trail with who did it, so the trail stays the one place
that explains how a record got where it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from . import jobs
from .ledger import attempt, owned_elsewhere, settle
from .models import Job, State, SyncRecord, Trigger

MANUAL_FLOW = "manual"
RESUME_FIX = "Choose Sync again on the record page to send it after all."


@dataclass(frozen=True)
class Replay:
    """The job that will replay a record, and whether this press queued it or found it already waiting."""

    job: Job
    queued_now: bool


def start_replay(record: SyncRecord, user: Any) -> Replay:
    """Replay one record as a job: GP or BILL may be slow, and the person watches it on the job page.

    A second press while a replay of the record is still queued or running queues nothing: that job
    reads the record when it gets to it. The record's row is locked while deciding, so two presses at
    once (a double click, two people) cannot both queue one."""
    with transaction.atomic():
        list(SyncRecord.objects.select_for_update().filter(pk=record.pk).values_list("pk", flat=True))
        waiting = jobs.replay_waiting_for(record)
        if waiting is not None:
            return Replay(waiting, queued_now=False)
        job = jobs.start(Job.REPLAY, user=user, tenant=record.tenant, record_ids=[record.pk])
    return Replay(job, queued_now=True)


@dataclass
class DontSyncResult:
    """What Don't sync did: how many it parked, and those it left because they moved on meanwhile."""

    skipped: int = 0
    moved: list[SyncRecord] = field(default_factory=list)

    def message(self) -> str:
        said = f"{self.skipped} record(s) will not be synced."
        if self.moved:
            names = ", ".join(r.label or str(r) for r in self.moved[:5])
            more = f" and {len(self.moved) - 5} more" if len(self.moved) > 5 else ""
            said += (
                f" Left as they are, because the connector was working on them or they changed while "
                f"you looked: {names}{more}. Reload the page to see where they stand now."
            )
        return said


def dont_sync(records: Iterable[SyncRecord], reason: str, user: Any) -> DontSyncResult:
    """Park records for good with the person's reason; the flows leave skipped records alone.

    A record the connector is sending right now is left alone (parking it would hide the result of a
    write that may be landing), and so is one that changed between the person's read and this write
    (the settle is a compare-and-set): both are named back so the person reloads and decides again."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValueError("Say why these records should not be synced.")
    result = DontSyncResult()
    who = getattr(user, "get_username", lambda: "someone")()
    for record in records:
        if record.state in (State.SYNCED, State.SKIPPED):
            continue
        if owned_elsewhere(record):
            result.moved.append(record)
            continue
        before = record.state
        with attempt(record, MANUAL_FLOW, Trigger.PERSON, user) as log:
            log.request = {"reason": reason, "state_before": before}
            settle(record, State.SKIPPED, reason=f"Don't sync ({who}): {reason}", fix=RESUME_FIX)
            took = record.state == State.SKIPPED
            log.outcome = "skipped" if took else "not_skipped"
        if took:
            result.skipped += 1
        else:
            result.moved.append(record)
    return result


def resume(record: SyncRecord, user: Any) -> Replay | None:
    """Undo Don't sync: the record goes back to pending and through its flow again, as a job (or
    with the replay already waiting for it, which reads it as pending)."""
    if record.state != State.SKIPPED:
        return None
    with attempt(record, MANUAL_FLOW, Trigger.PERSON, user) as log:
        log.outcome = "resumed"
        settle(record, State.PENDING, reason="Sync again was chosen; waiting for the next run.")
    return start_replay(record, user)

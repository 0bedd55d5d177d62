"""What a person can do to a ledger record from the admin: replay it, stop it, or resume it.

Each action leaves a line in the record's trail with who did it, so the trail stays the one place
that explains how a record got where it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .ledger import attempt, settle
from .models import Job, State, SyncRecord, Trigger

MANUAL_FLOW = "manual"
RESUME_FIX = "Choose Sync again on the record page to send it after all."


def start_replay(record: SyncRecord, user: Any) -> Job:
    """Replay one record as a job: GP or BILL may be slow, and the person watches it on the job page."""
    from . import jobs

    return jobs.start(Job.REPLAY, user=user, tenant=record.tenant, record_ids=[record.pk])


def dont_sync(records: Iterable[SyncRecord], reason: str, user: Any) -> int:
    """Park records for good with the person's reason; the flows leave skipped records alone."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValueError("Say why these records should not be synced.")
    count = 0
    for record in records:
        if record.state in (State.SYNCED, State.SKIPPED):
            continue
        who = getattr(user, "get_username", lambda: "someone")()
        with attempt(record, MANUAL_FLOW, Trigger.PERSON, user) as log:
            log.outcome = "skipped"
            log.request = {"reason": reason, "state_before": record.state}
            settle(record, State.SKIPPED, reason=f"Don't sync ({who}): {reason}", fix=RESUME_FIX)
        count += 1
    return count


def resume(record: SyncRecord, user: Any) -> Job | None:
    """Undo Don't sync: the record goes back to pending and through its flow again, as a job."""
    if record.state != State.SKIPPED:
        return None
    with attempt(record, MANUAL_FLOW, Trigger.PERSON, user) as log:
        log.outcome = "resumed"
        settle(record, State.PENDING, reason="Sync again was chosen; waiting for the next run.")
    return start_replay(record, user)

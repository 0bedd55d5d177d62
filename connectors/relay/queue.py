"""The relay queue in the database: the connector puts a GP request in and waits for its answer; an
agent leases requests and answers them. Every change of state is one conditional UPDATE, so two agents
of one tenant never both take a request, and a request the connector gave up on is never run late.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from .models import GPAgent, RelayedRequest

KEEP_SETTLED = dt.timedelta(hours=1)  # answered or cancelled rows are kept this long (the dashboard's figures)
PRUNE_EVERY_SECONDS = 60.0
_last_prune = 0.0
LEASE_GRACE_SECONDS = 5.0  # a lease lasts the request's GP timeout plus this
MAX_POLL_STEP = 0.02  # the connector re-reads its request at most this far apart while it waits


@dataclass
class Answer:
    status: int | None
    headers: dict[str, str]
    body: bytes
    error: str  # "" for an HTTP answer; else timeout, reset, unreachable, tls, in_doubt


class NoAgentTookIt(Exception):
    """No agent leased the request in time; it is cancelled, so GP surely never saw it."""


class NoAnswerInTime(Exception):
    """An agent leased the request but no answer came in time: for a write, the outcome is unknown."""


def enqueue(tenant_id: int, method: str, path: str, headers: dict[str, str], body: bytes | None,
            timeout_seconds: float) -> uuid.UUID:
    if connection.in_atomic_block:
        raise RuntimeError("A GP request through an agent must be sent outside a transaction: the agent "
                           "could not see it until the transaction commits.")
    prune_settled()
    row = RelayedRequest.objects.create(tenant_id=tenant_id, method=method.upper(), path=path, headers=headers,
                                        body=body, timeout_seconds=timeout_seconds)
    return row.pk


def prune_settled(now: float | None = None) -> int:
    """Delete answered and cancelled requests older than KEEP_SETTLED, at most once a minute per
    process. Queued and leased ones are never deleted: an agent may still run or answer them."""
    global _last_prune
    now = time.monotonic() if now is None else now
    if now - _last_prune < PRUNE_EVERY_SECONDS:
        return 0
    _last_prune = now
    cutoff = timezone.now() - KEEP_SETTLED
    settled = [RelayedRequest.ANSWERED, RelayedRequest.CANCELLED, RelayedRequest.ABANDONED]
    return RelayedRequest.objects.filter(state__in=settled,
                                         created_at__lt=cutoff).delete()[0]


def wait_for_answer(request_id: uuid.UUID, connect_seconds: float, read_seconds: float,
                    clock: Any = time.monotonic, sleep: Any = time.sleep) -> Answer:
    """Wait as a direct call would: `connect_seconds` for an agent to take the request, then up to
    `read_seconds` more for its answer. Raises NoAgentTookIt or NoAnswerInTime."""
    start = clock()
    take_by, answer_by = start + connect_seconds, start + connect_seconds + read_seconds
    step = 0.001
    rows = RelayedRequest.objects.filter(pk=request_id)
    while True:
        row = rows.values("state", "status", "answer_headers", "answer_body", "error").first()
        if row is None:
            raise NoAnswerInTime()
        if row["state"] == RelayedRequest.ANSWERED:
            return Answer(row["status"], row["answer_headers"] or {}, bytes(row["answer_body"] or b""), row["error"])
        now = clock()
        if row["state"] == RelayedRequest.QUEUED and now >= take_by:
            if rows.filter(state=RelayedRequest.QUEUED).update(state=RelayedRequest.CANCELLED):
                raise NoAgentTookIt()
            continue  # an agent took it just now
        if now >= answer_by:
            # Nobody waits for it any more: never offer it again (the flows reconcile a write instead).
            rows.filter(state=RelayedRequest.LEASED).update(state=RelayedRequest.ABANDONED)
            raise NoAnswerInTime()
        sleep(step)
        step = min(step * 1.5, MAX_POLL_STEP)


def lease(agent: GPAgent, limit: int = 4) -> list[RelayedRequest]:
    """Up to `limit` requests for `agent`: queued ones of its tenants, reads whose lease expired, and
    writes whose lease expired only when this agent held them (its journal answers a repeat)."""
    now = timezone.now()
    offered = (Q(state=RelayedRequest.QUEUED)
               | Q(state=RelayedRequest.LEASED, lease_until__lt=now, method="GET")
               | Q(state=RelayedRequest.LEASED, lease_until__lt=now, agent=agent))
    candidates = list(RelayedRequest.objects.filter(offered, tenant_id__in=agent.tenant_ids())
                      .order_by("created_at").values_list("pk", "state", "lease_until", "timeout_seconds")[:limit])
    taken = []
    for pk, state, lease_until, timeout in candidates:
        until = now + dt.timedelta(seconds=timeout + LEASE_GRACE_SECONDS)
        won = RelayedRequest.objects.filter(pk=pk, state=state, lease_until=lease_until).update(
            state=RelayedRequest.LEASED, agent=agent, lease_until=until, deliveries=F("deliveries") + 1)
        if won:
            taken.append(pk)
    if not taken:
        return []
    return list(RelayedRequest.objects.filter(pk__in=taken).order_by("created_at"))


def record_answer(agent: GPAgent, request_id: uuid.UUID, answer: Answer, agent_ms: float | None) -> bool:
    """Store the answer of a request this agent holds. False when it was not this agent's (taken by
    another after the lease ran out, cancelled, or answered already): the first answer stands."""
    return bool(RelayedRequest.objects.filter(pk=request_id, agent=agent, state=RelayedRequest.LEASED).update(
        state=RelayedRequest.ANSWERED, status=answer.status, answer_headers=answer.headers,
        answer_body=answer.body, error=answer.error, answered_at=timezone.now(), agent_ms=agent_ms))

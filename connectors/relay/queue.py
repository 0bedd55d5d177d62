"""The relay queue in the database: the connector puts a GP request in and waits for its answer; an
agent leases requests and answers them. Every change of state is one conditional UPDATE, so two agents
of one tenant never both take a request, and a request the connector gave up on is never run late.
Waiting is on wake-ups (wakeups.py), not on re-reading the row in a loop.
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

from . import wakeups
from .models import GPAgent, RelayedRequest

KEEP_SETTLED = dt.timedelta(hours=1)  # answered or cancelled rows are kept this long (the dashboard's figures)
PRUNE_EVERY_SECONDS = 60.0
_last_prune = 0.0
LEASE_GRACE_SECONDS = 5.0  # a lease lasts the request's GP timeout plus this


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
            timeout_seconds: float, request_id: uuid.UUID | None = None) -> uuid.UUID:
    if connection.in_atomic_block:
        raise RuntimeError("A GP request through an agent must be sent outside a transaction: the agent "
                           "could not see it until the transaction commits.")
    prune_settled()
    row = RelayedRequest.objects.create(id=request_id or uuid.uuid4(), tenant_id=tenant_id, method=method.upper(),
                                        path=path, headers=headers, body=body, timeout_seconds=timeout_seconds)
    wakeups.signal(tenant_key(tenant_id), sent_by_database=True)
    return row.pk


def tenant_key(tenant_id: int) -> str:
    """The wake-up key of "new work for this tenant's agents"."""
    return f"t{tenant_id}"


def answer_key(request_id: uuid.UUID | str) -> str:
    """The wake-up key of "this request was answered"."""
    return f"r{request_id}"


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


def relay(tenant_id: int, method: str, path: str, headers: dict[str, str], body: bytes | None,
          connect_seconds: float, read_seconds: float) -> Answer:
    """Queue a request and wait for its answer (see wait_for_answer). The wake-up is watched before the
    row exists, so the wait starts asleep instead of with a read."""
    request_id = uuid.uuid4()
    with wakeups.watching([answer_key(request_id)]) as answered:
        enqueue(tenant_id, method, path, headers, body, read_seconds, request_id)
        return _wait(request_id, answered, connect_seconds, read_seconds, time.monotonic, read_first=False)


def wait_for_answer(request_id: uuid.UUID, connect_seconds: float, read_seconds: float,
                    clock: Any = time.monotonic) -> Answer:
    """Wait as a direct call would: `connect_seconds` for an agent to take the request, then up to
    `read_seconds` more for its answer. Woken by the answer itself (wakeups); the row is re-read at
    least every RECHECK_SECONDS all the same. Raises NoAgentTookIt or NoAnswerInTime."""
    with wakeups.watching([answer_key(request_id)]) as answered:
        return _wait(request_id, answered, connect_seconds, read_seconds, clock, read_first=True)


def _wait(request_id: uuid.UUID, answered: Any, connect_seconds: float, read_seconds: float, clock: Any,
          read_first: bool) -> Answer:
    start = clock()
    take_by, answer_by = start + connect_seconds, start + connect_seconds + read_seconds
    rows = RelayedRequest.objects.filter(pk=request_id)
    if not read_first:
        answered.wait(min(connect_seconds, wakeups.RECHECK_SECONDS))
    while True:
        answered.clear()
        row = rows.values("state", "status", "answer_headers", "answer_body", "error").first()
        if row is None:
            raise NoAnswerInTime()
        if row["state"] == RelayedRequest.ANSWERED:
            return Answer(row["status"], row["answer_headers"] or {}, bytes(row["answer_body"] or b""),
                          row["error"])
        now = clock()
        if row["state"] == RelayedRequest.QUEUED and now >= take_by:
            if rows.filter(state=RelayedRequest.QUEUED).update(state=RelayedRequest.CANCELLED):
                raise NoAgentTookIt()
            continue  # an agent took it just now
        if now >= answer_by:
            # Nobody waits for it any more: never offer it again (the flows reconcile a write instead).
            rows.filter(state=RelayedRequest.LEASED).update(state=RelayedRequest.ABANDONED)
            raise NoAnswerInTime()
        until = take_by if row["state"] == RelayedRequest.QUEUED else answer_by
        answered.wait(max(0.0, min(until - now, wakeups.RECHECK_SECONDS)))


def lease(agent: GPAgent, limit: int = 4, tenant_ids: list[int] | None = None) -> list[RelayedRequest]:
    """Up to `limit` requests for `agent`: queued ones of its tenants, reads whose lease expired, and
    writes whose lease expired only when this agent held them (its journal answers a repeat)."""
    if limit <= 0:
        return []
    if connection.vendor == "postgresql":
        return _lease_postgresql(agent, limit)
    now = timezone.now()
    offered = (Q(state=RelayedRequest.QUEUED)
               | Q(state=RelayedRequest.LEASED, lease_until__lt=now, method="GET")
               | Q(state=RelayedRequest.LEASED, lease_until__lt=now, agent=agent))
    candidates = list(RelayedRequest.objects.filter(offered, tenant_id__in=tenant_ids or agent.tenant_ids())
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


def _lease_postgresql(agent: GPAgent, limit: int) -> list[RelayedRequest]:
    """The same choice in one statement: rows another agent is leasing right now are skipped, not
    waited for (SKIP LOCKED), and the agent's tenants are read inside it."""
    table = RelayedRequest._meta.db_table
    serves = GPAgent._meta.get_field("also_serves")
    m2m = serves.remote_field.through._meta.db_table  # type: ignore[union-attr]
    sql = f"""
        UPDATE {table} SET state = %(leased)s, agent_id = %(agent)s, deliveries = deliveries + 1,
               lease_until = %(now)s + make_interval(secs => timeout_seconds + %(grace)s)
         WHERE id IN (
               SELECT id FROM {table}
                WHERE (tenant_id = %(tenant)s OR tenant_id IN (
                       SELECT {serves.m2m_reverse_name()} FROM {m2m} WHERE {serves.m2m_column_name()} = %(agent)s))
                  AND (state = %(queued)s OR (state = %(leased)s AND lease_until < %(now)s
                                              AND (method = 'GET' OR agent_id = %(agent)s)))
                ORDER BY created_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
        RETURNING id, tenant_id, method, path, headers, body, timeout_seconds, state, agent_id, lease_until,
                  deliveries, created_at"""
    params = {"leased": RelayedRequest.LEASED, "queued": RelayedRequest.QUEUED, "agent": agent.pk,
              "tenant": agent.tenant_id, "now": timezone.now(), "grace": LEASE_GRACE_SECONDS, "limit": limit}
    return sorted(RelayedRequest.objects.raw(sql, params), key=lambda r: r.created_at)


def record_answer(agent: GPAgent, request_id: uuid.UUID, answer: Answer, agent_ms: float | None) -> bool:
    """Store the answer of a request this agent holds. False when it was not this agent's (taken by
    another after the lease ran out, cancelled, or answered already): the first answer stands."""
    accepted = bool(RelayedRequest.objects.filter(pk=request_id, agent=agent, state=RelayedRequest.LEASED).update(
        state=RelayedRequest.ANSWERED, status=answer.status, answer_headers=answer.headers,
        answer_body=answer.body, error=answer.error, answered_at=timezone.now(), agent_ms=agent_ms))
    if accepted:
        wakeups.signal(answer_key(request_id), sent_by_database=True)
    return accepted


def wait_for_work(agent: GPAgent, seconds: float, limit: int, clock: Any = time.monotonic) -> list[RelayedRequest]:
    """Lease up to `limit` requests for `agent`, waiting up to `seconds` for one to be queued (woken by
    `enqueue`; re-read every RECHECK_SECONDS for leases that ran out, which signal nothing)."""
    if seconds <= 0:
        return lease(agent, limit)
    deadline = clock() + seconds
    tenant_ids = agent.tenant_ids()
    with wakeups.watching([tenant_key(t) for t in tenant_ids]) as queued:
        while True:
            queued.clear()
            taken = lease(agent, limit, tenant_ids)
            now = clock()
            if taken or now >= deadline:
                return taken
            queued.wait(min(deadline - now, wakeups.RECHECK_SECONDS))

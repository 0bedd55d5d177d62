"""The relay queue in the database: the connector puts a GP request in and waits for its answer; an
agent leases requests and answers them. Every change of state is one conditional UPDATE, so two agents
of one tenant never both take a request, and a request the connector gave up on is never run late.
Waiting is on wake-ups (wakeups.py), not on re-reading the row in a loop.

The statements a relayed request runs on every trip (queue it, lease it, answer it, read its answer)
are plain SQL through Django's connection, not the ORM: the ORM's per-call cost was most of the
relay's CPU (`python -m bench agent`). One statement each; a batch of answers is one statement on
PostgreSQL (one transaction on SQLite).
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import wakeups
from .models import GPAgent, RelayedRequest

KEEP_SETTLED = dt.timedelta(
    hours=1
)  # answered or cancelled rows are kept this long (the dashboard's figures)
PRUNE_EVERY_SECONDS = 60.0
_last_prune = 0.0
LEASE_GRACE_SECONDS = 5.0  # a lease lasts the request's GP timeout plus this
TABLE = RelayedRequest._meta.db_table
_HEADERS = RelayedRequest._meta.get_field("headers")
_BODY = RelayedRequest._meta.get_field("body")
_CREATED = RelayedRequest._meta.get_field("created_at")


@dataclass
class Answer:
    status: int | None
    headers: dict[str, str]
    body: bytes
    error: str  # "" for an HTTP answer; else timeout, reset, unreachable, tls, in_doubt


@dataclass
class Leased:
    """A request as an agent is given it (what `/agent/poll` sends)."""

    pk: uuid.UUID
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    timeout_seconds: float


def _pk(request_id: uuid.UUID | str) -> Any:
    """A request ID as the database stores it (uuid on PostgreSQL, 32 hex digits on SQLite)."""
    value = request_id if isinstance(request_id, uuid.UUID) else uuid.UUID(str(request_id))
    return RelayedRequest._meta.pk.get_db_prep_value(value, connection)  # type: ignore[union-attr]


def _json(value: Any) -> Any:
    """A JSON column as read by plain SQL: text (SQLite, and Django's psycopg loader) or already parsed."""
    return json.loads(value) if isinstance(value, str | bytes) else (value or {})


class NoAgentTookIt(Exception):
    """No agent leased the request in time; it is cancelled, so GP surely never saw it."""


class NoAnswerInTime(Exception):
    """An agent leased the request but no answer came in time: for a write, the outcome is unknown."""


def enqueue(
    tenant_id: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    timeout_seconds: float,
    request_id: uuid.UUID | None = None,
) -> uuid.UUID:
    if connection.in_atomic_block:
        raise RuntimeError(
            "A GP request through an agent must be sent outside a transaction: the agent "
            "could not see it until the transaction commits."
        )
    prune_settled()
    request_id = request_id or wakeups.new_request_id()
    with connection.cursor() as cursor:  # autocommit: one statement, one transaction
        cursor.execute(
            f"INSERT INTO {TABLE} (id, tenant_id, method, path, headers, body, timeout_seconds, state, "
            "deliveries, created_at, answer_headers, error) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s, '')",
            [
                _pk(request_id),
                tenant_id,
                method.upper(),
                path,
                _HEADERS.get_db_prep_value(headers, connection),
                None if body is None else _BODY.get_db_prep_value(body, connection),
                float(timeout_seconds),
                RelayedRequest.QUEUED,
                _CREATED.get_db_prep_value(timezone.now(), connection),
                _HEADERS.get_db_prep_value({}, connection),
            ],
        )
    wakeups.signal(tenant_key(tenant_id), sent_by_database=True)
    return request_id


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
    return RelayedRequest.objects.filter(state__in=settled, created_at__lt=cutoff).delete()[0]


def relay(
    tenant_id: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    connect_seconds: float,
    read_seconds: float,
) -> Answer:
    """Queue a request and wait for its answer (see wait_for_answer). The wake-up is watched before the
    row exists, so the wait starts asleep instead of with a read."""
    request_id = wakeups.new_request_id()  # its answer wakes this process only
    with wakeups.watching([answer_key(request_id)]) as answered:
        enqueue(tenant_id, method, path, headers, body, read_seconds, request_id)
        return _wait(request_id, answered, connect_seconds, read_seconds, time.monotonic, read_first=False)


def wait_for_answer(
    request_id: uuid.UUID, connect_seconds: float, read_seconds: float, clock: Any = time.monotonic
) -> Answer:
    """Wait as a direct call would: `connect_seconds` for an agent to take the request, then up to
    `read_seconds` more for its answer. Woken by the answer itself (wakeups); the row is re-read at
    least every RECHECK_SECONDS all the same. Raises NoAgentTookIt or NoAnswerInTime."""
    with wakeups.watching([answer_key(request_id)]) as answered:
        return _wait(request_id, answered, connect_seconds, read_seconds, clock, read_first=True)


def _wait(
    request_id: uuid.UUID,
    answered: Any,
    connect_seconds: float,
    read_seconds: float,
    clock: Any,
    read_first: bool,
) -> Answer:
    start = clock()
    take_by, answer_by = start + connect_seconds, start + connect_seconds + read_seconds
    key = _pk(request_id)
    if not read_first:
        answered.wait(min(connect_seconds, wakeups.RECHECK_SECONDS))
    while True:
        answered.clear()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT state, status, answer_headers, answer_body, error FROM {TABLE} WHERE id = %s", [key]
            )
            row = cursor.fetchone()
        if row is None:
            raise NoAnswerInTime()
        state, status, answer_headers, answer_body, error = row
        if state == RelayedRequest.ANSWERED:
            return Answer(status, _json(answer_headers), bytes(answer_body or b""), error)
        now = clock()
        if state == RelayedRequest.QUEUED and now >= take_by:
            # The querysets are built here, not once per wait: building one cost as much as reading the
            # answer.
            rows = RelayedRequest.objects.filter(pk=request_id, state=RelayedRequest.QUEUED)
            if rows.update(state=RelayedRequest.CANCELLED):
                raise NoAgentTookIt()
            continue  # an agent took it just now
        if now >= answer_by:
            # Nobody waits for it any more: never offer it again (the flows reconcile a write instead).
            RelayedRequest.objects.filter(pk=request_id, state=RelayedRequest.LEASED).update(
                state=RelayedRequest.ABANDONED
            )
            raise NoAnswerInTime()
        until = take_by if state == RelayedRequest.QUEUED else answer_by
        answered.wait(max(0.0, min(until - now, wakeups.RECHECK_SECONDS)))


def lease(agent: GPAgent, limit: int = 4, tenant_ids: list[int] | None = None) -> list[Leased]:
    """Up to `limit` requests for `agent`: queued ones of its tenants, reads whose lease expired, and
    writes whose lease expired only when this agent held them (its journal answers a repeat)."""
    if limit <= 0:
        return []
    if connection.vendor == "postgresql":
        return _lease_postgresql(agent, limit)
    now = timezone.now()
    offered = (
        Q(state=RelayedRequest.QUEUED)
        | Q(state=RelayedRequest.LEASED, lease_until__lt=now, method="GET")
        | Q(state=RelayedRequest.LEASED, lease_until__lt=now, agent=agent)
    )
    candidates = list(
        RelayedRequest.objects.filter(offered, tenant_id__in=tenant_ids or agent.tenant_ids())
        .order_by("created_at")
        .values_list("pk", "state", "lease_until", "timeout_seconds")[:limit]
    )
    taken = []
    for pk, state, lease_until, timeout in candidates:
        until = now + dt.timedelta(seconds=timeout + LEASE_GRACE_SECONDS)
        won = RelayedRequest.objects.filter(pk=pk, state=state, lease_until=lease_until).update(
            state=RelayedRequest.LEASED, agent=agent, lease_until=until, deliveries=F("deliveries") + 1
        )
        if won:
            taken.append(pk)
    if not taken:
        return []
    return [
        Leased(
            r.pk, r.method, r.path, r.headers, None if r.body is None else bytes(r.body), r.timeout_seconds
        )
        for r in RelayedRequest.objects.filter(pk__in=taken).order_by("created_at")
    ]


def _lease_postgresql(agent: GPAgent, limit: int) -> list[Leased]:
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
                       SELECT {serves.m2m_reverse_name()} FROM {m2m} WHERE {serves.m2m_column_name()} =
                       %(agent)s))
                  AND (state = %(queued)s OR (state = %(leased)s AND lease_until < %(now)s
                                              AND (method = 'GET' OR agent_id = %(agent)s)))
                ORDER BY created_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
        RETURNING id, method, path, headers, body, timeout_seconds, created_at"""
    params: dict[str, Any] = {
        "leased": RelayedRequest.LEASED,
        "queued": RelayedRequest.QUEUED,
        "agent": agent.pk,
        "tenant": agent.tenant_id,
        "now": timezone.now(),
        "grace": LEASE_GRACE_SECONDS,
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = sorted(cursor.fetchall(), key=lambda r: r[6])
    return [
        Leased(pk, method, path, _json(headers), None if body is None else bytes(body), timeout)
        for pk, method, path, headers, body, timeout, _created in rows
    ]


def record_answer(agent: GPAgent, request_id: uuid.UUID, answer: Answer, agent_ms: float | None) -> bool:
    """Store the answer of a request this agent holds. False when it was not this agent's (taken by
    another after the lease ran out, cancelled, or answered already): the first answer stands."""
    request_id = uuid.UUID(str(request_id))
    return record_answers(agent, [(request_id, answer, agent_ms)])[request_id]


def record_answers(
    agent: GPAgent, answers: Iterable[tuple[uuid.UUID, Answer, float | None]]
) -> dict[uuid.UUID, bool]:
    """`record_answer` for several answers at once: one statement on PostgreSQL, one transaction on
    SQLite. Each is stored only if this agent still holds its request (leased), exactly as one by one."""
    answers = list(
        dict(
            (uuid.UUID(str(rid)), (uuid.UUID(str(rid)), answer, ms))
            for rid, answer, ms in reversed(list(answers))
        ).values()
    )  # an ID twice: its first answer (as one by one)
    if not answers:
        return {}
    now = _CREATED.get_db_prep_value(timezone.now(), connection)
    if connection.vendor == "postgresql":
        rows = ", ".join(
            ["(%s::uuid, %s::integer, %s::jsonb, %s::bytea, %s::text, %s::double precision)"] * len(answers)
        )
        params: list[Any] = []
        for request_id, answer, agent_ms in answers:
            params += [
                request_id,
                answer.status,
                json.dumps(answer.headers),
                answer.body,
                answer.error,
                agent_ms,
            ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} AS r SET state = %s, status = a.status, answer_headers = a.headers, "
                f"answer_body = a.body, error = a.error, answered_at = %s, agent_ms = a.agent_ms "
                f"FROM (VALUES {rows}) AS a (id, status, headers, body, error, agent_ms) "
                f"WHERE r.id = a.id AND r.agent_id = %s AND r.state = %s RETURNING r.id",
                [RelayedRequest.ANSWERED, now, *params, agent.pk, RelayedRequest.LEASED],
            )
            stored = {row[0] for row in cursor.fetchall()}
    else:
        stored = set()
        with transaction.atomic(), connection.cursor() as cursor:
            for request_id, answer, agent_ms in answers:
                cursor.execute(
                    f"UPDATE {TABLE} SET state = %s, status = %s, answer_headers = %s, answer_body = %s, "
                    f"error = %s, answered_at = %s, agent_ms = %s "
                    f"WHERE id = %s AND agent_id = %s AND state = %s",
                    [
                        RelayedRequest.ANSWERED,
                        answer.status,
                        _HEADERS.get_db_prep_value(answer.headers, connection),
                        _BODY.get_db_prep_value(answer.body, connection),
                        answer.error,
                        now,
                        agent_ms,
                        _pk(request_id),
                        agent.pk,
                        RelayedRequest.LEASED,
                    ],
                )
                if cursor.rowcount:
                    stored.add(request_id)
    wakeups.signal_all([answer_key(request_id) for request_id in stored], sent_by_database=True)
    return {request_id: request_id in stored for request_id, _answer, _ms in answers}


def wait_for_work(agent: GPAgent, seconds: float, limit: int, clock: Any = time.monotonic) -> list[Leased]:
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

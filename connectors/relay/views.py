"""The agent's two endpoints, the only public URLs of the relay. Token auth (no session, no CSRF:
there is no cookie to ride on); bodies are JSON with the GP bodies base64-encoded.

POST /agent/poll    {"version", "host", "wait", "max", "answers": [answer, …]}
                    → {"requests": [{id, method, path, headers, body, timeout}], "accepted": {id: bool}}
POST /agent/answer  {"id", "status", "headers", "body", "error", "agent_ms"} → {"accepted": bool}

A poll may carry answers: an agent's worker posts its answer and takes its next request in one call.
`wait` (≤ MAX_WAIT_SECONDS) lets a busy agent's poll wait on the server for the next request, woken
the moment one is queued (wakeups.py); an idle agent polls with wait 0 and sleeps between polls, so
idle agents hold no server thread. `max` (≤ MAX_BATCH) is how many requests it may be given at once.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import Field
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import queue, tokens
from .models import GPAgent

MAX_WAIT_SECONDS = 1.0
MAX_BATCH = 32
SEEN_EVERY = dt.timedelta(seconds=2)
MAX_BODY_BYTES = 20_000_000
ERRORS = ("", "timeout", "reset", "unreachable", "tls", "in_doubt")


def _refuse(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def agent_endpoint(
    view: Callable[[GPAgent, dict[str, Any]], JsonResponse],
) -> Callable[[HttpRequest], JsonResponse]:
    """POST only, no CSRF (no cookie to ride on), a live agent token, a JSON object body; the agent's
    last-seen time, version and host are stamped on every call."""

    @csrf_exempt
    @require_POST
    @functools.wraps(view)
    def endpoint(request: HttpRequest) -> JsonResponse:
        agent = tokens.agent_for(request.headers.get("Authorization", ""))
        if agent is None:
            return _refuse(
                401, "This agent token is unknown or was revoked; ask your Connector admin for a new one."
            )
        if len(request.body) > MAX_BODY_BYTES:
            return _refuse(413, "Answer too large.")
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return _refuse(400, "The body is not JSON.")
        if not isinstance(data, dict):
            return _refuse(400, "The body must be a JSON object.")
        _seen(agent, data)
        return view(agent, data)

    return endpoint


def _seen(agent: GPAgent, data: dict[str, Any]) -> None:
    """Stamp last seen (at most every SEEN_EVERY: a busy agent calls many times a second), version, host."""
    now, fields = timezone.now(), {}
    for key in ("version", "host"):
        value = data.get(key)
        if isinstance(value, str) and value[: _max_length(key)] != getattr(agent, key):
            fields[key] = value[: _max_length(key)]
    if fields or agent.last_seen_at is None or now - agent.last_seen_at >= SEEN_EVERY:
        GPAgent.objects.filter(pk=agent.pk).update(last_seen_at=now, **fields)


def _max_length(name: str) -> int | None:
    """How much of what the agent says it keeps (its GPAgent column)."""
    column = GPAgent._meta.get_field(name)
    return column.max_length if isinstance(column, Field) else None


@agent_endpoint
def poll(agent: GPAgent, data: dict[str, Any]) -> JsonResponse:
    answers = data.get("answers") or []
    if not isinstance(answers, list) or len(answers) > MAX_BATCH:
        return _refuse(400, f"answers must be a list of at most {MAX_BATCH} answers.")
    parsed = [_parse_answer(item) for item in answers]
    valid = [p for p in parsed if p is not None]
    if len(valid) != len(parsed):  # checked before any is stored: the agent's answers are all taken or none
        return _refuse(400, "An answer is malformed (id, status or error, headers, body).")
    stored = queue.record_answers(agent, valid)
    accepted = {str(request_id): stored[request_id] for request_id, _answer, _ms in valid}
    try:
        wait = min(max(float(data.get("wait", 0)), 0.0), MAX_WAIT_SECONDS)
        limit = min(max(int(data.get("max", 4)), 0), MAX_BATCH)
    except (TypeError, ValueError):
        wait, limit = 0.0, 4
    taken = queue.wait_for_work(agent, wait, limit) if limit else []
    return JsonResponse(
        {
            "accepted": accepted,
            "requests": [
                {
                    "id": str(r.pk),
                    "method": r.method,
                    "path": r.path,
                    "headers": r.headers,
                    "timeout": r.timeout_seconds,
                    "body": base64.b64encode(bytes(r.body)).decode() if r.body is not None else None,
                }
                for r in taken
            ],
        }
    )


def _parse_answer(data: Any) -> tuple[uuid.UUID, queue.Answer, float | None] | None:
    """An answer as the agent posts it, checked; None when malformed."""
    try:
        request_id = uuid.UUID(str(data.get("id")))
        status = data.get("status")
        if status is not None and not (isinstance(status, int) and 100 <= status <= 599):
            raise ValueError("status")
        error = data.get("error") or ""
        if error not in ERRORS or (status is None) == (error == ""):
            raise ValueError("error")
        headers = {str(k)[:200]: str(v)[:2000] for k, v in (data.get("headers") or {}).items()}
        body = base64.b64decode(data.get("body") or "", validate=True)
        agent_ms = float(data["agent_ms"]) if data.get("agent_ms") is not None else None
    except (TypeError, ValueError, AttributeError):
        return None
    return request_id, queue.Answer(status, headers, body, error), agent_ms


@agent_endpoint
def answer(agent: GPAgent, data: dict[str, Any]) -> JsonResponse:
    parsed = _parse_answer(data)
    if parsed is None:
        return _refuse(400, "The answer is malformed (id, status or error, headers, body).")
    request_id, answer_, agent_ms = parsed
    return JsonResponse({"accepted": queue.record_answer(agent, request_id, answer_, agent_ms)})

"""The relay's hot path made cheaper (issue 19 §5) without losing a check: the agent endpoints' short way
past the middleware, the plain-SQL agent and tenant lookups, and the agent's pre-built connector calls."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from connectors.agent_client.worker import Agent, AgentConfig
from connectors.models import Tenant
from connectors.relay import queue, tokens, wakeups
from connectors.relay.models import GPAgent, RelayedRequest


def poll(url: str, token: str, **headers: str) -> requests.Response:
    return requests.post(
        f"{url}/agent/poll",
        json={"wait": 0, "max": 4},
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=30,
    )


def test_an_agent_call_keeps_its_security_headers_and_its_checks_on_the_short_way(
    connector_url, through_agent, token
):
    request_id = queue.enqueue(through_agent.tenant_id, "GET", "/short", {}, None, 20)
    answer = poll(connector_url, token)
    assert answer.status_code == 200 and [r["id"] for r in answer.json()["requests"]] == [str(request_id)]
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Length"] == str(len(answer.content))
    assert "Set-Cookie" not in answer.headers
    # No page, so none of the page layers ran (the CSP header is theirs): the call took the short way.
    assert "Content-Security-Policy" not in answer.headers
    # Still checked there: the Host header, the token (revoked at once), the method.
    assert poll(connector_url, token, Host="evil.example").status_code == 400
    assert requests.get(f"{connector_url}/agent/poll", timeout=30).status_code == 405
    tokens.revoke(GPAgent.objects.get())
    refused = poll(connector_url, token)
    assert refused.status_code == 401 and refused.headers["X-Frame-Options"] == "DENY"
    assert RelayedRequest.objects.get(pk=request_id).deliveries == 1
    # A page of the site still goes the whole way (its CSP header).
    assert "Content-Security-Policy" in requests.get(f"{connector_url}/admin/login/", timeout=30).headers


def test_an_agent_s_tenants_are_its_own_and_those_it_also_serves_and_no_other(db, tenant):
    sister = Tenant.objects.create(name="Sister company", slug="sister")
    stranger = Tenant.objects.create(name="Someone else", slug="stranger")
    agent, _token = tokens.issue(tenant, "room A")
    other, _ = tokens.issue(stranger, "room B")
    assert agent.tenant_ids() == [tenant.pk]
    agent.also_serves.add(sister)
    assert agent.tenant_ids() == [tenant.pk, sister.pk]
    assert other.tenant_ids() == [stranger.pk]


def test_the_token_lookup_gives_the_agent_as_stored_and_nothing_once_revoked(db, tenant):
    agent, token = tokens.issue(tenant, "room A")
    GPAgent.objects.filter(pk=agent.pk).update(last_seen_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    found = tokens.agent_for(f"Bearer {token}")
    assert found is not None and found.pk == agent.pk and found.tenant_id == tenant.pk
    assert found.created_at == GPAgent.objects.get(pk=agent.pk).created_at  # a datetime, not text
    assert found.last_seen_at == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert tokens.agent_for(f"Bearer {token}x") is None
    tokens.revoke(agent)
    assert tokens.agent_for(f"Bearer {token}") is None


class Recorder(BaseHTTPRequestHandler):
    """Records each request (line, Authorization header, body) and answers as the test says."""

    seen: list[tuple[str, str, Any, Any]]
    reply: tuple[int, dict[str, str], bytes]

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append(
            (self.requestline, self.headers.get("Authorization", ""), json.loads(body or b"{}"), self.headers)
        )
        status, headers, content = self.reply
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(content))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, *args: Any) -> None:
        pass

    do_GET = do_POST  # noqa: N815 - the http.server API


@pytest.fixture
def serve() -> Iterator[Any]:
    """`serve(status, headers, body)` → (url, the requests it saw)."""
    servers: list[ThreadingHTTPServer] = []

    def start(status: int, headers: dict[str, str], body: bytes) -> tuple[str, list[Any]]:
        seen: list[Any] = []
        handler = type("Handler", (Recorder,), {"seen": seen, "reply": (status, headers, body)})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", seen

    yield start
    for server in servers:
        server.shutdown()


def agent_for_url(url: str, tmp_path: Any) -> Agent:
    return Agent(
        AgentConfig(url, "mlca_secret", "http://gp.invalid", "D\\u", "-", str(tmp_path / "j.sqlite3"))
    )


def test_the_agent_reaches_the_connector_through_the_environment_s_proxy(serve, tmp_path, monkeypatch):
    empty = json.dumps({"accepted": {}, "requests": []}).encode()
    proxy, seen = serve(200, {"Content-Type": "application/json"}, empty)
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, proxy)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    agent = agent_for_url("http://connector.example.invalid", tmp_path)
    assert agent.poll_once(limit=2) == [] and agent.poll_once(limit=3) == []
    assert [line for line, _auth, _body, _headers in seen] == [
        "POST http://connector.example.invalid/agent/poll HTTP/1.1"
    ] * 2
    assert {auth for _line, auth, _body, _headers in seen} == {"Bearer mlca_secret"}
    assert [body["max"] for _line, _auth, body, _headers in seen] == [2, 3]  # each call its own body
    agent.journal.close()


def test_the_agent_never_follows_a_redirect_with_its_token(serve, tmp_path):
    elsewhere, heard_elsewhere = serve(200, {"Content-Type": "application/json"}, b"{}")
    connector, seen = serve(307, {"Location": f"{elsewhere}/agent/poll"}, b"")
    agent = agent_for_url(connector, tmp_path)
    with pytest.raises(requests.HTTPError, match="307"):
        agent.poll_once()
    assert len(seen) == 1 and heard_elsewhere == []
    agent.journal.close()


def test_the_agent_sends_gp_the_request_as_the_connector_made_it(serve, tmp_path):
    """Method, path and query (quoted once), headers, body and GP's sign-in, as requests would send them."""
    gp, seen = serve(200, {"Content-Type": "application/json", "X-Gp": "1"}, b'{"ok": true}')
    agent = Agent(
        AgentConfig("http://connector.invalid", "mlca_x", gp + "/", "D\\u", "pw", str(tmp_path / "j.sqlite3"))
    )
    agent.config.gp_auth = "basic"
    request = {
        "id": "0b6f2f0e-0000-4000-8000-000000000001",
        "method": "get",
        "path": "/gp/Vendors(%27A%20B%27)?$filter=x eq 1",
        "headers": {"Accept": "application/json", "X-MLC-GP-Service": "sba"},
        "body": None,
        "timeout": 5,
    }
    answer = agent.answer_for(request)
    assert answer["status"] == 200 and answer["headers"]["X-Gp"] == "1"
    assert base64.b64decode(answer["body"]) == b'{"ok": true}'
    ((line, auth, _body, headers),) = seen
    assert line == "GET /gp/Vendors(%27A%20B%27)?$filter=x%20eq%201 HTTP/1.1"
    assert auth == "Basic " + base64.b64encode(b"D\\u:pw").decode()
    assert headers["Accept"] == "application/json" and headers["User-Agent"].startswith("ml-connector-agent/")
    assert "X-MLC-GP-Service" not in headers  # the connector's note to the agent goes no further
    agent.journal.close()


@pytest.mark.services
def test_answers_stored_together_each_wake_the_process_waiting_for_them(through_agent, token):
    """With Redis, the answers an agent posts in one call are published together (one round trip):
    each still reaches the process that queued its request."""
    import redis  # only this test needs it (Redis is optional)
    from django.conf import settings

    if wakeups.backend() != "redis":
        pytest.skip("needs Redis (REDIS_URL)")
    listener = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(wakeups._channel(queue.answer_key(wakeups.new_request_id())))  # this process's
    ids = [queue.enqueue(through_agent.tenant_id, "GET", f"/batch/{n}", {}, None, 20) for n in range(3)]
    agent = GPAgent.objects.get()
    assert {r.pk for r in queue.lease(agent, 3)} == set(ids)
    answers = [(request_id, queue.Answer(200, {}, b"{}", ""), 1.0) for request_id in ids[:2]]
    assert queue.record_answers(agent, answers) == {ids[0]: True, ids[1]: True}
    heard: list[str] = []
    deadline = time.monotonic() + 20
    while len(heard) < 2 and time.monotonic() < deadline:
        message = listener.get_message(timeout=1.0)
        if message:
            heard.append(message["data"].decode())
    listener.close()
    assert sorted(heard) == sorted(queue.answer_key(request_id) for request_id in ids[:2])

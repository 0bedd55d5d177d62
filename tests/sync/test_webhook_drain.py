"""Deliveries queue one drain per tenant, not a task each (connectors/webhook_drain.py), and still no
event is left unprocessed: a burst is all processed by the one drain, a delivery that arrives while a
drain runs queues the next one, and a drain that was lost is replaced once its flag expires."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from audit.models import WebhookEvent
from connectors import tasks, webhook_drain
from connectors.bill.webhooks import compute_signature
from connectors.models import BillConnection, GPConnection, Tenant

pytestmark = pytest.mark.django_db(transaction=True)
ORG, KEY = "00802DRAINTESTORG001", "drain-test-webhook-key"


@pytest.fixture
def tenant():
    made = Tenant.objects.create(name="Drain Co", slug=f"drain-{uuid.uuid4().hex[:8]}")
    BillConnection.objects.create(
        tenant=made,
        organization_id=ORG,
        username="ap@example.com",
        password="pw",
        dev_key="dk",
        webhook_security_key=KEY,
    )
    GPConnection.objects.create(
        tenant=made,
        base_url="https://gp.example",
        company="Fabrikam",
        domain="CORP",
        username="svc",
        password="pw",
    )
    yield made
    webhook_drain.clear_flag(made.pk)


@pytest.fixture
def queued(monkeypatch):
    """The drains deliveries queue, held (as the broker would) until the test runs them."""
    held: list[tuple[str, tuple]] = []
    monkeypatch.setattr(webhook_drain, "enqueue", lambda func, *args, **kw: held.append((func, args)))
    return held


def deliver(live_server, tenant, n: int) -> requests.Response:
    raw = json.dumps(
        {
            "metadata": {
                "eventId": f"evt-{uuid.uuid4()}",
                "eventType": "bill.updated",
                "organizationId": ORG,
            },
            "bill": {"id": f"00n02DRAIN{n:010d}"},
        }
    ).encode()
    return requests.post(
        f"{live_server.url}/webhooks/bill/{tenant.slug}/",
        data=raw,
        timeout=30,
        headers={"Content-Type": "application/json", "x-bill-sha-signature": compute_signature(raw, KEY)},
    )


def run_queued(held: list[tuple[str, tuple]]) -> int:
    """Run held drains, oldest first, as the short queue's worker would, until none is left."""
    ran = 0
    while held:
        func, args = held.pop(0)
        assert func == "connectors.tasks.drain_webhook_events"
        tasks.drain_webhook_events(*args)
        ran += 1
    return ran


def unprocessed(tenant) -> int:
    return WebhookEvent.objects.filter(tenant=tenant, state=WebhookEvent.RECEIVED).count()


def test_a_burst_of_deliveries_queues_one_drain_that_processes_them_all(live_server, tenant, queued):
    for n in range(25):
        assert deliver(live_server, tenant, n).status_code == 200
    assert WebhookEvent.objects.filter(tenant=tenant).count() == 25
    assert unprocessed(tenant) == 25
    assert queued == [("connectors.tasks.drain_webhook_events", (tenant.pk,))]
    assert run_queued(queued) == 1
    assert unprocessed(tenant) == 0
    assert not WebhookEvent.objects.filter(tenant=tenant, processed_at__isnull=True).exists()
    # The drain cleared the flag: the next delivery queues the next drain.
    assert deliver(live_server, tenant, 99).status_code == 200
    assert len(queued) == 1 and run_queued(queued) == 1 and unprocessed(tenant) == 0


def test_a_delivery_that_arrives_while_a_drain_runs_is_not_left_behind(
    live_server, tenant, queued, monkeypatch
):
    from connectors.sync.bill_to_gp import events

    for n in range(3):
        assert deliver(live_server, tenant, n).status_code == 200
    real, arrived = events.process_event, []

    def slow_process(event, ctx=None):  # a delivery lands in the middle of the drain
        if not arrived:
            arrived.append(deliver(live_server, tenant, 50).status_code)
        return real(event, ctx)

    monkeypatch.setattr(events, "process_event", slow_process)
    assert len(queued) == 1
    _, args = queued.pop(0)
    tasks.drain_webhook_events(*args)  # the first drain only
    assert arrived == [200]
    # The first drain had already read its list: the new event was left to the drain it queued.
    assert unprocessed(tenant) == 1
    assert queued == [("connectors.tasks.drain_webhook_events", (tenant.pk,))]
    run_queued(queued)
    assert unprocessed(tenant) == 0 and WebhookEvent.objects.filter(tenant=tenant).count() == 4


def test_a_lost_drain_is_replaced_once_its_flag_expires(live_server, tenant, queued, monkeypatch):
    monkeypatch.setattr(webhook_drain, "FLAG_TTL", timedelta(milliseconds=300))
    assert deliver(live_server, tenant, 1).status_code == 200
    queued.clear()  # the drain is lost (worker killed, queue flushed)
    assert deliver(live_server, tenant, 2).status_code == 200
    assert queued == []  # its flag still stands: no second drain yet
    time.sleep(0.5)
    assert deliver(live_server, tenant, 3).status_code == 200
    assert len(queued) == 1
    run_queued(queued)
    assert unprocessed(tenant) == 0 and WebhookEvent.objects.filter(tenant=tenant).count() == 3


def test_a_repeated_delivery_queues_nothing_and_is_stored_once(live_server, tenant, queued):
    raw = json.dumps(
        {
            "metadata": {"eventId": "evt-repeat-1", "eventType": "bill.updated", "organizationId": ORG},
            "bill": {"id": "00n02DRAIN0000000001"},
        }
    ).encode()
    headers = {"Content-Type": "application/json", "x-bill-sha-signature": compute_signature(raw, KEY)}
    url = f"{live_server.url}/webhooks/bill/{tenant.slug}/"
    assert requests.post(url, data=raw, timeout=30, headers=headers).json() == {"ok": True}
    run_queued(queued)
    assert requests.post(url, data=raw, timeout=30, headers=headers).json() == {"ok": True, "duplicate": True}
    assert queued == [] and WebhookEvent.objects.filter(tenant=tenant).count() == 1


def url_of(live_server, tenant) -> str:
    return f"{live_server.url}/webhooks/bill/{tenant.slug}/"


def test_a_delivery_answer_keeps_its_security_headers_and_sets_no_cookie(live_server, tenant, queued):
    """Deliveries take the short way past the session/CSRF/CSP middleware (gpbill_site/webhook_path.py)."""
    answer = deliver(live_server, tenant, 7)
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Length"] == str(len(answer.content))
    assert "Set-Cookie" not in answer.headers
    assert requests.get(f"{live_server.url}/webhooks/bill/{tenant.slug}/", timeout=30).status_code == 405
    bad = requests.post(
        f"{live_server.url}/webhooks/bill/{tenant.slug}",
        data=b"{}",
        timeout=30,
        headers={"x-bill-sha-signature": "bm90IGl0"},
        allow_redirects=False,
    )
    assert bad.status_code == 401 and bad.headers["X-Frame-Options"] == "DENY"
    # The short way still checks the Host header against ALLOWED_HOSTS, as the rest of the site does.
    stranger = requests.post(
        url_of(live_server, tenant),
        data=b"{}",
        timeout=30,
        headers={"Host": "evil.example", "x-bill-sha-signature": "bm90IGl0"},
    )
    assert stranger.status_code == 400


def test_the_watchdog_queues_a_drain_for_events_left_waiting_when_no_delivery_follows(
    live_server, tenant, queued
):
    from connectors.webhook_drain import sweep

    assert deliver(live_server, tenant, 1).status_code == 200
    queued.clear()  # the drain is lost, and BILL sends nothing more
    assert sweep(tenant.pk) is False  # young: its drain may still be waiting in the queue
    WebhookEvent.objects.filter(tenant=tenant).update(received_at=timezone.now() - webhook_drain.FLAG_TTL * 2)
    webhook_drain.clear_flag(tenant.pk)  # the lost drain's flag has expired by then
    assert sweep(tenant.pk) is True and len(queued) == 1
    run_queued(queued)
    assert unprocessed(tenant) == 0

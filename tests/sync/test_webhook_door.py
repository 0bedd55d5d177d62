"""The webhook endpoint's door over real HTTP (issue 14, items 5 and 6): unauthenticated requests do
not grow the database, bodies that cannot be parsed are a 400 not a 500, event IDs are per tenant and
never cut short, and the URL without its trailing slash is answered, not redirected."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from audit.models import WebhookEvent, WebhookRejection
from connectors.bill.webhooks import compute_signature
from connectors.models import BillConnection, GPConnection, Tenant

pytestmark = pytest.mark.django_db(transaction=True)
ORG_A, ORG_B = "00802DOORTESTORGA001", "00802DOORTESTORGB001"


@pytest.fixture
def two_tenants():
    made = []
    for slug, org in (("alpha", ORG_A), ("beta", ORG_B)):
        tenant = Tenant.objects.create(name=f"{slug.title()} Co", slug=slug)
        BillConnection.objects.create(
            tenant=tenant,
            organization_id=org,
            username="ap@example.com",
            password="pw",
            dev_key="dk",
            webhook_security_key=f"key-{slug}",
        )
        GPConnection.objects.create(
            tenant=tenant,
            base_url="https://gp.example",
            company="Fabrikam",
            domain="CORP",
            username="svc",
            password="pw",
        )
        made.append(tenant)
    return made


def _post(url: str, raw: bytes, key: str) -> requests.Response:
    return requests.post(
        url,
        data=raw,
        timeout=30,
        allow_redirects=False,
        headers={"Content-Type": "application/json", "x-bill-sha-signature": compute_signature(raw, key)},
    )


def _event(org: str, event_id: str, entity_id: str = "00n02ABCDEFGHIJKLMNO") -> bytes:
    return json.dumps(
        {
            "metadata": {"eventId": event_id, "eventType": "bill.updated", "organizationId": org},
            "bill": {"id": entity_id},
        },
        separators=(",", ":"),
    ).encode()


def test_deliveries_for_unknown_tenants_are_counted_in_one_bucket_not_a_row_per_slug(
    live_server, two_tenants
):
    for _ in range(30):
        answer = _post(f"{live_server.url}/webhooks/bill/nobody-{uuid.uuid4().hex[:12]}/", b"{}", "k")
        assert answer.status_code == 404
    assert WebhookRejection.objects.count() == 1
    bucket = WebhookRejection.objects.get()
    assert bucket.tenant is None and bucket.reason == "unknown_tenant" and bucket.count == 30


def test_deeply_nested_signed_json_is_a_400_not_a_server_error(live_server, two_tenants):
    raw = b'{"metadata":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    answer = _post(f"{live_server.url}/webhooks/bill/alpha/", raw, "key-alpha")
    assert answer.status_code == 400
    assert "nested too deeply" in answer.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_the_same_event_id_in_two_tenants_is_two_events(live_server, two_tenants):
    event_id = str(uuid.uuid4())
    a = _post(f"{live_server.url}/webhooks/bill/alpha/", _event(ORG_A, event_id), "key-alpha")
    b = _post(f"{live_server.url}/webhooks/bill/beta/", _event(ORG_B, event_id), "key-beta")
    assert (a.status_code, b.status_code) == (200, 200)
    assert not b.json().get("duplicate")
    assert sorted(WebhookEvent.objects.filter(event_id=event_id).values_list("tenant__slug", flat=True)) == [
        "alpha",
        "beta",
    ]


def test_an_event_id_longer_than_bills_is_refused_not_cut_short(live_server, two_tenants):
    long_id = "evt-" + "x" * 120
    answer = _post(f"{live_server.url}/webhooks/bill/alpha/", _event(ORG_A, long_id), "key-alpha")
    assert answer.status_code == 400 and "longer than 100" in answer.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_the_endpoint_without_its_trailing_slash_is_answered_not_redirected(live_server, two_tenants):
    answer = _post(f"{live_server.url}/webhooks/bill/alpha", _event(ORG_A, str(uuid.uuid4())), "key-alpha")
    assert answer.status_code == 200 and answer.json()["ok"] is True
    assert WebhookEvent.objects.filter(tenant__slug="alpha").count() == 1

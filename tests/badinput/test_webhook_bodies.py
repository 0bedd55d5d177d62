"""Bad BILL webhook deliveries, each correctly signed: every one gets a 4xx with a plain reason, is
counted, and stores nothing; a repeated event is accepted once and processed once."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from audit.models import WebhookEvent, WebhookRejection
from connectors.bill.webhooks import compute_signature
from connectors.models import BillConnection, GPConnection

KEY = "whsec-test-key-0123456789"
URL = "/webhooks/bill/northwind/"


@pytest.fixture
def subscribed(tenant):
    BillConnection.objects.create(
        tenant=tenant,
        organization_id="00802ORG",
        username="ap@example.com",
        password="pw",
        dev_key="dk",
        webhook_security_key=KEY,
    )
    GPConnection.objects.create(
        tenant=tenant,
        base_url="https://gp.example",
        company="Fabrikam",
        domain="CORP",
        username="svc",
        password="pw",
    )
    return tenant


def _post(raw: bytes, key: str | None = KEY, content_type: str = "application/json"):
    headers = {"HTTP_X_BILL_SHA_SIGNATURE": compute_signature(raw, key)} if key else {}
    return Client().post(URL, data=raw, content_type=content_type, **headers)


def _event(
    event_type: str = "bill.created", event_id: str = "evt-1", entity: dict | None = None, **meta
) -> bytes:
    family = event_type.split(".")[0]
    body = {
        "metadata": {"eventId": event_id, "eventType": event_type, "organizationId": "00802ORG", **meta},
        family: entity if entity is not None else {"id": "00n02ABCDEFGHIJKLMNO"},
    }
    return json.dumps(body).encode()


# Signed, but not a BILL event of this organization: refused (4xx), counted, nothing stored.
REFUSED_BODIES = [
    ("not JSON", b"this is not json {", "not JSON"),
    ("not UTF-8", b"\xff\xfe\x00garbage", "not JSON"),
    ("nested too deeply to parse", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("an event ID longer than BILL's", _event(event_id="e" * 101), "longer than 100 characters"),
    ("another organization", _event(organizationId="00802OTHER"), "another BILL organization"),
]

# Signed by BILL, but an event type or shape the connector does not act on: answered 200 (anything else
# makes BILL retry and finally disable the subscription), stored as ignored with the reason.
IGNORED_BODIES = [
    ("JSON but a list", b"[1, 2, 3]", "no metadata object"),
    ("no metadata", json.dumps({"bill": {"id": "x"}}).encode(), "no metadata object"),
    (
        "metadata of the wrong type",
        json.dumps({"metadata": "yes", "bill": {}}).encode(),
        "no metadata object",
    ),
    (
        "no event ID",
        json.dumps({"metadata": {"eventType": "bill.created"}, "bill": {"id": "x"}}).encode(),
        "metadata.eventId or metadata.eventType is missing",
    ),
    ("event ID a number", _event(event_id=12345), "metadata.eventId or metadata.eventType is missing"),
    (
        "event type a list",
        json.dumps({"metadata": {"eventId": "e", "eventType": ["bill.created"]}}).encode(),
        "metadata.eventId or metadata.eventType is missing",
    ),
    ("unknown event type", _event(event_type="invoice.exploded"), "is not one this connector acts on"),
    (
        "an event type BILL has that we do not use",
        _event(event_type="bank-account.updated"),
        "is not one this connector acts on",
    ),
    (
        "no entity object",
        json.dumps({"metadata": {"eventId": "e", "eventType": "payment.updated"}}).encode(),
        "the payment object or its id is missing",
    ),
    (
        "entity id a number",
        _event(event_type="payment.updated", entity={"id": 42}),
        "the payment object or its id is missing",
    ),
    (
        "entity id that is a path",
        _event(event_type="payment.updated", entity={"id": "../vendors/x"}),
        "is not a BILL ID",
    ),
]


@pytest.mark.parametrize("what, raw, words", REFUSED_BODIES, ids=[b[0] for b in REFUSED_BODIES])
def test_a_signed_body_that_is_not_an_event_of_this_org_is_refused_and_nothing_is_stored(
    subscribed, what, raw, words
):
    response = _post(raw)
    assert 400 <= response.status_code < 500, what
    assert words in response.json()["error"], (what, response.json())
    assert not WebhookEvent.objects.exists()
    assert WebhookRejection.objects.filter(tenant=subscribed, reason__in=["bad_body", "wrong_org"]).exists()


@pytest.mark.parametrize("what, raw, words", IGNORED_BODIES, ids=[b[0] for b in IGNORED_BODIES])
def test_a_signed_event_we_do_not_act_on_is_answered_200_and_stored_as_ignored_with_the_reason(
    subscribed, what, raw, words, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = _post(raw)
        again = _post(raw)
    assert response.status_code == 200, (what, response.content)
    assert words in response.json()["ignored"]
    assert again.json().get("duplicate") is True  # the same delivery again is recognised, even without an ID
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.IGNORED and words in event.error
    assert event.entity_id == ""  # nothing from it ever goes into a BILL URL
    assert not queued  # no task: there is nothing to do
    assert not WebhookRejection.objects.exists()


def test_a_huge_body_is_refused_before_it_is_read(subscribed, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 10_000
    raw = _event(entity={"id": "00n02ABCDEFGHIJKLMNO", "description": "x" * 20_000})
    response = _post(raw)
    assert response.status_code in (400, 413)
    assert not WebhookEvent.objects.exists()
    assert WebhookRejection.objects.filter(reason="too_large").exists()


@pytest.mark.parametrize(
    "header",
    [
        "",
        "not-base64!!",
        compute_signature(b"other bytes", KEY),
        compute_signature(_event(), "a-different-key"),
    ],
)
def test_a_missing_or_wrong_signature_is_refused_whatever_the_body(subscribed, header):
    extra = {"HTTP_X_BILL_SHA_SIGNATURE": header} if header else {}
    response = Client().post(URL, data=_event(), content_type="application/json", **extra)
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_the_same_event_again_is_accepted_stored_once_and_processed_once(
    subscribed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        first = _post(_event(event_id="evt-repeat"))
        again = _post(_event(event_id="evt-repeat"))
    assert len(queued) == 1
    assert first.status_code == again.status_code == 200
    assert again.json().get("duplicate") is True
    event = WebhookEvent.objects.get(event_id="evt-repeat")
    assert event.state == WebhookEvent.IGNORED  # bill.* changes nothing in GP


def test_only_post_reaches_the_endpoint(subscribed):
    assert Client().get(URL).status_code == 405
    assert Client().put(URL, data=_event(), content_type="application/json").status_code == 405

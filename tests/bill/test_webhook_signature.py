"""Webhook signatures: BILL-format vectors, and deliveries signed by the sandbox."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.bill.webhooks import compute_signature, verify_signature

# Self-computed vectors from docs/bill_v3.md §8 (not published by BILL).
DOC_BODY = (
    b'{"metadata":{"eventId":"625947c4-8e6b-48f0-ae72-ea9c9375ec27","subscriptionId":"f6d06930-e3e2-4509-be37-'
    b'4dbda29efc6i","organizationId":"00802DEVKGROHKDIY4zyx","eventType":"bill.created","version":"1"},"bill":{"id":'
    b'"00n02JZNIEYMNPY99iz9","vendorId":"00902BILKFECNEV2oji1","invoice":{"invoiceNumber":"202601","invoiceDate":'
    b'"2026-12-15T00:00:00.000Z"},"amount":228.99,"archived":false}}'
)


def test_the_documented_vectors_verify():
    fox = b"The quick brown fox jumps over the lazy dog"
    assert verify_signature(fox, "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=", "key")
    assert compute_signature(DOC_BODY, "test-security-key") == "9uWV3M/AcdU3jJEhuC5akiP6IDEL5Jim/nlxE5hdfB0="


def test_it_fails_closed():
    good = compute_signature(DOC_BODY, "k")
    assert not verify_signature(DOC_BODY, good, None)
    assert not verify_signature(DOC_BODY, good, "")
    assert not verify_signature(DOC_BODY, None, "k")
    assert not verify_signature(DOC_BODY, "not base64!!", "k")
    assert not verify_signature(DOC_BODY.decode(), good, "k")  # type: ignore[arg-type]


class Receiver:
    """A loopback endpoint that records raw bodies and headers; answers `status`."""

    def __init__(self, status: int = 200) -> None:
        received = self.received = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((body, self.headers.get("x-bill-sha-signature")))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/bill"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_a_webhook_signed_by_the_sandbox_verifies_and_tampering_is_rejected(
    bill_client, bill_sandbox, receiver
):
    subscription, key = bill_client.create_subscription(
        "GP sync", receiver.url, ["vendor.created", "bill.created"]
    )
    assert key and "securityKey" not in subscription.raw  # the key is not kept on the record
    bill_client.create_vendor({"name": "Signed Vendor"})
    assert bill_sandbox.wait_for_webhooks()
    [(body, signature)] = receiver.received
    assert b'"eventType":"vendor.created"' in body and b'"vendor":{' in body
    assert verify_signature(body, signature, key)
    tampered = bytearray(body)
    tampered[body.index(b"Signed")] ^= 0x01
    assert not verify_signature(bytes(tampered), signature, key)
    assert not verify_signature(body, signature, key[:-1] + ("A" if key[-1] != "A" else "B"))


def test_a_rotated_key_signs_from_then_on(bill_client, bill_sandbox, receiver):
    subscription, old = bill_client.create_subscription("GP sync", receiver.url, ["vendor.updated"])
    new = bill_client.rotate_security_key(subscription.id)
    vendor = next(bill_client.iter_vendors())
    bill_client.patch_vendor(vendor.id, {"phone": "5550100"})
    assert bill_sandbox.wait_for_webhooks()
    [(body, signature)] = receiver.received
    assert (
        new != old and verify_signature(body, signature, new) and not verify_signature(body, signature, old)
    )


def test_failed_deliveries_retry_then_disable_the_subscription_and_can_be_re_enabled(
    bill_client, bill_sandbox
):
    down = Receiver(status=500)
    try:
        subscription, _ = bill_client.create_subscription(
            "GP sync", down.url, ["bill.updated", "vendor.created"]
        )
        bill_client.create_vendor({"name": "Nobody Listens"})
        assert bill_sandbox.wait_for_webhooks()
        assert len(down.received) == 5  # first try + retries after 2, 4, 8, 16 s (scaled)
        assert not bill_client.get_subscription(subscription.id).enabled
        assert bill_client.patch_subscription(subscription.id, enabled=True).enabled
    finally:
        down.close()


def test_subscription_create_needs_a_uuid4_idempotency_key(bill_sandbox, bill_client):
    import requests

    bill_client.session_info()
    headers = {"devKey": bill_sandbox.credentials.dev_key, "sessionId": bill_client.sessions.current()}
    body = {
        "name": "x",
        "notificationUrl": "http://127.0.0.1:9/x",
        "events": [{"type": "bill.created", "version": "1"}],
    }
    url = f"{bill_sandbox.events_url}/v3/subscriptions"
    assert requests.post(url, json=body, headers=headers).status_code == 400
    key = {"X-Idempotent-Key": "6b1d7f2e-1c4b-4a57-9d36-0f4f3c2b1a99"}
    first = requests.post(url, json=body, headers={**headers, **key}).json()
    again = requests.post(url, json=body, headers={**headers, **key}).json()
    assert first["id"] == again["id"] and first["securityKey"] == again["securityKey"]
    assert "securityKey" not in requests.get(f"{url}/{first['id']}", headers=headers).json()

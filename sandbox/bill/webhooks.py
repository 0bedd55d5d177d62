"""BILL's webhook side: subscriptions, signed deliveries to `notificationUrl`, retries, disabling.

A delivery is the compact JSON body `{metadata{...}, <entity>: {...}}` with `x-bill-sha-signature`
= base64(HMAC-SHA256(securityKey as UTF-8, body bytes)). Anything but a 200 within the delivery
timeout is a failure; retries wait 2, 4, 8, 16 s (times `retry_scale`), and after the last failure
the subscription is disabled, as BILL's guide describes.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import heapq
import hmac
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .wire import ApiError, Clock, IdMaker, bad_request, dumps, not_found

EVENT_TYPES = (
    "vendor.created vendor.updated vendor.archived vendor.restored "
    "bill.created bill.updated bill.archived bill.restored payment.updated payment.failed"
).split()
RETRY_DELAYS = (2.0, 4.0, 8.0, 16.0)


def payment_payload(payment: dict[str, Any], bank_accounts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A payment as BILL's payment webhooks document it: not the REST object. `status` there carries
    the single-status value, funding is `funding{id,type,name,accountNumber}`, bills are `billIds`."""
    funding = dict(payment.get("fundingAccount") or {})
    account = bank_accounts.get(funding.get("id") or "")
    if funding.get("type") == "BANK_ACCOUNT" and account:
        funding.update(name=account.get("bankName"), accountNumber=account.get("accountNumber"))
    disbursement: dict[str, Any] = {"type": payment.get("disbursementType")}
    if payment.get("disbursementStatus") not in (None, "IN_PROGRESS"):
        disbursement["status"] = payment["disbursementStatus"]
    return {
        "id": payment["id"],
        "billIds": [x["billId"] for x in payment.get("billPayments", [])],
        "transactionNumber": payment.get("transactionNumber"),
        "status": payment.get("singleStatus"),
        "createdBy": payment.get("createdBy"),
        "createdTime": payment.get("createdTime"),
        "updatedTime": payment.get("updatedTime"),
        "processDate": payment.get("processDate"),
        "funding": funding,
        "disbursement": disbursement,
        "vendor": {"id": payment.get("vendorId"), "name": payment.get("vendorName")},
        "billingType": "BDC",
    }


def sign(body: bytes, security_key: str) -> str:
    return base64.b64encode(hmac.new(security_key.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    subscription_id: str = field(compare=False)
    event_id: str = field(compare=False)
    event_type: str = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(compare=False, default=1)


class WebhookHub:
    """Subscriptions of the sandbox org and the delivery loop (a scheduler thread plus a small pool)."""

    def __init__(
        self,
        org_id: str,
        ids: IdMaker,
        retry_scale: float = 1.0,
        delivery_timeout: float = 10.0,
        allow_http: bool = False,
        payment_webhooks: bool = True,
    ) -> None:
        self.org_id = org_id
        # BILL delivers to https only; plain http is a development convenience (tests, the demo).
        self.allow_http = allow_http
        # BILL offers payment events to select partners only: off, a subscription asking for them is refused.
        self.payment_webhooks = payment_webhooks
        self.ids = ids
        self.retry_scale = retry_scale
        self.delivery_timeout = delivery_timeout
        self.clock = Clock()
        self.lock = threading.RLock()
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.bank_accounts: dict[str, dict[str, Any]] = {}  # the store's, for payment payloads' funding
        self._keys: dict[str, str] = {}
        self._idempotent: dict[str, tuple[float, Any]] = {}
        self._in_progress: set[str] = set()
        self.events: list[dict[str, Any]] = []  # what was sent, for GET /v3/events/subscription/{id}
        self.deliveries: list[dict[str, Any]] = []  # each attempt, for /_sandbox/stats
        self._queue: list[_Delivery] = []
        self._active = 0  # attempts handed to the pool and not finished
        self._seq = 0
        self._wake = threading.Condition(self.lock)
        self._stopping = False
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bill-webhook")
        self._thread = threading.Thread(target=self._run, name="bill-webhook-scheduler", daemon=True)
        self._thread.start()

    # --- management API --------------------------------------------------------------------------
    def idempotent(self, key: str | None, action: Any) -> Any:
        """Run `action` once per X-Idempotent-Key (UUID4) for 24 h; a repeat gets the same answer."""
        try:
            if not key or uuid.UUID(key).version != 4:
                raise ValueError
        except ValueError:
            raise bad_request("X-Idempotent-Key header must be a UUID4.") from None
        with self.lock:
            cached = self._idempotent.get(key)
            if cached and time.time() - cached[0] < 86400:
                return copy.deepcopy(cached[1])
            if key in self._in_progress:
                raise ApiError(429, "BDC_1002", "A request with this X-Idempotent-Key is still in progress.")
            self._in_progress.add(key)
        try:
            result = action()
            with self.lock:
                self._idempotent[key] = (time.time(), copy.deepcopy(result))
            return result
        finally:
            with self.lock:
                self._in_progress.discard(key)

    def _events(self, raw: Any) -> list[dict[str, str]]:
        if not isinstance(raw, list) or not raw:
            raise bad_request("events: must not be empty")
        events = []
        for item in raw:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind not in EVENT_TYPES:
                raise bad_request(f"events: unknown event type {kind!r}")
            if kind.startswith("payment.") and not self.payment_webhooks:
                # BILL documents no error for this; the status and wording are the sandbox's.
                raise ApiError(403, "BDC_1002", f"Event {kind} is not available for this organization.")
            events.append({"type": kind, "version": str(item.get("version") or "1")})
        return events

    def _url(self, value: Any) -> str:
        url = str(value or "")
        schemes = ("https://", "http://") if self.allow_http else ("https://",)
        if not url.startswith(schemes):
            raise bad_request("notificationUrl: must be an https URL")
        return url

    def create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a subscription object.")
        self._url(body.get("notificationUrl"))
        now = self.clock.stamp()
        sub = {
            "id": str(uuid.uuid4()),
            "name": str(body.get("name") or ""),
            "organizationId": self.org_id,
            "status": {"enabled": bool((body.get("status") or {}).get("enabled", True))},
            "events": self._events(body.get("events")),
            "notificationUrl": body["notificationUrl"],
            "createdTime": now,
            "updatedTime": now,
        }
        key = IdMaker.secret(44)
        with self.lock:
            self.subscriptions[sub["id"]] = sub
            self._keys[sub["id"]] = key
        return {**copy.deepcopy(sub), "securityKey": key}  # the key is shown this once

    def get(self, sub_id: str) -> dict[str, Any]:
        with self.lock:
            if sub_id not in self.subscriptions:
                raise not_found(f"Subscription {sub_id}")
            return copy.deepcopy(self.subscriptions[sub_id])

    def update(self, sub_id: str, body: Any, replace: bool) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("The request body must be a subscription object.")
        with self.lock:
            sub = self.subscriptions.get(sub_id)
            if sub is None:
                raise not_found(f"Subscription {sub_id}")
            if replace and not body.get("notificationUrl"):
                raise bad_request("notificationUrl: must not be blank")
            if "name" in body:
                sub["name"] = str(body["name"])
            events = self._events(body["events"]) if "events" in body else sub["events"]
            if "notificationUrl" in body:
                sub["notificationUrl"] = self._url(body["notificationUrl"])
            sub["events"] = events
            if isinstance(body.get("status"), dict) and "enabled" in body["status"]:
                sub["status"] = {"enabled": bool(body["status"]["enabled"])}
            sub["updatedTime"] = self.clock.stamp()
            return copy.deepcopy(sub)

    def delete(self, sub_id: str) -> None:
        with self.lock:
            if self.subscriptions.pop(sub_id, None) is None:
                raise not_found(f"Subscription {sub_id}")
            self._keys.pop(sub_id, None)

    def rotate_key(self, sub_id: str) -> dict[str, str]:
        self.get(sub_id)
        key = IdMaker.secret(44)
        with self.lock:
            self._keys[sub_id] = key
        return {"securityKey": key}

    def security_key(self, sub_id: str) -> str:
        """For the sandbox's own tests/control API only; BILL never shows a key twice."""
        with self.lock:
            return self._keys[sub_id]

    # --- events and deliveries -------------------------------------------------------------------
    def _body(
        self, sub_id: str, event_type: str, entity_key: str, entity: dict[str, Any]
    ) -> tuple[str, bytes]:
        event_id = str(uuid.uuid4())
        metadata = {
            "eventId": event_id,
            "subscriptionId": sub_id,
            "organizationId": self.org_id,
            "eventType": event_type,
            "version": "1",
        }
        if event_type == "payment.failed":  # the failed request, and BILL's errors beside it
            return event_id, dumps(
                {
                    "metadata": metadata,
                    "payment": entity.get("payment", entity),
                    "errors": entity.get("errors", []),
                }
            )
        if entity_key == "payment":
            entity = payment_payload(entity, self.bank_accounts)
        return event_id, dumps({"metadata": metadata, entity_key: entity})

    def emit(self, event_type: str, entity_key: str, entity: dict[str, Any]) -> None:
        """Queue a delivery to every enabled subscription that asked for `event_type`."""
        with self.lock:
            for sub in self.subscriptions.values():
                if sub["status"]["enabled"] and any(e["type"] == event_type for e in sub["events"]):
                    event_id, body = self._body(sub["id"], event_type, entity_key, entity)
                    self.events.append(
                        {
                            "id": event_id,
                            "type": event_type,
                            "version": "1",
                            "subscriptionId": sub["id"],
                            "payload": body.decode(),
                            "createdTime": self.clock.stamp(),
                        }
                    )
                    self._schedule(_Delivery(time.monotonic(), 0, sub["id"], event_id, event_type, body))

    def emit_raw(self, event_type: str, payload: dict[str, Any]) -> list[str]:
        """Deliver `payload` (the event body without metadata) to every enabled subscription to
        `event_type`, with retries and disabling as for any event: for events whose shape BILL may
        send but the sandbox never makes (a `payment.failed` without a payment ID, a new field)."""
        sent = []
        with self.lock:
            for sub in self.subscriptions.values():
                if sub["status"]["enabled"] and any(e["type"] == event_type for e in sub["events"]):
                    event_id = str(uuid.uuid4())
                    metadata = {
                        "eventId": event_id,
                        "subscriptionId": sub["id"],
                        "organizationId": self.org_id,
                        "eventType": event_type,
                        "version": "1",
                    }
                    body = dumps({"metadata": metadata, **payload})
                    self._schedule(_Delivery(time.monotonic(), 0, sub["id"], event_id, event_type, body))
                    sent.append(event_id)
        return sent

    def test_event(self, sub_id: str, body: Any) -> dict[str, Any]:
        """POST /test: one synchronous delivery of a sample event; the answer carries its status code."""
        self.get(sub_id)
        body = body if isinstance(body, dict) else {}
        event_type = body.get("eventType") or "bill.created"
        entity_key = event_type.split(".")[0]
        entity = body.get(entity_key) or {"id": "test-" + entity_key + "-id"}
        event_id, raw = self._body(sub_id, event_type, entity_key, entity)
        status = self._post(_Delivery(0, 0, sub_id, event_id, event_type, raw))
        return {
            "id": event_id,
            "type": event_type,
            "version": "1",
            "subscriptionId": sub_id,
            "payload": raw.decode(),
            "createdTime": self.clock.stamp(),
            "statusCode": status,
        }

    def _schedule(self, delivery: _Delivery) -> None:
        with self.lock:
            self._seq += 1
            delivery.seq = self._seq
            heapq.heappush(self._queue, delivery)
            self._wake.notify()

    def _run(self) -> None:
        with self.lock:
            while not self._stopping:
                if not self._queue:
                    self._wake.wait()
                    continue
                wait = self._queue[0].due - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                self._active += 1
                self._pool.submit(self._attempt, heapq.heappop(self._queue))

    def _post(self, delivery: _Delivery) -> int:
        """One HTTP POST; the status code, or 0 when the endpoint could not be reached in time."""
        with self.lock:
            sub = self.subscriptions.get(delivery.subscription_id)
            key = self._keys.get(delivery.subscription_id)
        if sub is None or key is None:
            return 0
        request = urllib.request.Request(
            sub["notificationUrl"],
            data=delivery.body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "x-bill-sha-signature": sign(delivery.body, key),
                "User-Agent": "BILL-Webhooks-Sandbox/1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.delivery_timeout) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (OSError, ValueError):
            status = 0
        with self.lock:
            self.deliveries.append(
                {
                    "eventId": delivery.event_id,
                    "subscriptionId": delivery.subscription_id,
                    "eventType": delivery.event_type,
                    "attempt": delivery.attempt,
                    "status": status,
                }
            )
        return status

    def _attempt(self, delivery: _Delivery) -> None:
        try:
            self._attempt_once(delivery)
        finally:
            with self.lock:
                self._active -= 1

    def _attempt_once(self, delivery: _Delivery) -> None:
        with self.lock:
            sub = self.subscriptions.get(delivery.subscription_id)
            if sub is None or not sub["status"]["enabled"]:
                return
        if self._post(delivery) == 200:
            return
        if delivery.attempt > len(RETRY_DELAYS):
            with self.lock:
                if delivery.subscription_id in self.subscriptions:
                    self.subscriptions[delivery.subscription_id]["status"] = {"enabled": False}
            return
        delay = RETRY_DELAYS[delivery.attempt - 1] * self.retry_scale
        delivery.attempt += 1
        delivery.due = time.monotonic() + delay
        self._schedule(delivery)

    def stats(self) -> dict[str, Any]:
        with self.lock:
            ok = sum(1 for d in self.deliveries if d["status"] == 200)
            return {
                "attempts": len(self.deliveries),
                "succeeded": ok,
                "failed": len(self.deliveries) - ok,
                "pending": len(self._queue),
                "recent": self.deliveries[-50:],
            }

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued (tests); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if not self._queue and not self._active:
                    return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        with self.lock:
            self._stopping = True
            self._wake.notify()
        self._pool.shutdown(wait=False, cancel_futures=True)

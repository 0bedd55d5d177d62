"""The BILL webhook endpoint: verify, store once, answer 200 fast; a task does the work.

Authentication is the HMAC signature alone (no session, so no CSRF); it fails closed when the
tenant has no security key. A refused delivery is counted by reason, its body never stored.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audit.models import WebhookEvent, WebhookRejection
from connectors.bill.ids import BILL_ID
from connectors.models import BillConnection
from connectors.queue import enqueue

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "x-bill-sha-signature"
ENTITY_KEYS = {"vendor": "vendor", "bill": "bill", "payment": "payment"}
HANDLED_EVENTS = {
    "vendor.created", "vendor.updated", "vendor.archived", "vendor.restored",
    "bill.created", "bill.updated", "bill.archived", "bill.restored",
    "payment.updated", "payment.failed",
}


def _reject(slug: str, reason: str, status: int, message: str) -> JsonResponse:
    counter, _ = WebhookRejection.objects.get_or_create(slug=slug[:60], reason=reason)
    WebhookRejection.objects.filter(pk=counter.pk).update(count=F("count") + 1)
    log.warning("webhook for %s refused: %s", slug, reason)
    return JsonResponse({"error": message}, status=status)


def _parse(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """The event, or a reason it cannot be one."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, "the body is not JSON"
    if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
        return None, "the body has no metadata object"
    meta = body["metadata"]
    for name in ("eventId", "eventType"):
        if not isinstance(meta.get(name), str) or not meta[name].strip():
            return None, f"metadata.{name} is missing or not a string"
    if meta["eventType"] not in HANDLED_EVENTS:
        return None, f"event type {meta['eventType'][:60]!r} is not one this connector subscribes to"
    family = meta["eventType"].split(".", 1)[0]
    entity = body.get(ENTITY_KEYS[family])
    if not isinstance(entity, dict) or not isinstance(entity.get("id"), str) or not entity["id"]:
        return None, f"the {family} object or its id is missing"
    if not BILL_ID.fullmatch(entity["id"]):  # it goes into a BILL URL path when the event is processed
        return None, f"the {family} id is not a BILL ID"
    return body, ""


@csrf_exempt
@require_POST
def bill_webhook(request: HttpRequest, slug: str) -> JsonResponse:
    # Only the three values the view needs: loading the whole connection would decrypt every secret on
    # it, which was half of this view's time.
    found = list(BillConnection.objects.filter(tenant__slug=slug, tenant__is_active=True)
                 .values_list("tenant_id", "organization_id", "webhook_security_key")[:1])
    if not found:
        return _reject(slug, "unknown_tenant", 404, "unknown tenant")
    tenant_id, organization_id, key = found[0]
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.WEBHOOK_MAX_BODY_BYTES:
        return _reject(slug, "too_large", 400, "body too large")
    raw = request.body
    if len(raw) > settings.WEBHOOK_MAX_BODY_BYTES:
        return _reject(slug, "too_large", 400, "body too large")
    from connectors.bill.webhooks import verify_signature

    if not verify_signature(raw, request.headers.get(SIGNATURE_HEADER), key or None):
        return _reject(slug, "bad_signature", 401, "signature does not verify")
    body, problem = _parse(raw)
    if body is None:
        return _reject(slug, "bad_body", 400, problem)
    meta = body["metadata"]
    org = meta.get("organizationId")
    if org and org != organization_id:
        return _reject(slug, "wrong_org", 400, "event is for another BILL organization")
    family = meta["eventType"].split(".", 1)[0]
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                tenant_id=tenant_id, event_id=meta["eventId"][:100], event_type=meta["eventType"][:60],
                entity_id=body[ENTITY_KEYS[family]]["id"][:60], payload={"metadata": meta},
            )
            enqueue("connectors.tasks.process_webhook_event", event.pk)
    except IntegrityError:  # the same event again: already stored, nothing more to do
        return JsonResponse({"ok": True, "duplicate": True})
    return JsonResponse({"ok": True})

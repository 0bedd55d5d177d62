"""The BILL webhook endpoint: verify, store once, answer 200 fast; a queued drain does the work.

Authentication is the HMAC signature alone (no session, so no CSRF); it fails closed when the
tenant has no security key. Two subscriptions may deliver here (vendor/bill events, and payment
events where BILL offers them), each signed with its own key.

What is answered how, and why: BILL retries every delivery that does not get a 2xx and, once its
retries run out, *disables the subscription* — and every later vendor or payment event is lost with
it. So a correctly signed delivery is always answered 200, even when it is an event type or shape we
do not act on: it is stored as `ignored` with the reason, for a person to see. Refused (4xx, counted
by reason per hour, body never stored) are only deliveries that are not BILL's for this tenant: an
unknown tenant, a bad signature, a body over the size limit, another organization, and bodies that
are not JSON at all (too deep to parse included) or carry an event ID longer than BILL's.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from csp.decorators import csp_exempt
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import F, Field, Model
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audit.models import EVENT_ID_MAX, WebhookEvent, WebhookRejection, this_hour
from connectors.bill.ids import BILL_ID
from connectors.bill.webhooks import EVENTS, SIGNATURE_HEADER, verify_signature
from connectors.models import BillConnection
from connectors.webhook_drain import request_drain

log = logging.getLogger(__name__)
ENTITY_KEYS = {"vendor": "vendor", "bill": "bill", "payment": "payment"}
HANDLED_EVENTS = set(EVENTS)
# The metadata kept with a stored event: short strings only (never a nested structure from outside).
KEPT_METADATA = ("eventId", "eventType", "organizationId", "subscriptionId", "version")


class Refused(Exception):
    """A delivery that is not BILL's for this tenant: answered 4xx and counted, nothing stored."""

    def __init__(self, reason: str, status: int, message: str) -> None:
        super().__init__(message)
        self.reason, self.status, self.message = reason, status, message


def count_refusal(tenant_id: int | None, reason: str) -> None:
    """One counter per (tenant, reason, hour); deliveries for no tenant share one bucket per reason and
    hour."""
    hour = this_hour()
    # tenant_id None is the no-tenant bucket (IS NULL); django-stubs types an FK lookup as never None.
    rows = WebhookRejection.objects.filter(tenant_id=tenant_id, reason=reason, hour=hour)  # type: ignore[misc]
    if rows.update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            WebhookRejection.objects.create(tenant_id=tenant_id, reason=reason, hour=hour, count=1)
    except IntegrityError:  # another request created the hour's counter first
        rows.update(count=F("count") + 1)


def _refuse(slug: str, tenant_id: int | None, refused: Refused) -> JsonResponse:
    count_refusal(tenant_id, refused.reason)
    log.warning("webhook for %s refused: %s", slug[:60], refused.reason)
    return JsonResponse({"error": refused.message}, status=refused.status)


def _load(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Refused("bad_body", 400, "the body is not JSON") from None
    except RecursionError:
        raise Refused("bad_body", 400, "the body is nested too deeply to be a BILL event") from None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def read_event(raw: bytes, organization_id: str) -> dict[str, Any]:
    """The fields to store for a signed body: event ID, type, entity ID, metadata, and why it is ignored
    ("" when it is one we act on). Raises Refused for what is not an event of this organization."""
    body = _load(raw)
    meta = body.get("metadata") if isinstance(body, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    event_id, event_type = _text(meta.get("eventId")).strip(), _text(meta.get("eventType")).strip()
    if len(event_id) > EVENT_ID_MAX:
        raise Refused("bad_body", 400, f"metadata.eventId is longer than {EVENT_ID_MAX} characters")
    org = meta.get("organizationId")
    if org and org != organization_id:
        raise Refused("wrong_org", 400, "event is for another BILL organization")
    event = {
        # Without an event ID a repeat is still recognised: the same bytes give the same ID.
        "event_id": event_id or "body-sha256:" + hashlib.sha256(raw).hexdigest(),
        "event_type": event_type[:60],
        "entity_id": "",
        "payload": {"metadata": {k: _text(meta.get(k))[:EVENT_ID_MAX] for k in KEPT_METADATA if k in meta}},
        "ignored": "",
    }
    if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
        event["ignored"] = "the body has no metadata object"
    elif not event_id or not event_type:
        event["ignored"] = "metadata.eventId or metadata.eventType is missing or not a string"
    elif event_type not in HANDLED_EVENTS:
        event["ignored"] = f"event type {event_type[:60]!r} is not one this connector acts on"
    else:
        family = event_type.split(".", 1)[0]
        entity = body.get(ENTITY_KEYS[family])
        entity_id = entity.get("id") if isinstance(entity, dict) else None
        if not isinstance(entity_id, str) or not entity_id:
            event["ignored"] = f"the {family} object or its id is missing"
        elif not BILL_ID.fullmatch(entity_id):  # it would go into a BILL URL path when processed
            event["ignored"] = f"the {family} id is not a BILL ID"
        else:
            event["entity_id"] = entity_id
    return event


def _field(model: type[Model], column: str) -> Field[Any, Any]:
    field = model._meta.get_field(column.removesuffix("_id") if column == "tenant_id" else column)
    if not isinstance(field, Field):  # pragma: no cover - every name used here is a concrete column
        raise TypeError(column)
    return field


_LOOKED_UP = ("tenant_id", "organization_id", "webhook_security_key", "payment_security_key")
_SLUG = "\x00slug\x00"  # stands for the slug in the SQL built once per process and database
_lookup_sql: dict[str, tuple[str, tuple[Any, ...]]] = {}


def connection_of(slug: str) -> tuple[Any, ...] | None:
    """(tenant ID, organization ID, webhook key, payment key) of an active tenant's BILL connection.

    Read fresh on every delivery (a rotated key or a deactivated tenant takes effect at once), but
    with SQL the ORM builds once per process: building the query was ≈ 0.5 ms of CPU a delivery."""
    conn = connections[BillConnection.objects.db]
    if conn.alias not in _lookup_sql:
        query = BillConnection.objects.filter(tenant__slug=_SLUG, tenant__is_active=True).values_list(
            *_LOOKED_UP
        )[:1]
        _lookup_sql[conn.alias] = query.query.get_compiler(connection=conn).as_sql()
    sql, params = _lookup_sql[conn.alias]
    with conn.cursor() as cursor:
        cursor.execute(sql, tuple(slug if p == _SLUG else p for p in params))
        row = cursor.fetchone()
    if row is None:
        return None
    fields = [_field(BillConnection, f) for f in _LOOKED_UP]
    # Only the values the view needs: loading the whole connection would decrypt every secret on it.
    return tuple(
        f.from_db_value(v, None, conn) if v is not None and hasattr(f, "from_db_value") else v
        for f, v in zip(fields, row, strict=True)
    )


_COLUMNS = (
    "tenant_id",
    "event_id",
    "event_type",
    "entity_id",
    "received_at",
    "processed_at",
    "state",
    "error",
    "payload",
)


def store_once(tenant_id: int, event: dict[str, Any], ignored: str) -> bool:
    """Insert the event unless the tenant already has its event ID; True when it was new.

    One statement in autocommit (INSERT … ON CONFLICT DO NOTHING on the unique (tenant, event ID)):
    committed when it returns, one round trip, where the ORM's create in a transaction took three
    (BEGIN, INSERT, COMMIT) and a repeat raised and rolled back. PostgreSQL and SQLite alike."""
    now = timezone.now()
    row = {
        "tenant_id": tenant_id,
        **event,
        "received_at": now,
        "processed_at": now if ignored else None,
        "state": WebhookEvent.IGNORED if ignored else WebhookEvent.RECEIVED,
        "error": ignored,
    }
    meta, conn = WebhookEvent._meta, connections[WebhookEvent.objects.db]
    values = [_field(WebhookEvent, c).get_db_prep_save(row[c], conn) for c in _COLUMNS]
    qn = conn.ops.quote_name
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c) for c in _COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(_COLUMNS))}) ON CONFLICT ({qn('tenant_id')}, {qn('event_id')}) "
        f"DO NOTHING"
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, values)
        return bool(cursor.rowcount == 1)


def _verified(raw: bytes, header: str | None, keys: tuple[str | None, ...]) -> bool:
    return any(verify_signature(raw, header, key or None) for key in keys)


@csrf_exempt
@csp_exempt()  # type: ignore[arg-type]  # (typed for one-argument views) a JSON answer: no CSP to build (~0.6 ms CPU)
@require_POST
def bill_webhook(request: HttpRequest, slug: str) -> JsonResponse:
    found = connection_of(slug)
    if found is None:
        return _refuse(slug, None, Refused("unknown_tenant", 404, "unknown tenant"))
    tenant_id, organization_id, *keys = found
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    too_large = Refused("too_large", 400, "body too large")
    if length > settings.WEBHOOK_MAX_BODY_BYTES:
        return _refuse(slug, tenant_id, too_large)
    raw = request.body
    if len(raw) > settings.WEBHOOK_MAX_BODY_BYTES:
        return _refuse(slug, tenant_id, too_large)
    if not _verified(raw, request.headers.get(SIGNATURE_HEADER), tuple(keys)):
        return _refuse(slug, tenant_id, Refused("bad_signature", 401, "signature does not verify"))
    try:
        event = read_event(raw, organization_id)
    except Refused as refused:
        return _refuse(slug, tenant_id, refused)
    ignored = event.pop("ignored")
    try:
        fresh = store_once(tenant_id, event, ignored)
    except IntegrityError:  # the tenant was deleted since the lookup above
        return _refuse(slug, None, Refused("unknown_tenant", 404, "unknown tenant"))
    if not fresh:  # the same event again: already stored (and its processing requested), nothing more to do
        return JsonResponse({"ok": True, "duplicate": True})
    if ignored:
        log.info("webhook event %s for %s stored as ignored: %s", event["event_id"], slug, ignored)
        return JsonResponse({"ok": True, "ignored": ignored})
    request_drain(tenant_id)  # after the commit: the drain must see the row
    return JsonResponse({"ok": True})

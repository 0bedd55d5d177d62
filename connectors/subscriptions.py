"""BILL webhook subscriptions: two per tenant, one live of each; rotate the key; a watchdog.

- Vendor and bill events are one subscription, payment events another: BILL offers payment webhooks
  to select partners only ("Payment notification payloads" in BILL's guide) and refuses the rest.
  A refusal of the payment subscription leaves the vendor/bill one working; payments are then found
  by polling alone, which the dashboard says.
- "Subscribe" when subscriptions exist makes new ones (BILL shows a security key only when it
  creates a subscription), stores them, then deletes every other subscription of this tenant in the
  org. An old one left live would go on delivering under a key we no longer hold: every delivery
  refused as a bad signature, until BILL disabled it.
- BILL disables a subscription after its retries are exhausted; events sent meanwhile are lost, so
  the watchdog re-enables it and backfills by polling (the cursors' overlap covers the gap).
"""

from __future__ import annotations

import logging

from connectors.bill import webhooks as webhook_events
from connectors.bill.client import BillClient
from connectors.bill.http import BillError
from connectors.models import BillConnection, Tenant
from connectors.sync.runner import run_bill_to_gp

log = logging.getLogger(__name__)
VENDOR_BILL_EVENTS = list(webhook_events.VENDOR_BILL_EVENTS)
PAYMENT_EVENTS = list(webhook_events.PAYMENT_EVENTS)
EVENTS = VENDOR_BILL_EVENTS + PAYMENT_EVENTS


def _client(tenant: Tenant):
    return BillClient.for_connection(tenant.bill_connection)


def subscription_names(tenant: Tenant) -> dict[str, str]:
    """Our subscriptions' names in BILL: how a tenant's own are told from others' in a shared org."""
    base = f"ml-connector {tenant.slug}"
    return {"vendor_bill": f"{base} vendors and bills", "payment": f"{base} payments", "legacy": base}


def subscribe(tenant: Tenant, notification_url: str) -> str:
    """Make the tenant's two subscriptions (or only vendor/bill where BILL refuses payment events), store
    their keys encrypted, then delete every older one of this tenant. Returns the vendor/bill one's ID."""
    conn = tenant.bill_connection
    client = _client(tenant)
    names = subscription_names(tenant)
    before = {s.id for s in client.iter_subscriptions() if s.name in names.values()}
    before |= {sid for _field, sid in _live(conn)}
    vendor_bill, key = client.create_subscription(names["vendor_bill"], notification_url, VENDOR_BILL_EVENTS)
    conn.webhook_subscription_id, conn.webhook_security_key = vendor_bill.id, key
    conn.save(update_fields=["webhook_subscription_id", "webhook_security_key", "updated_at"])
    kept = {vendor_bill.id}
    try:
        payment, payment_key = client.create_subscription(names["payment"], notification_url, PAYMENT_EVENTS)
    except BillError as exc:
        if exc.retryable or exc.in_doubt:
            raise
        log.warning(
            "BILL refused payment webhooks for %s: %s; payments are found by polling", tenant.slug, exc
        )
        conn.payment_subscription_id, conn.payment_security_key = "", ""
        conn.payment_webhooks_refused = exc.message[:300]
    else:
        kept.add(payment.id)
        conn.payment_subscription_id, conn.payment_security_key = payment.id, payment_key
        conn.payment_webhooks_refused = ""
    conn.save(
        update_fields=[
            "payment_subscription_id",
            "payment_security_key",
            "payment_webhooks_refused",
            "updated_at",
        ]
    )
    for old in sorted(before - kept):
        _delete(client, old)
    return vendor_bill.id


def _delete(client, subscription_id: str) -> None:
    try:
        client.delete_subscription(subscription_id)
    except BillError as exc:
        if exc.status != 404:  # already gone is what we wanted
            raise


def _live(conn: BillConnection) -> list[tuple[str, str]]:
    """(field holding the key, subscription ID) for each subscription we hold."""
    pairs = [
        ("webhook_security_key", conn.webhook_subscription_id),
        ("payment_security_key", conn.payment_subscription_id),
    ]
    return [(field, sid) for field, sid in pairs if sid]


def rotate_key(tenant: Tenant) -> None:
    conn = tenant.bill_connection
    client = _client(tenant)
    for field, subscription_id in _live(conn):
        setattr(conn, field, client.rotate_security_key(subscription_id))
        conn.save(update_fields=[field, "updated_at"])


def subscription_state(tenant: Tenant) -> str:
    conn = tenant.bill_connection
    if not conn.webhook_subscription_id:
        return "not subscribed"
    client = _client(tenant)
    states = [
        f"{'payments' if field.startswith('payment') else 'vendors and bills'}: "
        f"{'enabled' if client.get_subscription(sid).enabled else 'disabled'}"
        for field, sid in _live(conn)
    ]
    if conn.payment_webhooks_refused:
        states.append("payments: refused by BILL, found by polling")
    return "; ".join(states)


def watchdog(tenant: Tenant) -> str:
    """Re-enable a subscription BILL disabled, then backfill by polling BILL → GP now."""
    conn = tenant.bill_connection
    if not conn.webhook_subscription_id:
        return "not subscribed"
    client = _client(tenant)
    disabled = [sid for _field, sid in _live(conn) if not client.get_subscription(sid).enabled]
    if not disabled:
        return "enabled"
    for subscription_id in disabled:
        client.patch_subscription(subscription_id, enabled=True)
    log.warning("BILL had disabled a webhook subscription of %s; re-enabled, backfilling", tenant.slug)

    run_bill_to_gp(tenant, trigger="poll")
    return "re-enabled"

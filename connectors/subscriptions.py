"""BILL webhook subscription: create, rotate the key, and a watchdog that re-enables it.

BILL disables a subscription after its retries are exhausted; events sent meanwhile are lost, so
the watchdog re-enables it and backfills by polling (the cursors' overlap covers the gap).
"""

from __future__ import annotations

import logging

from connectors.models import Tenant

log = logging.getLogger(__name__)
EVENTS = ["vendor.created", "vendor.updated", "vendor.archived", "vendor.restored",
          "bill.created", "bill.updated", "bill.archived", "bill.restored",
          "payment.updated", "payment.failed"]


def _client(tenant: Tenant):
    from connectors.bill.client import BillClient

    return BillClient.for_connection(tenant.bill_connection)


def subscribe(tenant: Tenant, notification_url: str) -> str:
    """Create the subscription (BILL returns the security key once) and store both, the key encrypted."""
    conn = tenant.bill_connection
    subscription, key = _client(tenant).create_subscription(
        name=f"ml-connector {tenant.slug}", url=notification_url, events=EVENTS
    )
    conn.webhook_subscription_id = subscription.id
    conn.webhook_security_key = key
    conn.save(update_fields=["webhook_subscription_id", "webhook_security_key", "updated_at"])
    return subscription.id


def rotate_key(tenant: Tenant) -> None:
    conn = tenant.bill_connection
    conn.webhook_security_key = _client(tenant).rotate_security_key(conn.webhook_subscription_id)
    conn.save(update_fields=["webhook_security_key", "updated_at"])


def subscription_state(tenant: Tenant) -> str:
    conn = tenant.bill_connection
    if not conn.webhook_subscription_id:
        return "not subscribed"
    return "enabled" if _client(tenant).get_subscription(conn.webhook_subscription_id).enabled else "disabled"


def watchdog(tenant: Tenant) -> str:
    """Re-enable a subscription BILL disabled, then backfill by polling BILL → GP now."""
    conn = tenant.bill_connection
    if not conn.webhook_subscription_id:
        return "not subscribed"
    client = _client(tenant)
    if client.get_subscription(conn.webhook_subscription_id).enabled:
        return "enabled"
    client.patch_subscription(conn.webhook_subscription_id, enabled=True)
    log.warning("BILL had disabled the webhook subscription of %s; re-enabled, backfilling", tenant.slug)
    from connectors.sync.runner import run_bill_to_gp

    run_bill_to_gp(tenant, trigger="poll")
    return "re-enabled"

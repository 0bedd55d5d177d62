"""BILL's signed webhooks reach the running app; payments and vendor edits flow into GP once."""

from __future__ import annotations

import json
import uuid

import requests

from audit.models import State, SyncRecord, WebhookEvent, WebhookRejection
from connectors.bill.client import BillClient
from connectors.bill.webhooks import compute_signature
from connectors.gp.client import GPClient
from connectors.subscriptions import subscribe, watchdog
from connectors.sync.keys import gp_payment_number
from connectors.sync.runner import run_bill_to_gp
from tests.sync.conftest import record


def endpoint(live_server, tenant) -> str:
    return f"{live_server.url}/webhooks/bill/{tenant.slug}/"


def deliver(url: str, tenant, body: dict, key: str | None = None) -> requests.Response:
    """Post an event exactly as BILL does: raw JSON bytes, base64 HMAC-SHA256 header."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    key = key or tenant.bill_connection.webhook_security_key
    return requests.post(
        url,
        data=raw,
        timeout=10,
        headers={"Content-Type": "application/json", "x-bill-sha-signature": compute_signature(raw, key)},
    )


def payment_event(tenant, payment_id: str, event_id: str | None = None, status: str = "PAID") -> dict:
    return {
        "metadata": {
            "eventId": event_id or str(uuid.uuid4()),
            "subscriptionId": "s",
            "organizationId": tenant.bill_connection.organization_id,
            "eventType": "payment.updated",
            "version": "1",
        },
        "payment": {"id": payment_id, "status": status},
    }


def first_bill(tenant) -> SyncRecord:
    return (
        SyncRecord.objects.filter(tenant=tenant, kind="bill", state=State.SYNCED)
        .order_by("source_key")
        .first()
    )


def gp_payments(tenant, payment_id: str) -> list:
    number = gp_payment_number(payment_id)
    return [
        p for p in GPClient.for_connection(tenant.gp_connection).iter_payments() if p.payment_number == number
    ]


def test_a_payment_webhook_writes_the_payment_into_gp_without_polling(subscribed, bill_sandbox):
    bill_record = first_bill(subscribed)
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id}])
    assert bill_sandbox.wait_for_webhooks(15)
    assert len(gp_payments(subscribed, payment["id"])) == 1
    assert WebhookEvent.objects.filter(tenant=subscribed, entity_id=payment["id"], state="processed").exists()
    assert record(subscribed, "gp_payment", payment["id"]).trail.filter(trigger="webhook").exists()


def test_the_same_event_three_times_is_stored_and_applied_once(synced, live_server, bill_sandbox):
    subscribe(synced, "https://nowhere.invalid/hook")  # BILL sends elsewhere; we deliver by hand
    synced.refresh_from_db()
    payment = bill_sandbox.pay_bills([{"billId": first_bill(synced).target_id}])
    event = payment_event(synced, payment["id"])
    answers = [deliver(endpoint(live_server, synced), synced, event) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json().get("duplicate", False) for a in answers] == [False, True, True]
    assert WebhookEvent.objects.filter(event_id=event["metadata"]["eventId"]).count() == 1
    assert len(gp_payments(synced, payment["id"])) == 1


def test_an_old_event_arriving_late_changes_nothing(synced, live_server, bill_sandbox):
    subscribe(synced, "https://nowhere.invalid/hook")
    synced.refresh_from_db()
    payment = bill_sandbox.pay_bills([{"billId": first_bill(synced).target_id}])
    deliver(endpoint(live_server, synced), synced, payment_event(synced, payment["id"]))
    late = payment_event(synced, payment["id"], status="SCHEDULED")  # older news, delivered last
    assert deliver(endpoint(live_server, synced), synced, late).status_code == 200
    assert len(gp_payments(synced, payment["id"])) == 1
    assert record(synced, "gp_payment", payment["id"]).state == State.SYNCED


def test_a_forged_signature_is_refused_counted_and_not_stored(synced, live_server):
    subscribe(synced, "https://nowhere.invalid/hook")
    synced.refresh_from_db()
    event = payment_event(synced, "stp-forged")
    answer = deliver(endpoint(live_server, synced), synced, event, key="not-the-key")
    assert answer.status_code == 401
    assert not WebhookEvent.objects.exists()
    assert WebhookRejection.objects.get(tenant=synced, reason="bad_signature").count == 1


def test_it_refuses_unknown_tenants_bodies_that_are_not_events_and_huge_bodies(synced, live_server, settings):
    subscribe(synced, "https://nowhere.invalid/hook")
    synced.refresh_from_db()
    key = synced.bill_connection.webhook_security_key
    url = endpoint(live_server, synced)

    def post(raw: bytes, to: str = url) -> int:
        return requests.post(
            to, data=raw, timeout=10, headers={"x-bill-sha-signature": compute_signature(raw, key)}
        ).status_code

    assert post(b"{}", to=f"{live_server.url}/webhooks/bill/nobody/") == 404
    assert post(b"not json") == 400
    assert (
        post(json.dumps({"metadata": {"eventId": 5, "eventType": "payment.updated"}}).encode()) == 200
    )  # ignored
    assert post(json.dumps({"metadata": {"eventId": "e1", "eventType": "invoice.created"}}).encode()) == 200
    assert post(b"{" + b" " * (settings.WEBHOOK_MAX_BODY_BYTES + 10) + b"}") == 400
    assert sorted(WebhookEvent.objects.values_list("state", flat=True)) == ["ignored", "ignored"]
    assert requests.get(url, timeout=10).status_code == 405


def test_no_key_stored_means_every_delivery_is_refused(synced, live_server):
    event = payment_event(synced, "stp-x")
    assert deliver(endpoint(live_server, synced), synced, event, key="anything").status_code == 401


def test_a_lost_webhook_is_recovered_by_polling(synced, bill_sandbox):
    payment = bill_sandbox.pay_bills([{"billId": first_bill(synced).target_id}])  # nobody subscribed
    assert gp_payments(synced, payment["id"]) == []
    run_bill_to_gp(synced)
    assert len(gp_payments(synced, payment["id"])) == 1


def test_the_watchdog_re_enables_a_disabled_subscription_and_backfills(subscribed, bill_sandbox):
    conn = subscribed.bill_connection
    for subscription_id in (conn.webhook_subscription_id, conn.payment_subscription_id):  # as BILL does
        BillClient.for_connection(conn).patch_subscription(subscription_id, enabled=False)
    payment = bill_sandbox.pay_bills([{"billId": first_bill(subscribed).target_id}])
    bill_sandbox.wait_for_webhooks(5)
    assert gp_payments(subscribed, payment["id"]) == []
    assert watchdog(subscribed) == "re-enabled"
    assert BillClient.for_connection(conn).get_subscription(conn.webhook_subscription_id).enabled
    assert len(gp_payments(subscribed, payment["id"])) == 1
    assert watchdog(subscribed) == "enabled"


def _linked_vendor(tenant) -> SyncRecord:
    return (
        SyncRecord.objects.filter(tenant=tenant, kind="vendor", state=State.SYNCED, snapshot__archived=False)
        .order_by("source_key")
        .first()
    )


def test_a_vendor_edited_in_bill_updates_gp_and_is_not_echoed_back(subscribed, bill_sandbox):
    from connectors.sync.runner import run_gp_to_bill

    vendor = _linked_vendor(subscribed)
    BillClient.for_connection(subscribed.bill_connection).patch_vendor(
        vendor.target_id, {"email": "new-ap@vendor.example"}
    )
    assert bill_sandbox.wait_for_webhooks(15)
    gp_vendor = GPClient.for_connection(subscribed.gp_connection).get_vendor(vendor.source_key)
    assert gp_vendor.email == "new-ap@vendor.example"
    bill_sandbox.reset_stats()
    run_gp_to_bill(subscribed)  # GP's vendor changed (we wrote it): nothing goes back to BILL
    by_path = bill_sandbox.stats()["requests"]["by_path"]
    assert not [k for k in by_path if k.startswith("PATCH") and "/vendors/" in k]


def test_a_vendor_edited_on_both_sides_is_a_conflict_showing_both_values(synced, gp_sandbox, bill_sandbox):
    from connectors.sync.runner import run_gp_to_bill

    vendor = _linked_vendor(synced)
    BillClient.for_connection(synced.bill_connection).patch_vendor(
        vendor.target_id, {"name": "Name From BILL"}
    )
    gp_sandbox.update_vendor(vendor.source_key, Name="Name From GP")
    run_gp_to_bill(synced)
    run_bill_to_gp(synced)
    vendor.refresh_from_db()
    assert vendor.state == State.CONFLICT
    assert vendor.snapshot["conflicts"] == ["name"]
    assert (
        vendor.snapshot["gp"]["name"] == "Name From GP"
        and vendor.snapshot["bill"]["name"] == "Name From BILL"
    )
    assert (
        BillClient.for_connection(synced.bill_connection).get_vendor(vendor.target_id).name
        == "Name From BILL"
    )
    assert GPClient.for_connection(synced.gp_connection).get_vendor(vendor.source_key).name == "Name From GP"

    from connectors.sync.vendor_conflict import keep_value

    keep_value(vendor, "name", "bill", None)
    vendor.refresh_from_db()
    assert vendor.state == State.SYNCED
    assert (
        GPClient.for_connection(synced.gp_connection).get_vendor(vendor.source_key).name == "Name From BILL"
    )


def test_an_admin_subscribes_from_the_connection_page_and_never_sees_the_key(
    synced, client, alice, bill_sandbox
):
    client.force_login(alice)
    conn = synced.bill_connection
    page = client.post(
        "/admin/connectors/billconnection/",
        {"action": "subscribe_webhooks", "_selected_action": [conn.pk]},
        follow=True,
    )
    conn.refresh_from_db()
    assert conn.webhook_subscription_id and conn.webhook_security_key
    assert "subscribed to vendor, bill and payment events" in page.content.decode()
    assert "the security keys are stored encrypted" in page.content.decode()
    assert (
        conn.webhook_security_key
        not in client.get(f"/admin/connectors/billconnection/{conn.pk}/change/").content.decode()
    )
    subscription = BillClient.for_connection(conn).get_subscription(conn.webhook_subscription_id)
    assert subscription.notification_url.endswith(f"/webhooks/bill/{synced.slug}/")


def test_refused_deliveries_are_visible_to_admins_by_reason(synced, live_server, client, alice):
    deliver(endpoint(live_server, synced), synced, payment_event(synced, "stp-1"), key="wrong")
    client.force_login(alice)
    page = client.get("/admin/audit/webhookrejection/").content.decode()
    # In words; the tenant column is left out for a member of one tenant (all rows are hers).
    assert '<td class="field-why">bad signature</td>' in page

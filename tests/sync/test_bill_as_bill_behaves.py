"""BILL as BILL really behaves (issue 13): over HTTP, against the BILL sandbox doing the awkward parts.

Webhooks that never get the subscription disabled, payment webhooks BILL may refuse, one live
subscription per kind, vendor PATCHes that wipe nothing.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from audit.models import State, SyncRecord, WebhookEvent, WebhookRejection
from connectors.bill.client import BillClient
from connectors.bill.http import BillError
from connectors.gp.client import GPClient
from connectors.subscriptions import subscribe
from connectors.sync import vendor_fields as vf
from connectors.sync.runner import run_bill_to_gp, run_gp_to_bill
from tests.sync.conftest import approve_all, run
from tests.sync.test_webhooks_in import deliver, endpoint, first_bill, gp_payments, payment_event


def _client(tenant) -> BillClient:
    return BillClient.for_connection(tenant.bill_connection)


def _linked_1099_vendor(tenant, bill_sandbox) -> SyncRecord:
    """The GP vendor linked to the BILL vendor with the 1099 flag set (the seed's Contoso), its fields
    aligned as a person does on the review page: BILL's value kept for every field that differs (a bulk
    link leaves differences for a person, README "Vendor master data")."""
    from connectors.sync.gp_to_bill import vendor_link
    from mappings.approval import approve
    from mappings.models import VendorMapping

    flagged = {
        v["id"]
        for v in bill_sandbox.store.vendors.values()
        if (v.get("additionalInfo") or {}).get("track1099")
    }
    mapping = VendorMapping.objects.get(tenant=tenant, bill_vendor_id__in=flagged)
    both = vendor_link.read_both(tenant, mapping.gp_vendor_id, mapping.bill_vendor_id)
    picks = {r.field: "bill" if r.bill else "gp" for r in both.differing}
    approve(mapping, None, field_choices=vendor_link.decide(both, picks, set(picks), both.fingerprint))
    run(tenant)
    return SyncRecord.objects.get(tenant=tenant, kind="vendor", state=State.SYNCED, target_id__in=flagged)


# --- 1. A signed delivery is never refused for its type or shape ---------------------------------


def test_a_signed_event_in_a_shape_we_do_not_act_on_is_taken_and_the_subscription_stays_enabled(
    subscribed, bill_sandbox
):
    # payment.failed as BILL's changelog describes it: errors and the attempt, no payment ID to read back.
    answer = requests.post(
        f"{bill_sandbox.control_url}/webhooks/emit",
        timeout=10,
        json={
            "eventType": "payment.failed",
            "payload": {
                "payment": {"transactionNumber": "T-1", "vendor": {"id": "00902X"}},
                "errors": [{"code": "BDC_1152", "message": "Invalid Process Date"}],
            },
        },
    )
    assert answer.status_code == 200 and answer.json()["eventIds"]
    assert bill_sandbox.wait_for_webhooks(15)
    attempts = [d for d in bill_sandbox.stats()["webhooks"]["recent"] if d["eventType"] == "payment.failed"]
    assert [d["status"] for d in attempts] == [200]  # taken at once: no retries, nothing for BILL to disable
    conn = subscribed.bill_connection
    assert all(
        _client(subscribed).get_subscription(sid).enabled
        for sid in (conn.webhook_subscription_id, conn.payment_subscription_id)
    )
    event = WebhookEvent.objects.get(tenant=subscribed, event_type="payment.failed")
    assert event.state == WebhookEvent.IGNORED and "payment object or its id is missing" in event.error


# --- 2. Payment webhooks may not be offered ------------------------------------------------------


def test_the_sandbox_refuses_payment_events_for_an_org_that_is_not_offered_them(bill_sandbox_factory):
    sandbox = bill_sandbox_factory(payment_webhooks=False)
    c = sandbox.credentials
    login = requests.post(
        f"{sandbox.api_url}/v3/login",
        timeout=10,
        json={
            "username": c.username,
            "password": c.password,
            "organizationId": c.org_id,
            "devKey": c.dev_key,
        },
    ).json()
    headers = {"devKey": c.dev_key, "sessionId": login["sessionId"]}

    def create(events: list[str]) -> requests.Response:
        return requests.post(
            f"{sandbox.events_url}/v3/subscriptions",
            timeout=10,
            headers={**headers, "X-Idempotent-Key": str(uuid.uuid4())},
            json={
                "name": "x",
                "notificationUrl": "https://example.com/hook",
                "events": [{"type": e, "version": "1"} for e in events],
            },
        )

    assert create(["vendor.updated", "payment.updated"]).status_code == 403  # the whole subscription
    assert create(["vendor.updated"]).status_code == 200


def test_when_bill_refuses_payment_events_vendor_webhooks_still_work_and_payments_are_polled(
    wired, bill_sandbox_factory, live_server, client, alice
):
    from tests.fixtures_bill import wire_bill_connection

    refusing = bill_sandbox_factory(payment_webhooks=False)
    wire_bill_connection(wired, refusing)
    wired.refresh_from_db()
    run(wired)
    approve_all(wired)
    wired.default_checkbook_id = "UPTOWN TRUST"
    wired.save()
    subscribe(wired, endpoint(live_server, wired))
    conn = wired.bill_connection
    conn.refresh_from_db()
    assert conn.webhook_subscription_id and not conn.payment_subscription_id
    assert "not available" in conn.payment_webhooks_refused

    vendor = (
        SyncRecord.objects.filter(tenant=wired, kind="vendor", state=State.SYNCED, snapshot__archived=False)
        .order_by("source_key")
        .first()
    )
    _client(wired).patch_vendor(vendor.target_id, {"email": "refused-payments@vendor.example"})
    assert refusing.wait_for_webhooks(15)
    assert (
        GPClient.for_connection(wired.gp_connection).get_vendor(vendor.source_key).email
        == "refused-payments@vendor.example"
    )

    payment = refusing.pay_bills([{"billId": first_bill(wired).target_id}])
    assert refusing.wait_for_webhooks(5) and gp_payments(wired, payment["id"]) == []  # no event came
    run_bill_to_gp(wired)
    assert len(gp_payments(wired, payment["id"])) == 1  # found by polling

    client.force_login(alice)
    page = client.get("/admin/ops/dashboard/").content.decode()
    assert "payments found by polling" in page


# --- 3. One live subscription per kind; refused deliveries on the dashboard ----------------------


def test_subscribing_again_replaces_the_live_subscriptions_and_deletes_the_old_ones(
    subscribed, live_server, bill_sandbox
):
    conn = subscribed.bill_connection
    old = {conn.webhook_subscription_id, conn.payment_subscription_id}
    subscribe(subscribed, endpoint(live_server, subscribed))
    conn.refresh_from_db()
    live = {s.id: s for s in _client(subscribed).iter_subscriptions()}
    assert set(live) == {conn.webhook_subscription_id, conn.payment_subscription_id}
    assert not old & set(live)
    assert sorted(e for s in live.values() for e in s.events) == sorted(
        [
            "vendor.created",
            "vendor.updated",
            "vendor.archived",
            "vendor.restored",
            "bill.created",
            "bill.updated",
            "bill.archived",
            "bill.restored",
            "payment.updated",
            "payment.failed",
        ]
    )

    payment = bill_sandbox.pay_bills([{"billId": first_bill(subscribed).target_id}])
    assert bill_sandbox.wait_for_webhooks(15)
    assert {d["status"] for d in bill_sandbox.stats()["webhooks"]["recent"]} == {200}
    assert not WebhookRejection.objects.filter(reason="bad_signature").exists()
    assert len(gp_payments(subscribed, payment["id"])) == 1


def test_the_dashboard_shows_refused_deliveries_by_reason_for_the_last_24_hours(
    subscribed, live_server, client, alice, settings
):
    from datetime import timedelta

    from audit.models import this_hour

    url = endpoint(live_server, subscribed)
    for _ in range(3):
        assert (
            deliver(url, subscribed, payment_event(subscribed, "stp-x"), key="an-old-key").status_code == 401
        )
    other_org = payment_event(subscribed, "stp-y")
    other_org["metadata"]["organizationId"] = "00802SOMEONEELSE0001"
    assert deliver(url, subscribed, other_org).status_code == 400
    WebhookRejection.objects.create(
        tenant=subscribed, reason="too_large", count=7, hour=this_hour() - timedelta(hours=30)
    )  # older than a day: not shown
    client.force_login(alice)
    page = client.get("/admin/ops/dashboard/").content.decode()
    assert "Refused deliveries, last 24 h" in page
    assert "bad signature 3" in page and "another BILL organization 1" in page
    assert "body too large" not in page


# --- 5. PATCH without wiping ---------------------------------------------------------------------


def test_a_gp_change_keeps_what_bill_holds_beside_it_in_the_nested_objects(synced, gp_sandbox, bill_sandbox):
    assert not bill_sandbox.store.patch_merges_nested  # the suite runs with BILL replacing nested objects
    record = _linked_1099_vendor(synced, bill_sandbox)
    run_bill_to_gp(synced)  # GP's blank tax ID is filled from BILL: both sides agree before GP changes it
    with bill_sandbox.store.lock:  # as BILL returns it: the 1099 flag, and an address key GP does not have
        bill_sandbox.store.vendors[record.target_id]["address"]["countryName"] = "Canada"
    gp = GPClient.for_connection(synced.gp_connection)
    key = vf.gp_address_key(gp.get_vendor(record.source_key))
    gp_sandbox.update_vendor(
        record.source_key, TaxIdNumber="98-7654321", Addresses=[{"Key": {"Id": key}, "City": "Mississauga"}]
    )
    run_gp_to_bill(synced)
    vendor = _client(synced).get_vendor(record.target_id).raw
    assert vendor["additionalInfo"]["taxId"] == "98-7654321"
    assert vendor["additionalInfo"]["track1099"] is True and vendor["additionalInfo"]["taxIdType"] == "EIN"
    assert vendor["address"]["city"] == "Mississauga" and vendor["address"]["countryName"] == "Canada"
    record.refresh_from_db()
    assert record.state == State.SYNCED


def test_a_vendor_change_bill_did_not_keep_is_reported_not_settled(synced, gp_sandbox, bill_sandbox):
    record = _linked_1099_vendor(synced, bill_sandbox)
    run_bill_to_gp(synced)
    # Between our PATCH and the read-back, someone (or BILL) changes the tax ID again.
    original = bill_sandbox.store.patch_vendor

    def patch_then_lose(vendor_id, body):
        answer = original(vendor_id, body)
        with bill_sandbox.store.lock:
            bill_sandbox.store.vendors[vendor_id]["additionalInfo"] = {}
        return answer

    bill_sandbox.store.patch_vendor = patch_then_lose
    gp_sandbox.update_vendor(record.source_key, TaxIdNumber="98-7654321")
    run_gp_to_bill(synced)
    record.refresh_from_db()
    assert record.state != State.SYNCED
    assert "did not keep additionalInfo.taxId" in record.trail.order_by("-pk").first().error


# --- 6. https only --------------------------------------------------------------------------------


def test_bill_delivers_to_https_only_unless_started_for_development(wired, bill_sandbox_factory):
    from tests.fixtures_bill import wire_bill_connection

    strict = bill_sandbox_factory(allow_http_webhooks=False)
    wire_bill_connection(wired, strict)
    wired.refresh_from_db()
    with pytest.raises(BillError, match="https"):
        subscribe(wired, f"http://connector.example.com/webhooks/bill/{wired.slug}/")
    assert subscribe(wired, f"https://connector.example.com/webhooks/bill/{wired.slug}/")

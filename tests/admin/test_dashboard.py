"""The dashboard: polling lag per flow, records by state, BILL calls this hour, webhooks, problems."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from audit.models import AlertDigest, PollCursor, WebhookEvent
from connectors.models import BillConnection
from tests.admin.conftest import record

URL = "/admin/ops/dashboard/"


def test_it_shows_when_each_flow_last_succeeded_and_flags_a_late_one(as_frank, tenant):
    now = timezone.now()
    PollCursor.objects.create(tenant=tenant, flow="gp_bills", last_success_at=now - timedelta(minutes=3))
    PollCursor.objects.create(
        tenant=tenant,
        flow="bill_payments",
        last_success_at=now - timedelta(hours=5),
        last_started_at=now,
        last_error="BILL could not be reached: timed out",
    )
    page = as_frank.get(URL).content.decode()
    assert "GP invoices → BILL bills" in page and "3 min" in page
    assert "BILL payments → GP" in page and "300 min" in page
    assert "BILL could not be reached: timed out" in page


def test_it_counts_records_by_state_and_lists_recent_problems(as_frank, tenant):
    for i in range(3):
        record(tenant, f"S{i}", "synced")
    record(tenant, "F1", "failed", label="ACME invoice 5", reason="BILL did not take the bill")
    page = as_frank.get(URL).content.decode()
    assert 'state__exact=synced">3 bills</a>' in page
    assert "ACME invoice 5" in page and "BILL did not take the bill" in page


ORG = "00801" + uuid.uuid4().hex[:15].upper()  # a fresh org: Redis keeps hourly counts between runs


def test_it_shows_bill_calls_this_hour_and_the_webhook_subscription_without_secrets(as_frank, tenant):
    from connectors.bill.gate import gate_for, key_of

    conn = BillConnection.objects.create(
        tenant=tenant,
        organization_id=ORG,
        username="ap@northwind.test",
        password="pw-SECRET",
        dev_key="dk-SECRET",
        webhook_subscription_id="sub-123",
        webhook_security_key="whk-SECRET",
    )
    gate_for().spend(ORG, 42, key=key_of(conn))  # 42 calls counted by whichever gate is configured
    WebhookEvent.objects.create(
        tenant=tenant, event_id="ev1", event_type="payment.updated", state="processed"
    )
    page = as_frank.get(URL).content.decode()
    assert "<strong>42</strong> of 20,000" in page
    assert "subscribed" in page and "sub-123" in page
    assert "processed 1" in page
    for secret in ("pw-SECRET", "dk-SECRET", "whk-SECRET"):
        assert secret not in page


def test_it_says_when_the_last_alert_digest_went(as_frank, tenant):
    AlertDigest.objects.create(
        tenant=tenant, started_at=timezone.now(), records=4, recipients="ap@northwind.test"
    )
    assert "(4 record(s))" in as_frank.get(URL).content.decode()

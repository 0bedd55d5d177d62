"""The dashboard in a clerk's terms: money per state, the 30-day chart, the BILL-calls bar, webhook
states in words, times with their zone, and first-run guidance while nothing is mapped."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from audit.models import Attempt, WebhookEvent
from connectors.models import Tenant
from mappings.models import MappingState, VendorMapping
from tests.admin.conftest import record

URL = "/admin/ops/dashboard/"


def _attempt(rec, outcome, days_ago=0):
    Attempt.objects.create(
        record=rec,
        flow="gp_bills",
        trigger="schedule",
        outcome=outcome,
        started_at=timezone.now() - timedelta(days=days_ago),
    )


def test_money_totals_by_state_and_the_30_day_chart(as_frank, tenant):
    synced = record(tenant, "S1", "synced", gp_vendor="ACME", amount=Decimal("1200.50"), currency="USD")
    waiting = record(
        tenant,
        "B1",
        "blocked",
        gp_vendor="ACME",
        amount=Decimal("99.5"),
        currency="USD",
        waiting_on="vendor:ACME",
        document_date=date(2026, 1, 2),
    )
    _attempt(synced, "created", days_ago=3)
    _attempt(waiting, "blocked", days_ago=3)
    _attempt(waiting, "blocked", days_ago=3)  # the same record twice that day counts once
    _attempt(waiting, "blocked", days_ago=45)  # outside the 30 days
    other = Tenant.objects.create(name="Other Co", slug="other-co")
    _attempt(record(other, "X1", "blocked", amount=Decimal("5000")), "blocked")
    page = as_frank.get(URL).content.decode()
    assert "1 bill, $1,200.50" in page
    assert "1 bill, $99.50, waiting on 1 vendor mapping" in page
    assert "$5,000.00" not in page  # another tenant's money never shows
    assert '<svg viewBox="0 0 600 118"' in page
    assert (
        page.count('class="ml-bar-synced"><title>') == 1
        and page.count('class="ml-bar-attention"><title>') == 1
    )
    assert "Synced: 1 record-days" in page and "Needing attention: 1 record-days" in page
    assert "(times in UTC)" in page


def test_first_run_guidance_until_something_is_mapped(as_frank, tenant):
    page = as_frank.get(URL).content.decode()
    assert "Getting started" in page and "Review the" in page
    VendorMapping.objects.create(tenant=tenant, gp_vendor_id="ACME", state=MappingState.APPROVED)
    assert "Getting started" not in as_frank.get(URL).content.decode()


def test_webhook_states_read_as_words(as_frank, tenant):
    WebhookEvent.objects.create(
        tenant=tenant, event_id="e1", event_type="bill.updated", state=WebhookEvent.PROCESSED
    )
    page = as_frank.get(URL).content.decode()
    assert "last 24 h: processed 1" in page


def test_a_report_csv_of_another_tenant_is_not_found(as_frank, tenant):
    from audit.models import Job

    other = Tenant.objects.create(name="Other Co", slug="other-co")
    result = {
        "version": 2,
        "sections": [{"title": "Amount differs", "columns": ["GP voucher"], "rows": [["SECRET-V"]]}],
    }
    theirs = Job.objects.create(kind=Job.DRIFT, tenant=other, state=Job.DONE, result=result)
    ours = Job.objects.create(kind=Job.DRIFT, tenant=tenant, state=Job.DONE, result=result)
    assert as_frank.get(f"/admin/ops/jobs/{theirs.pk}/report.csv").status_code == 404
    assert "SECRET-V" in as_frank.get(f"/admin/ops/jobs/{ours.pk}/report.csv").content.decode()

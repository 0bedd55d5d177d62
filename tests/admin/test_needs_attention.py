"""Needs attention: every record a person must look at, why, and what fixes it."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from audit.models import SyncRecord
from tests.admin.conftest import record

LIST = "/admin/audit/attentionrecord/"


def test_it_lists_blocked_failed_in_doubt_flagged_and_conflicting_records_only(as_frank, tenant):
    for state in ("blocked", "failed", "in_doubt", "flagged", "conflict", "synced", "skipped", "pending"):
        record(tenant, f"V-{state}", state, reason=f"reason for {state}")
    page = as_frank.get(LIST).content.decode()
    for state in ("blocked", "failed", "in_doubt", "flagged", "conflict"):
        assert f"V-{state}" in page
    for state in ("synced", "skipped", "pending"):
        assert f"V-{state}" not in page


def test_it_lists_a_write_stuck_in_sending(as_frank, tenant):
    stuck = record(tenant, "V-STUCK", "sending")
    SyncRecord.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    record(tenant, "V-JUST-SENT", "sending")
    page = as_frank.get(LIST).content.decode()
    assert "V-STUCK" in page
    assert "V-JUST-SENT" not in page


def test_it_says_what_happened_and_links_the_mapping_that_fixes_it(as_frank, tenant):
    record(
        tenant,
        "00000042",
        "blocked",
        label="ACME invoice 881 (120.00 USD)",
        reason="Waiting for a mapping: GP vendor ACME not mapped to BILL yet.",
        fix="Approve the mapping in Mappings; this bill then goes to BILL by itself.",
        waiting_on="vendor:ACME account:000-6100-00",
    )
    page = as_frank.get(LIST).content.decode()
    assert "ACME invoice 881 (120.00 USD)" in page
    assert "GP vendor ACME not mapped to BILL yet." in page
    assert "Approve the mapping in Mappings" in page
    assert "Map GP vendor ACME" in page
    assert "Map GP account 000-6100-00" in page


def test_it_offers_replay_on_failed_rows_but_not_on_rows_waiting_for_a_mapping(as_frank, tenant):
    failed = record(tenant, "F1", "failed", reason="BILL did not answer")
    blocked = record(tenant, "B1", "blocked", waiting_on="vendor:X")
    page = as_frank.get(LIST).content.decode()
    assert f"/admin/audit/syncrecord/{failed.pk}/replay/" in page
    assert f"/admin/audit/syncrecord/{blocked.pk}/replay/" not in page


def test_it_filters_by_cause(as_frank, tenant):
    record(tenant, "WAITS", "blocked")
    record(tenant, "BROKE", "failed")
    record(tenant, "DECIDE", "conflict")
    page = as_frank.get(LIST + "?cause=decision").content.decode()
    assert "DECIDE" in page and "WAITS" not in page and "BROKE" not in page


def test_it_sends_the_record_link_to_the_one_record_page(as_frank, tenant):
    failed = record(tenant, "F2", "failed")
    response = as_frank.get(f"/admin/audit/attentionrecord/{failed.pk}/change/")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/audit/syncrecord/{failed.pk}/change/"


def test_it_sends_anonymous_visitors_to_the_login_page(client, tenant):
    response = client.get(LIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]

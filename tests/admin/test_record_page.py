"""The record page: GP document ↔ BILL object ↔ every attempt, and the buttons that act on it."""

from __future__ import annotations

from django.utils import timezone

from audit.models import Attempt, State, SyncRecord
from tests.admin.conftest import record


def page_of(client, rec) -> str:
    response = client.get(f"/admin/audit/syncrecord/{rec.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_both_sides_and_every_attempt_in_the_trail(as_frank, tenant, frank):
    rec = record(tenant, "00000077", "failed", target_id="", label="ACME invoice 77",
                 reason="BILL did not take the bill: amount must be positive")
    Attempt.objects.create(record=rec, flow="gp_bills", trigger="schedule", started_at=timezone.now(),
                           outcome="refused", response_status="400", error="amount must be positive",
                           request={"invoiceNumber": "77", "amount": "-5.00"})
    Attempt.objects.create(record=rec, flow="gp_bills", trigger="replay", started_at=timezone.now(),
                           outcome="failed", error="timeout", user=frank)
    page = page_of(as_frank, rec)
    assert "GP payables invoice (voucher)" in page and "00000077" in page
    assert "BILL bill" in page and "— not created yet" in page
    assert "amount must be positive" in page
    assert page.count("gp_bills") >= 2
    assert "frank" in page


def test_it_lays_a_conflict_out_field_by_field(as_frank, tenant):
    rec = record(tenant, "ACME", "conflict", kind="vendor", target_id="00901ACME",
                 snapshot={"agreed": {"email": "ap@acme.test", "name": "Acme"},
                           "gp": {"email": "billing@acme.test", "name": "Acme"},
                           "bill": {"email": "pay@acme.test", "name": "Acme"}, "conflicts": ["email"]})
    page = page_of(as_frank, rec)
    assert "Changed on both sides" in page
    assert "billing@acme.test" in page and "pay@acme.test" in page and "ap@acme.test" in page
    assert 'class="ml-clash"' in page


def test_it_never_shows_a_secret_from_the_trail(as_frank, tenant):
    from audit.redact import redact

    rec = record(tenant, "S1", "failed")
    Attempt.objects.create(record=rec, flow="gp_bills", trigger="schedule", started_at=timezone.now(),
                           outcome="failed", request=redact({"devKey": "dk-SECRET-123", "sessionId": "sid-SECRET"}))
    page = page_of(as_frank, rec)
    assert "dk-SECRET-123" not in page and "sid-SECRET" not in page
    assert "[redacted]" in page


def test_it_stops_a_record_with_the_reason_and_who_said_so(as_frank, tenant):
    rec = record(tenant, "D1", "flagged", reason="GP voided invoice 12, but BILL has already paid it.")
    response = as_frank.post(f"/admin/audit/syncrecord/{rec.pk}/dont-sync/", {"reason": "Settled by phone with the vendor"})
    assert response.status_code == 302
    rec.refresh_from_db()
    assert rec.state == State.SKIPPED
    assert rec.reason == "Don't sync (frank): Settled by phone with the vendor"
    page = page_of(as_frank, rec)
    assert "Sync again" in page
    assert "skipped" in page and "Settled by phone with the vendor" in page  # the trail line


def test_it_refuses_dont_sync_without_a_reason(as_frank, tenant):
    rec = record(tenant, "D2", "failed")
    as_frank.post(f"/admin/audit/syncrecord/{rec.pk}/dont-sync/", {"reason": "   "})
    rec.refresh_from_db()
    assert rec.state == State.FAILED


def test_it_refuses_a_replay_by_get(as_frank, tenant):
    rec = record(tenant, "G1", "failed")
    assert as_frank.get(f"/admin/audit/syncrecord/{rec.pk}/replay/").status_code == 403


def test_it_replays_one_record_and_says_how_it_ended(as_frank, tenant, monkeypatch):
    from connectors.sync import replay

    def fake_replay(record, *, trigger, user=None, ctx=None):
        SyncRecord.objects.filter(pk=record.pk).update(state=State.SYNCED, target_id="00n1", reason="")
        record.refresh_from_db()
        return record

    monkeypatch.setattr(replay, "replay_record", fake_replay)
    rec = record(tenant, "R1", "failed", label="ACME invoice 9")
    response = as_frank.post(f"/admin/audit/syncrecord/{rec.pk}/replay/", follow=True)
    assert "now Synced" in response.content.decode()


def test_it_does_not_let_anyone_delete_a_record(as_frank, tenant):
    rec = record(tenant, "X1", "failed")
    assert as_frank.get(f"/admin/audit/syncrecord/{rec.pk}/delete/").status_code == 403

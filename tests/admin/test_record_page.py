"""The record page: GP document ↔ BILL object ↔ every attempt, and the buttons that act on it."""

from __future__ import annotations

from django.utils import timezone

from audit.models import Attempt, Job, State, SyncRecord
from tests.admin.conftest import post_and_run, record


def page_of(client, rec) -> str:
    response = client.get(f"/admin/audit/syncrecord/{rec.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_both_sides_and_every_attempt_in_the_trail(as_frank, tenant, frank):
    rec = record(
        tenant,
        "00000077",
        "failed",
        target_id="",
        label="ACME invoice 77",
        reason="BILL did not take the bill: amount must be positive",
    )
    Attempt.objects.create(
        record=rec,
        flow="gp_bills",
        trigger="schedule",
        started_at=timezone.now(),
        outcome="refused",
        response_status="400",
        error="amount must be positive",
        request={"invoiceNumber": "77", "amount": "-5.00"},
    )
    Attempt.objects.create(
        record=rec,
        flow="gp_bills",
        trigger="replay",
        started_at=timezone.now(),
        outcome="failed",
        error="timeout",
        user=frank,
    )
    page = page_of(as_frank, rec)
    assert "GP payables invoice (voucher)" in page and "00000077" in page
    assert "BILL bill" in page and "— not created yet" in page
    assert "amount must be positive" in page
    assert page.count("GP invoices → BILL bills") >= 2 and "gp_bills" not in page
    assert "Amount: -5.00; Invoice number: 77" in page  # what was sent, in words, not a Python dict
    assert "frank" in page


RAW = ("{'", "[{'", "Decimal(", "in_doubt", "updated_gp", "bill_ignored", "gp_bills", "vendor_conflict")


def visible_text(page: str) -> str:
    """The page as read: tags, and the attribute values inside them, dropped."""
    import re

    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"<[^>]*>", " ", page)


def test_it_puts_every_code_and_stored_value_into_words(as_frank, tenant, frank):
    from decimal import Decimal

    rec = record(
        tenant,
        "P1",
        "in_doubt",
        kind="gp_payment",
        label="Payment 00PAY1 to ACME, $1,234.50",
        next_retry_at=timezone.now() + timezone.timedelta(minutes=20),
        snapshot={
            "apply": [{"voucher": "00000077", "amount": "1234.50"}],
            "remit": {"line1": "456 Commerce Way", "city": "Austin", "state": "TX", "zip": "78701"},
        },
    )
    Attempt.objects.create(
        record=rec,
        flow="bill_vendors",
        trigger="webhook",
        started_at=timezone.now(),
        outcome="updated_gp",
        request={"fields": ["email"], "amount": str(Decimal("1234.50"))},
    )
    Attempt.objects.create(
        record=rec,
        flow="vendor_conflict",
        trigger="person",
        started_at=timezone.now(),
        outcome="in_doubt",
        user=frank,
    )
    text = visible_text(page_of(as_frank, rec))
    assert not [text[text.index(raw) - 80 : text.index(raw) + 80] for raw in RAW if raw in text]
    assert (
        "Outcome unknown (will check)" in text and "Updated in GP" in text and "Vendor field choice" in text
    )
    assert "456 Commerce Way, Austin, TX 78701" in text
    assert "Amount: 1234.50; Voucher: 00000077" in text
    assert "Next try:" in text and "tried again by itself at" in text


def test_it_has_one_title_naming_the_document(as_frank, tenant):
    rec = record(tenant, "00000077", "failed", label="ACME invoice INV-77, $7,091.52")
    page = page_of(as_frank, rec)
    assert page.count("<h1>") == 1 and "<h2>00000077" not in page
    assert "<h1>Invoice ACME invoice INV-77, $7,091.52 (00000077)</h1>" in page


def test_the_title_reads_like_the_document_not_the_gp_ids(as_frank, tenant):
    from decimal import Decimal

    from mappings.models import VendorMapping

    VendorMapping.objects.create(tenant=tenant, gp_vendor_id="CONTOSO1", gp_name="Contoso Ltd")
    bill = record(
        tenant,
        "00000000000000088",
        label="CONTOSO1 invoice CT-88121 ($999.99)",
        gp_vendor="CONTOSO1",
        document_number="CT-88121",
        amount=Decimal("999.99"),
        currency="USD",
    )
    assert "<h1>Invoice CT-88121 · Contoso Ltd · $999.99</h1>" in page_of(as_frank, bill)
    vendor = record(tenant, "CONTOSO1", kind="vendor", label="CONTOSO1 Contoso Ltd")
    assert "<h1>Vendor Contoso Ltd</h1>" in page_of(as_frank, vendor)
    payment = record(
        tenant,
        "00PAY1",
        kind="gp_payment",
        gp_vendor="CONTOSO1",
        amount=Decimal("5000"),
        currency="USD",
        label="BILL payment 00PAY1 ($5,000.00) → GP PMT1",
    )
    assert "<h1>Payment · Contoso Ltd · $5,000.00</h1>" in page_of(as_frank, payment)
    # A vendor with no mapping yet is named from what GP said last; an unnamed GP vendor by its ID.
    unmapped = record(
        tenant,
        "FABRIK01",
        kind="vendor",
        label="FABRIK01 Fabrikam",
        snapshot={"agreed": {"name": "Fabrikam"}},
    )
    assert "<h1>Vendor Fabrikam</h1>" in page_of(as_frank, unmapped)
    euro = record(
        tenant,
        "00000000000000089",
        gp_vendor="NONAME01",
        document_number="R-7",
        amount=Decimal("300"),
        currency="EUR",
    )
    assert "<h1>Invoice R-7 · NONAME01 · €300.00</h1>" in page_of(as_frank, euro)


def test_it_lays_a_conflict_out_field_by_field(as_frank, tenant):
    rec = record(
        tenant,
        "ACME",
        "conflict",
        kind="vendor",
        target_id="00901ACME",
        snapshot={
            "agreed": {"email": "ap@acme.test", "name": "Acme"},
            "gp": {"email": "billing@acme.test", "name": "Acme"},
            "bill": {"email": "pay@acme.test", "name": "Acme"},
            "conflicts": ["email"],
        },
    )
    page = page_of(as_frank, rec)
    assert "Changed on both sides" in page
    assert "billing@acme.test" in page and "pay@acme.test" in page and "ap@acme.test" in page
    assert 'class="ml-clash"' in page
    # One pair of buttons for the one field that differs, with the e-mail's confirmation box.
    assert page.count("Keep GP's value<") == 1 and page.count("Keep BILL's value<") == 1
    assert "I confirm: change the e-mail in BILL" in page and "I confirm: change the e-mail in GP" in page


def test_a_keep_button_without_the_confirmation_changes_nothing_and_says_why(as_frank, tenant):
    rec = record(
        tenant,
        "ACME",
        "conflict",
        kind="vendor",
        target_id="00901ACME",
        snapshot={
            "agreed": {"email": "ap@acme.test"},
            "gp": {"email": "billing@acme.test"},
            "bill": {"email": "pay@acme.test"},
            "conflicts": ["email"],
        },
    )
    response = as_frank.post(
        f"/admin/audit/syncrecord/{rec.pk}/keep/", {"field": "email", "keep": "gp"}, follow=True
    )
    assert "tick “I confirm”" in response.content.decode()
    rec.refresh_from_db()
    assert rec.state == State.CONFLICT and not rec.trail.exists()


def test_it_never_shows_a_secret_from_the_trail(as_frank, tenant):
    from audit.redact import redact

    rec = record(tenant, "S1", "failed")
    Attempt.objects.create(
        record=rec,
        flow="gp_bills",
        trigger="schedule",
        started_at=timezone.now(),
        outcome="failed",
        request=redact({"devKey": "dk-SECRET-123", "sessionId": "sid-SECRET"}),
    )
    page = page_of(as_frank, rec)
    assert "dk-SECRET-123" not in page and "sid-SECRET" not in page
    assert "[redacted]" in page


def test_it_stops_a_record_with_the_reason_and_who_said_so(as_frank, tenant):
    rec = record(tenant, "D1", "flagged", reason="GP voided invoice 12, but BILL has already paid it.")
    response = as_frank.post(
        f"/admin/audit/syncrecord/{rec.pk}/dont-sync/", {"reason": "Settled by phone with the vendor"}
    )
    assert response.status_code == 302
    rec.refresh_from_db()
    assert rec.state == State.SKIPPED
    assert rec.reason == "Don't sync (frank): Settled by phone with the vendor"
    page = page_of(as_frank, rec)
    assert "Sync again" in page
    assert "Don&#x27;t sync chosen" in page and "Settled by phone with the vendor" in page  # the trail line


def test_dont_sync_leaves_a_record_the_connector_is_sending_and_says_reload(as_frank, tenant):
    import os
    import socket

    # A live writer (this very process, under another thread's claim) has the row `sending`.
    rec = record(tenant, "D3", "sending", sending_by=f"{socket.gethostname()}:{os.getppid()}")
    response = as_frank.post(
        f"/admin/audit/syncrecord/{rec.pk}/dont-sync/", {"reason": "duplicate"}, follow=True
    )
    rec.refresh_from_db()
    assert rec.state == State.SENDING  # parking it would hide the write that may be landing
    assert "was left as it is" in response.content.decode() and "Reload" in response.content.decode()


def test_dont_sync_from_a_stale_copy_is_not_silent(tenant, frank):
    from audit.actions import dont_sync

    rec = record(tenant, "D4", "failed", label="ACME invoice 4")
    stale = SyncRecord.objects.get(pk=rec.pk)
    SyncRecord.objects.filter(pk=rec.pk).update(
        state=State.PENDING, updated_at=timezone.now()
    )  # a flow moved it
    done = dont_sync([stale], "paid by phone", frank)
    assert (done.skipped, [r.pk for r in done.moved]) == (0, [rec.pk])
    assert "ACME invoice 4" in done.message() and "Reload the page" in done.message()
    rec.refresh_from_db()
    assert rec.state == State.PENDING
    assert rec.trail.get().outcome == "not_skipped"  # "Don't sync not applied: the record changed meanwhile"


def test_it_refuses_dont_sync_without_a_reason(as_frank, tenant):
    rec = record(tenant, "D2", "failed")
    as_frank.post(f"/admin/audit/syncrecord/{rec.pk}/dont-sync/", {"reason": "   "})
    rec.refresh_from_db()
    assert rec.state == State.FAILED


def test_it_refuses_a_replay_by_get(as_frank, tenant):
    rec = record(tenant, "G1", "failed")
    assert as_frank.get(f"/admin/audit/syncrecord/{rec.pk}/replay/").status_code == 403


def test_replay_starts_a_job_and_its_page_says_how_the_record_ended(
    as_frank, tenant, frank, inline_tasks, monkeypatch
):
    def fake_replay_many(ids, *, trigger, user=None):
        SyncRecord.objects.filter(pk__in=ids).update(state=State.SYNCED, target_id="00n1", reason="")
        return {"synced": len(ids)}

    monkeypatch.setattr("connectors.sync.replay.replay_many", fake_replay_many)
    rec = record(tenant, "R1", "failed", label="ACME invoice 9")
    response = post_and_run(as_frank, f"/admin/audit/syncrecord/{rec.pk}/replay/")
    page = response.content.decode()
    assert "1 record: 1 synced." in page and "Back to the record" in page
    job = Job.objects.get()
    assert (job.kind, job.record_ids, job.tenant, job.user, job.state) == (
        Job.REPLAY,
        [rec.pk],
        tenant,
        frank,
        Job.DONE,
    )


def test_a_replay_that_sends_nothing_still_adds_a_trail_row(tenant, frank, monkeypatch):
    from connectors.sync import replay

    monkeypatch.setattr(replay.SyncContext, "for_tenant", lambda *a, **k: None)
    monkeypatch.setattr(replay, "_replay_account", lambda ctx, record: None)
    rec = record(tenant, "000-6100-00", "blocked", kind="gl_account", reason="Waiting for BILL")
    replay.replay_record(rec, user=frank)
    replay.replay_record(rec, user=frank)
    assert [(a.outcome, a.user, a.error) for a in rec.trail.all()] == [
        ("replayed", frank, "Waiting for BILL")
    ] * 2


def test_sync_again_starts_a_job_too(as_frank, tenant, inline_tasks, monkeypatch):
    monkeypatch.setattr("connectors.sync.replay.replay_many", lambda ids, **kw: {"pending": len(ids)})
    rec = record(tenant, "S9", "skipped", reason="Don't sync (frank): duplicate")
    response = post_and_run(as_frank, f"/admin/audit/syncrecord/{rec.pk}/resume/")
    assert "1 record: 1 pending." in response.content.decode()
    assert rec.trail.get().outcome == "resumed"


def test_it_does_not_let_anyone_delete_a_record(as_frank, tenant):
    rec = record(tenant, "X1", "failed")
    assert as_frank.get(f"/admin/audit/syncrecord/{rec.pk}/delete/").status_code == 403

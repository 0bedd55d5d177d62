"""The digest: one e-mail listing records that newly need attention, never one per retry."""

from __future__ import annotations

import pytest
from django.core import mail

from audit.alerts import send_digest
from audit.ledger import settle
from tests.admin.conftest import record


@pytest.fixture
def contacts(tenant):
    tenant.alert_emails = "ap@northwind.test, controller@northwind.test"
    tenant.save()
    return tenant


def test_it_mails_the_contacts_once_with_what_happened_and_what_fixes_it(contacts):
    record(
        contacts,
        "00000001",
        "failed",
        label="ACME invoice 1",
        reason="BILL did not take the bill",
        fix="Replay to retry now.",
    )
    record(contacts, "00000002", "blocked", label="BOLT invoice 2", reason="Waiting for a mapping")
    record(contacts, "00000003", "synced")
    assert send_digest(contacts, base_url="https://connector.example")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ap@northwind.test", "controller@northwind.test"]
    assert "1 invoice waiting for a mapping or GP, 1 invoice failed (will retry)" in message.subject
    assert "newly needing attention: 1 invoice waiting for a mapping or GP, 1 invoice failed" in message.body
    assert "ACME invoice 1" in message.body and "Replay to retry now." in message.body
    assert "BOLT invoice 2" in message.body and "00000003" not in message.body
    assert "https://connector.example/admin/audit/syncrecord/" in message.body


def test_its_links_are_absolute_with_site_url(contacts, settings):
    settings.SITE_URL = "https://ap.northwind.example/"
    record(contacts, "00000001", "failed", reason="timeout")
    send_digest(contacts)
    body = mail.outbox[0].body
    assert "https://ap.northwind.example/admin/audit/syncrecord/" in body
    assert "https://ap.northwind.example/admin/audit/attentionrecord/" in body
    assert "SITE_URL" not in body


def test_it_sends_nothing_new_for_a_retry_that_fails_the_same_way(contacts):
    failing = record(contacts, "00000001", "failed", reason="timeout")
    send_digest(contacts)
    settle(failing, "failed", reason="timeout again")
    assert send_digest(contacts) is None
    assert len(mail.outbox) == 1


def test_it_reports_a_record_again_when_it_breaks_after_recovering(contacts):
    flaky = record(contacts, "00000001", "failed", reason="timeout")
    send_digest(contacts)
    settle(flaky, "synced")
    send_digest(contacts)  # sees the recovery
    settle(flaky, "failed", reason="BILL refused the bill")
    assert send_digest(contacts)
    assert len(mail.outbox) == 2 and "BILL refused the bill" in mail.outbox[1].body


def test_it_reports_a_record_whose_problem_changed(contacts):
    rec = record(contacts, "00000001", "blocked", reason="Waiting for a mapping")
    send_digest(contacts)
    settle(rec, "flagged", reason="BILL refused the bill: invalid due date")
    assert send_digest(contacts)
    assert "invalid due date" in mail.outbox[1].body


def test_it_mails_nobody_without_contacts(tenant):
    record(tenant, "00000001", "failed")
    assert send_digest(tenant) is None
    assert mail.outbox == []

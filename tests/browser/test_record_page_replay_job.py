"""The record page in Chromium while a replay waits for a worker, and a differing vendor's way to
its side-by-side review, as a finance clerk sees them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.conftest import record
from tests.browser.conftest import sign_in
from tests.browser.test_record_and_error_pages import left_different, press, reads_as_words, shot

pytestmark = pytest.mark.browser
__all__ = ["left_different"]  # the fixture, shared with the record page's other browser tests


def test_a_replay_waiting_for_a_worker_is_named_on_the_record_page_and_not_queued_twice(
    page, live_server, tenant, frank, monkeypatch
):
    from audit.models import Job

    monkeypatch.setattr("audit.jobs.enqueue", lambda *a, **k: None)  # no worker: the job stays queued
    rec = record(tenant, "00000412", "failed", label="Fabrikam · Invoice INV-412 · $1,280.00")
    sign_in(page, live_server, "frank")
    page.goto(f"{live_server.url}/admin/audit/syncrecord/{rec.pk}/change/")
    press(page, "#ml-replay")
    assert "Queued" in page.inner_text("#ml-job-state")
    assert "progress is shown below" in page.locator(".messagelist").inner_text()

    page.goto(f"{live_server.url}/admin/audit/syncrecord/{rec.pk}/change/")
    text = reads_as_words(page)
    notice = page.inner_text("#ml-replay-waiting")
    assert "Replay queued:" in notice and "asked for by frank" in notice
    assert page.locator("#ml-replay").count() == 0  # no second Replay button while one waits
    assert "Replay now" not in text
    shot(page, "record-replay-queued")
    press(page, "#ml-replay-waiting a")
    assert page.url.endswith(f"/admin/ops/jobs/{Job.objects.get().pk}/")

    page.goto(f"{live_server.url}/admin/audit/syncrecord/{rec.pk}/change/")
    page.evaluate(  # a second tab still showing the old button: its press queues nothing
        """(url) => { const f = document.createElement('form'); f.method = 'post'; f.action = url;
           const t = document.querySelector('input[name=csrfmiddlewaretoken]').cloneNode();
           f.appendChild(t); document.body.appendChild(f); f.submit(); }""",
        f"/admin/audit/syncrecord/{rec.pk}/replay/",
    )
    page.wait_for_selector(".messagelist")
    said = page.locator(".messagelist").inner_text()
    assert "is queued and starts shortly (asked for by frank" in said and "No second replay" in said
    assert Job.objects.count() == 1


def test_a_differing_vendor_links_to_its_side_by_side_review(page, live_server, left_different: Any):
    sign_in(page, live_server, "frank")
    page.goto(f"{live_server.url}/admin/audit/syncrecord/{left_different.pk}/change/")
    reads_as_words(page)
    press(page, "#ml-review-vendor")
    text = page.inner_text("body")
    assert "Apply these choices" in text and "Leave both as they are" in text
    shot(page, "record-vendor-review-from-conflict")

"""Long actions run as background jobs whose page shows progress, then the result."""

from __future__ import annotations

from audit import jobs
from audit.models import Job, State, SyncRecord
from tests.admin.conftest import post_and_run, record


def test_it_replays_a_selection_as_a_job_and_shows_where_each_record_ended(
    as_frank, frank, tenant, inline_tasks, monkeypatch
):
    calls: list = []

    def fake_replay_many(ids, *, trigger, user=None):
        calls.append((sorted(ids), user))
        SyncRecord.objects.filter(pk__in=ids).update(state=State.SYNCED)
        return {"synced": len(ids)}

    monkeypatch.setattr("connectors.sync.replay.replay_many", fake_replay_many)
    monkeypatch.setattr(jobs, "REPLAY_CHUNK", 2)
    ids = [record(tenant, f"F{i}", "failed").pk for i in range(5)]
    response = post_and_run(
        as_frank, "/admin/audit/attentionrecord/", {"action": "replay_selected", "_selected_action": ids}
    )
    page = response.content.decode()
    assert "5 of 5 record(s) done." in page
    assert "Synced</span> 5" in page and "5 records: 5 synced." in page
    assert [len(c[0]) for c in calls] == [2, 2, 1] and calls[0][1] == frank
    job = Job.objects.get()
    assert (job.state, job.user, job.percent) == (Job.DONE, frank, 100)


def test_it_shows_a_running_job_refreshing_with_its_progress(as_frank, tenant):
    job = Job.objects.create(
        kind=Job.REPLAY, tenant=tenant, state=Job.RUNNING, total=40, done=10, record_ids=[]
    )
    page = as_frank.get(f"/admin/ops/jobs/{job.pk}/").content.decode()
    assert "10 of 40 record(s) done." in page
    assert '<progress class="ml-progress" max="100" value="25">' in page
    assert 'http-equiv="refresh"' in page


def test_it_shows_why_a_job_failed(as_frank, tenant, inline_tasks):
    # The tenant has no GP connection yet: the sync cannot start, and the job page says so.
    response = post_and_run(as_frank, f"/admin/ops/dashboard/{tenant.slug}/start/sync_now/")
    page = response.content.decode()
    assert "Failed" in page and "errornote" in page
    assert 'http-equiv="refresh"' not in page


def test_it_does_not_run_a_redelivered_job_twice(tenant, monkeypatch):
    job = Job.objects.create(kind=Job.PREVIEW, tenant=tenant, state=Job.DONE, result={"summary": "first"})
    monkeypatch.setattr("connectors.sync.preview.preview", lambda tenant: {"summary": "second"})
    assert jobs.run(job.pk).result == {"summary": "first"}


def test_it_refuses_an_unknown_kind_of_job(as_frank, tenant):
    assert as_frank.post(f"/admin/ops/dashboard/{tenant.slug}/start/replay/").status_code == 403


def test_it_runs_an_initial_load_from_the_dashboard_and_shows_what_it_did(
    as_alice, tenant, gp_connection, bill_connection, inline_tasks
):
    # A heavy job: connector admins only (tests/security/test_hardening.py).
    page = post_and_run(as_alice, f"/admin/ops/dashboard/{tenant.slug}/start/initial_load/").content.decode()
    assert "Initial load (everything in GP)" in page and "Done" in page
    # The seed's credit memo (voucher 311) is a vendor credit now, waiting for its vendor's mapping like a
    # bill.
    assert (
        "GP → BILL:</strong> 10 bills waiting for a mapping or GP, 9 not approved in GP yet (left alone), "
        "1 vendor credit waiting for a mapping or GP, 8 vendors waiting for a vendor match review."
    ) in page
    assert "bill_blocked" not in page
    assert SyncRecord.objects.filter(tenant=tenant, kind="bill", state="blocked").count() == 10


def test_the_preview_page_offers_its_report_as_csv(as_frank, tenant):
    import re

    result = {
        "summary": "1 bill would be created; nothing was written.",
        "sections": [
            {
                "title": "Bills that would be created",
                "columns": ["Vendor", "Invoice", "Amount"],
                "rows": [["Contoso Ltd", "CT-88121", "$999.99"]],
            }
        ],
    }
    job = Job.objects.create(kind=Job.PREVIEW, tenant=tenant, state=Job.DONE, result=result)
    page = as_frank.get(f"/admin/ops/jobs/{job.pk}/").content.decode()
    link = re.search(r'<a [^>]*href="([^"]+)"[^>]*>Download as CSV</a>', page)
    assert link and link.group(1) == f"/admin/ops/jobs/{job.pk}/report.csv"
    csv = as_frank.get(link.group(1))
    assert csv["Content-Type"].startswith("text/csv")
    assert "Bills that would be created,Contoso Ltd,CT-88121,$999.99" in csv.content.decode()

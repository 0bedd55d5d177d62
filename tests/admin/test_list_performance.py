"""With 50,000 ledger rows the lists answer with a bounded number of queries (no full counts)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import Attempt, SyncRecord

ROWS = 50_000


@pytest.fixture
def big_ledger(tenant):
    states = ["synced"] * 8 + ["failed", "blocked"]
    SyncRecord.objects.bulk_create(
        (
            SyncRecord(
                tenant=tenant,
                kind="bill",
                source_key=f"{i:08d}",
                state=states[i % 10],
                reason="BILL did not answer" if i % 10 == 8 else "",
                label=f"VENDOR{i % 500:04d} invoice {i}",
            )
            for i in range(ROWS)
        ),
        batch_size=5000,
    )
    return tenant


PAGES = [
    "/admin/audit/attentionrecord/",
    "/admin/audit/syncrecord/",
    "/admin/audit/syncrecord/?state__exact=synced",
    "/admin/audit/attentionrecord/?cause=error&q=VENDOR0001",
    "/admin/audit/attempt/",
    "/admin/mappings/vendormapping/",
    "/admin/ops/dashboard/",
]


def test_it_answers_every_list_of_a_50000_row_ledger_with_few_queries(
    as_frank, big_ledger, django_assert_max_num_queries
):
    from django.utils import timezone

    records = list(SyncRecord.objects.all()[:200])
    Attempt.objects.bulk_create(
        Attempt(record=r, flow="gp_bills", trigger="schedule", started_at=timezone.now(), outcome="failed")
        for r in records
    )
    as_frank.get("/admin/")  # the session and permissions are cached by the first page
    for url in PAGES:
        with django_assert_max_num_queries(20):
            response = as_frank.get(url)
        assert response.status_code == 200, url


def test_it_never_counts_the_whole_ledger(as_frank, big_ledger):
    with CaptureQueriesContext(connection) as queries:
        page = as_frank.get("/admin/audit/syncrecord/").content.decode()
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "audit_syncrecord" in q["sql"]]
    assert counts and all("LIMIT" in sql.upper() for sql in counts)
    assert "More than 10000 sync records" in page

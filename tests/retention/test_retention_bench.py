"""`python -m bench retention` at a tiny size: it fills, prunes and reports both sizes, and the prune
keeps what a live record needs (every ledger record stays, with its lineage attempt)."""

from __future__ import annotations

import pytest

from audit.models import Attempt, SyncRecord, WebhookEvent
from bench.retention import simulate


@pytest.mark.django_db(transaction=True)
def test_the_retention_bench_reports_a_smaller_database_after_the_prune():
    result = simulate(tenants=2, days=450, scale=0.25)

    assert result["size_before"]["total"] > 0 and result["size_after"]["total"] > 0
    assert result["size_after"]["total"] < result["size_before"]["total"]
    written, deleted = result["rows_written"], result["rows_deleted"]
    assert deleted["jobs"] > 0 and deleted["webhook_events"] > 0 and deleted["trail"] > 0
    # Ledger records are never pruned; each keeps the attempt that created its target.
    assert SyncRecord.objects.count() == written["audit_syncrecord"]
    assert not SyncRecord.objects.exclude(trail__outcome="created").exists()
    assert WebhookEvent.objects.count() == written["audit_webhookevent"] - deleted["webhook_events"]
    assert Attempt.objects.count() == written["audit_attempt"] - deleted["trail"]

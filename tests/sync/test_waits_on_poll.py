"""Bills waiting for mappings wait as rows (audit.waits), and a poll that finds them waiting for the same
mappings writes none: a hosted installation re-reads every tenant's invoices, and a row per poll would
grow the database with nothing to say."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import waits
from audit.models import Kind, State, SyncRecord, Wait
from tests.sync.conftest import run
from tests.waiting import wait_writes


def test_a_full_poll_that_finds_the_same_waits_writes_no_wait_row(wired):
    run(wired, full=True)
    blocked = SyncRecord.objects.filter(tenant=wired, kind=Kind.BILL, state=State.BLOCKED)
    assert blocked.exists(), "the seed's bills wait for their vendors before any mapping is approved"
    for record in blocked:
        assert waits.of(record) and waits.text(waits.of(record)).startswith(record.waiting_on)
        assert waits.of(record)[0].kind == waits.VENDOR
    rows = list(Wait.objects.order_by("pk").values_list("pk", "record_id", "kind", "key", "since"))

    with CaptureQueriesContext(connection) as queries:
        run(wired, full=True)

    assert wait_writes(queries) == []
    assert list(Wait.objects.order_by("pk").values_list("pk", "record_id", "kind", "key", "since")) == rows

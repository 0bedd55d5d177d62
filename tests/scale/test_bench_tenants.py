"""The tenants bench waits for first loads the way the scheduled poll decides them.

`bench tenants` measures idle cycles only once every tenant's first GP → BILL run has finished; a
tenant still waiting for its first load has only BILL → GP polled (its GP → BILL is handed to the long
queue), so counting it as idle would measure the wrong thing. The bench's count must agree with
`connectors.tasks.needs_first_load`, which is what the scheduled poll itself asks.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from audit.models import PollCursor
from bench.tenants import first_loads_done
from connectors.models import Tenant
from connectors.sync.gp_to_bill.bills import FLOW
from connectors.tasks import needs_first_load

pytestmark = pytest.mark.django_db


def test_a_tenant_counts_as_loaded_only_once_its_gp_to_bill_run_finished() -> None:
    now = timezone.now()
    finished = Tenant.objects.create(name="Finished", slug="finished")
    running = Tenant.objects.create(name="Running", slug="running")
    Tenant.objects.create(name="Never polled", slug="never")
    other_flow = Tenant.objects.create(name="Only BILL polled", slug="bill-only")
    PollCursor.objects.create(tenant=finished, flow=FLOW, cursor=now, last_started_at=now)
    PollCursor.objects.create(tenant=finished, flow="gp_vendors", cursor=now, last_started_at=now)
    PollCursor.objects.create(tenant=running, flow=FLOW, cursor=None, last_started_at=now)
    PollCursor.objects.create(tenant=other_flow, flow="bill_payments", cursor=now, last_started_at=now)

    assert first_loads_done() == 1
    assert first_loads_done() == sum(not needs_first_load(t) for t in Tenant.objects.all())

    PollCursor.objects.filter(tenant=running, flow=FLOW).update(cursor=now)
    assert first_loads_done() == 2


def test_lag_runs_from_each_due_time_to_the_first_poll_that_covers_it() -> None:
    """A due time whose own poll was skipped (coalesced) is served by the next poll that started after it;
    a due time no poll served by the window's end is counted apart, with the lag it had by then."""
    from datetime import timedelta

    from bench.tenants import lag_to_serve

    t0 = timezone.now()
    cycle = 300
    at = lambda s: t0 + timedelta(seconds=s)  # noqa: E731 - times in the window, in seconds
    seen = {
        1: {at(20), at(300 + 400)},  # due 0 at 20 s; due 300 waited (its poll skipped) until 700
        2: {at(100)},  # due 50 at 100 s; dues 350 and 650 never served by the end
    }
    dues = {1: at(-300), 2: at(50 - 300)}  # first due times seen in the warm-up, one cycle earlier

    served, unserved = lag_to_serve(seen, dues, t0, at(900), cycle)

    # Tenant 1: due 0 → 20 s; due 300 and due 600 both served by the start at 700 (400 s, 100 s).
    assert sorted(served) == [20, 50, 100, 400]
    assert sorted(unserved) == [250, 550]  # tenant 2's dues 350 and 650, by the window's end (900 s)

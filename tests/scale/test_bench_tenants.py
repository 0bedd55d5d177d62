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

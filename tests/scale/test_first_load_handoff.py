"""A tenant's first load is queued on the long queue once, even after the worker that queued it exits.

django-q2 recycles a worker process every few hundred tasks, so the short worker that handed a first
load to the long queue is often gone while that load still waits there. Its hand-off lease must still
stop the next scheduled polls from queueing the same load again (bench tenants at N=1000 found up to
three copies per tenant, doubling the long queue's work). A lease for work in the same process (a
flow lock) is still taken over from a dead process, as before.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from audit import leases
from audit.leases import HOST
from connectors.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_holder() -> str:
    """A lease holder naming a process of this host that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{HOST}:{proc.pid}:deadbeef"


def test_a_first_load_is_not_queued_again_when_the_worker_that_queued_it_has_exited(
    monkeypatch, dead_holder
) -> None:
    from connectors import queue
    from connectors.sync import locks
    from connectors.tasks import FIRST_LOAD_LEASE, hand_off_first_load

    queued: list[tuple] = []
    monkeypatch.setattr(queue, "enqueue", lambda func, *args, **kw: queued.append((func, args, kw)))
    tenant = Tenant.objects.create(name="Eastwind", slug="eastwind-handoff")

    with monkeypatch.context() as m:  # queued by a short worker that has since been recycled
        m.setattr(leases, "new_holder", lambda: dead_holder)
        assert hand_off_first_load(tenant, "schedule") is True

    # The next polls run in live workers: the load is still queued, so they do not queue it again.
    assert hand_off_first_load(tenant, "schedule") is False
    assert hand_off_first_load(tenant, "schedule") is False
    assert [(func, kw["queue"]) for func, _, kw in queued] == [("connectors.tasks.first_load", queue.LONG)]

    # The long queue's run ends and frees it: a later hand-off (a load that did not finish) may queue again.
    locks.release(f"{tenant.pk}:{FIRST_LOAD_LEASE}", queued[0][1][1])
    assert hand_off_first_load(tenant, "schedule") is True
    locks.release(f"{tenant.pk}:{FIRST_LOAD_LEASE}", queued[1][1][1])


def test_a_flow_lock_of_an_exited_process_is_still_taken_over(monkeypatch, dead_holder) -> None:
    from connectors.sync import locks

    with monkeypatch.context() as m:
        m.setattr(leases, "new_holder", lambda: dead_holder)
        assert locks.try_acquire("handoff-test:flow", timedelta(minutes=5)) == dead_holder
    taken = locks.try_acquire("handoff-test:flow", timedelta(minutes=5))
    assert taken is not None and taken != dead_holder
    locks.release("handoff-test:flow", taken)

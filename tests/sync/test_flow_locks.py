"""Two runs of one tenant's flow never overlap; a dead holder's lease expires."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from connectors.sync.locks import flow_lock, release, try_acquire


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_run_hold_a_flow():
    with flow_lock("t1:gp_to_bill") as first:
        with flow_lock("t1:gp_to_bill") as second:
            assert first and not second
        with flow_lock("t2:gp_to_bill") as other_tenant:
            assert other_tenant
    with flow_lock("t1:gp_to_bill") as again:
        assert again


@pytest.mark.django_db(transaction=True)
def test_it_takes_over_a_lease_whose_holder_died():
    dead = try_acquire("t1:bills", ttl=timedelta(milliseconds=50))  # its holder dies; the lease runs out
    assert dead
    time.sleep(0.2)
    alive = try_acquire("t1:bills")
    assert alive and alive != dead
    release("t1:bills", dead)  # the dead holder's late release must not free the new lease
    assert try_acquire("t1:bills") is None

"""The gate's storage: slots, expiry of dead holders, the hourly budget and the login mutex."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.bill.gate import DatabaseGate, RedisGate
from connectors.bill.http import BillError
from connectors.models import BillGateLease

ORG = "00802GATETESTORG0001"


def _gates():
    yield pytest.param(lambda: DatabaseGate(limit=3, hourly_budget=50, wait_seconds=0.3), id="database")
    yield pytest.param(_redis_gate, id="redis", marks=pytest.mark.services)


def _redis_gate():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set")
    import redis

    client = redis.Redis.from_url(url)
    prefix = f"test:{time.time_ns()}"
    return RedisGate(client, prefix=prefix, limit=3, hourly_budget=50, wait_seconds=0.3)


@pytest.fixture(params=list(_gates()))
def gate(request, db):
    return request.param()


def test_it_hands_out_at_most_three_slots(gate):
    with gate.acquire(ORG), gate.acquire(ORG), gate.acquire(ORG):
        assert gate.in_use(ORG) == 3
        with pytest.raises(BillError, match="stayed busy"), gate.acquire(ORG):
            pass
    assert gate.in_use(ORG) == 0
    with gate.acquire(ORG):
        assert gate.in_use(ORG) == 1


def test_a_dead_holders_slot_is_freed_when_its_lease_expires(gate):
    for _ in range(3):
        gate.acquire(ORG, lease_seconds=0.2).__enter__()  # never released, like a killed worker
    time.sleep(0.3)
    with gate.acquire(ORG):
        pass


def test_the_hourly_budget_is_counted_and_enforced(gate):
    gate.hourly_budget = 5
    for _ in range(5):
        gate.spend(ORG)
    with pytest.raises(BillError, match="budget of 5"):
        gate.spend(ORG)


def test_the_login_mutex_has_one_holder(transactional_db, gate):
    order: list[str] = []

    def second() -> None:
        with gate.mutex(ORG, "login"):
            order.append("second")

    with gate.mutex(ORG, "login"):
        waiter = threading.Thread(target=second)
        waiter.start()
        time.sleep(0.1)
        order.append("first")
    waiter.join(2)
    assert order == ["first", "second"]


def test_threads_never_hold_more_than_three_slots(transactional_db):
    gate = DatabaseGate(limit=3, hourly_budget=10_000)
    peak, now, lock = [0], [0], threading.Lock()

    def work() -> None:
        for _ in range(15):
            with gate.acquire(ORG):
                with lock:
                    now[0] += 1
                    peak[0] = max(peak[0], now[0])
                time.sleep(0.01)
                with lock:
                    now[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 2 <= peak[0] <= 3  # they overlapped, never beyond the limit


def test_expired_rows_are_visible_as_free(db):
    gate = DatabaseGate(limit=1, wait_seconds=0.2)
    with gate.acquire(ORG):
        pass
    BillGateLease.objects.filter(organization_id=ORG).update(
        holder="ghost", expires_at=timezone.now() - timedelta(1)
    )
    with gate.acquire(ORG):
        assert gate.in_use(ORG) == 1

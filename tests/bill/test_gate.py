"""The gate's storage: slots, expiry of dead holders, the hourly budget and the login mutex."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import FlowLease
from connectors.bill.gate import DatabaseGate, RedisGate
from connectors.bill.http import BillError

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
    FlowLease.objects.create(
        name=gate.slot_names(ORG)[0], holder="ghost", expires_at=timezone.now() - timedelta(1)
    )
    with gate.acquire(ORG):
        assert gate.in_use(ORG) == 1


def _spend_until_refused(spend, limit: int = 100) -> int:
    for n in range(limit):
        try:
            spend()
        except BillError:
            return n
    raise AssertionError("never refused")


def test_orgs_sharing_a_developer_key_share_its_hour_fairly(gate):
    from connectors.bill.gate import DevKey

    gate.hourly_budget = 10
    key = DevKey(f"key-{time.time_ns()}", frozenset({"ORG-A", "ORG-B"}))
    # A alone may take its half and no more while B has used nothing of its own half...
    assert _spend_until_refused(lambda: gate.spend("ORG-A", key=key)) == 5
    # ...which B still has, whole.
    assert _spend_until_refused(lambda: gate.spend("ORG-B", key=key)) == 5
    assert sum(gate.used_this_hour(key).values()) == 10


def test_a_share_left_unused_by_an_org_that_has_its_fill_is_taken_by_the_others(gate):
    from connectors.bill.gate import DevKey

    gate.hourly_budget = 9
    key = DevKey(f"key-{time.time_ns()}", frozenset({"ORG-A", "ORG-B", "ORG-C"}))
    gate.spend("ORG-C", key=key)  # C used 1 of its 3
    assert _spend_until_refused(lambda: gate.spend("ORG-A", key=key)) == 3  # B's and C's shares are kept
    assert _spend_until_refused(lambda: gate.spend("ORG-B", key=key)) == 3
    assert _spend_until_refused(lambda: gate.spend("ORG-C", key=key)) == 2  # the rest of C's own


def test_sign_ins_are_capped_per_developer_key(gate):
    from connectors.bill.gate import DevKey

    gate.hourly_logins = 4
    key = DevKey(f"key-{time.time_ns()}", frozenset({"ORG-A", "ORG-B"}))
    assert _spend_until_refused(lambda: gate.spend_login("ORG-A", key=key)) == 2
    assert _spend_until_refused(lambda: gate.spend_login("ORG-B", key=key)) == 2

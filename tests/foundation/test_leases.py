"""Leases (`audit.leases`), on the database and on Redis: one holder per name, expiry, and a dead
holder's lease taken over unless the taker asked for it to outlive its process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from audit import leases
from audit.leases import HOST, DatabaseLeases, Lease, RedisLeases, writer_id, writer_is_dead

MINUTE = timedelta(minutes=1)


def _backends():
    yield pytest.param(lambda: DatabaseLeases(), id="database")
    yield pytest.param(_redis_leases, id="redis", marks=pytest.mark.services)


def _redis_leases() -> RedisLeases:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set")
    import redis

    return RedisLeases(redis.Redis.from_url(url))


@pytest.fixture(params=list(_backends()))
def backend(request, db):
    return request.param()


@pytest.fixture
def name() -> str:
    return f"lease-test:{time.time_ns()}"


@pytest.fixture
def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _held_by(backend, name: str, holder: str, monkeypatch, takeover: bool = True) -> Lease:
    with monkeypatch.context() as m:
        m.setattr(leases, "new_holder", lambda: holder)
        lease = backend.acquire([name], MINUTE, takeover=takeover)
    assert lease == Lease(name, holder)
    return lease


def test_a_lease_has_one_holder_until_it_is_released(backend, name):
    first = backend.acquire([name], MINUTE)
    assert first is not None and first.name == name
    assert backend.acquire([name], MINUTE) is None
    assert backend.acquire([name + ":other"], MINUTE) is not None
    backend.release(first)
    again = backend.acquire([name], MINUTE)
    assert again is not None and again.holder != first.holder


def test_one_of_several_names_is_taken_until_all_are_held(backend, name):
    names = [f"{name}:{n}" for n in range(3)]
    taken = [backend.acquire(names, MINUTE) for _ in range(3)]
    assert sorted(lease.name for lease in taken) == names
    assert backend.acquire(names, MINUTE) is None and backend.held(names) == 3
    backend.release(taken[1])
    assert backend.held(names) == 2
    assert backend.acquire(names, MINUTE).name == names[1]


def test_a_lease_expires_and_a_late_release_does_not_free_the_next_holder(backend, name):
    old = backend.acquire([name], timedelta(milliseconds=50))
    time.sleep(0.2)
    assert backend.held([name]) == 0
    new = backend.acquire([name], MINUTE)
    assert new is not None and new.holder != old.holder
    backend.release(old)
    assert backend.acquire([name], MINUTE) is None


def test_a_lease_of_a_dead_process_of_this_host_is_taken_over(backend, name, dead_pid, monkeypatch):
    dead = _held_by(backend, name, f"{HOST}:{dead_pid}:deadbeef", monkeypatch)
    taken = backend.acquire([name], MINUTE)
    assert taken is not None and taken.holder.startswith(writer_id() + ":")
    backend.release(dead)  # the dead holder's (impossible) late release frees nothing
    assert backend.acquire([name], MINUTE) is None


def test_takeover_false_leaves_a_dead_holders_lease_until_it_expires(backend, name, dead_pid, monkeypatch):
    _held_by(backend, name, f"{HOST}:{dead_pid}:deadbeef", monkeypatch)
    assert backend.acquire([name], MINUTE, takeover=False) is None
    assert backend.held([name]) == 1


def test_live_holders_and_other_hosts_holders_are_never_taken_over(backend, name, dead_pid, monkeypatch):
    _held_by(backend, name, f"{HOST}:{os.getppid()}:abcd1234", monkeypatch)
    _held_by(backend, name + ":far", f"elsewhere:{dead_pid}:abcd1234", monkeypatch)
    assert backend.acquire([name], MINUTE) is None
    assert backend.acquire([name + ":far"], MINUTE) is None


def test_only_a_gone_process_of_this_host_is_a_dead_writer(dead_pid):
    assert writer_is_dead(f"{HOST}:{dead_pid}")
    assert not writer_is_dead(writer_id())
    assert not writer_is_dead(f"other-host:{dead_pid}")
    assert not writer_is_dead("not a writer")


def test_flow_locks_and_the_gate_share_the_backend_of_the_settings(settings):
    settings.REDIS_URL = ""
    assert isinstance(leases.leases(), DatabaseLeases)
    assert leases.leases() is leases.leases()

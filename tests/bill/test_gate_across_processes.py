"""The gate and the shared session, with real worker processes talking to the sandbox over loopback."""

from __future__ import annotations

import threading
import time

import pytest

from tests.bill.processes import results, start_workers

pytestmark = pytest.mark.django_db(transaction=True)


def _total_requests(sandbox) -> int:
    return sandbox.stats()["requests"]["total"]


def test_it_never_exceeds_three_calls_in_flight_across_processes(bill_sandbox, bill_connection):
    bill_sandbox.set_latency(ms=3)
    workers = start_workers(4, bill_connection.pk, calls=200)
    outcome = results(workers)
    stats = bill_sandbox.stats()
    org = bill_sandbox.credentials.org_id
    assert [r["ok"] for r in outcome] == [200, 200, 200, 200]
    assert stats["max_in_flight"][org] <= 3
    assert stats["max_in_flight"][org] >= 2  # the workers really did overlap
    assert stats["orgs"][org]["refused"] == {}
    assert stats["logins"] == 1  # four processes, one shared session


def test_it_backs_off_and_finishes_while_another_integration_holds_slots(bill_sandbox, bill_connection):
    bill_sandbox.configure(rate_limit_status=422)  # detected by the BDC code, not the status
    bill_sandbox.set_latency(ms=5)
    workers = start_workers(3, bill_connection.pk, calls=60)
    while _total_requests(bill_sandbox) < 3:  # the workers are up and calling
        time.sleep(0.005)
    org = bill_sandbox.credentials.org_id
    # The other integration holds two slots until BILL has refused one of ours (on a busy machine the
    # workers may not overlap within any one second), or the workers are done.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(w.poll() is None for w in workers):
        bill_sandbox.hold_slots(2, seconds=0.5)
        time.sleep(0.5)
        if bill_sandbox.stats()["orgs"][org]["refused"].get("BDC_1322", 0):
            break
    outcome = results(workers)
    assert [r["ok"] for r in outcome] == [60, 60, 60]
    assert bill_sandbox.stats()["orgs"][org]["refused"].get("BDC_1322", 0) > 0
    assert sum(r["by_error"].get("BDC_1322", 0) for r in outcome) > 0


def test_it_renews_an_expired_session_with_one_login_per_expiry_across_processes(
    bill_sandbox, bill_connection
):
    bill_sandbox.set_latency(ms=2)
    expiries: list[int] = []

    def expire_mid_run() -> None:
        for threshold in (250, 550):
            while _total_requests(bill_sandbox) < threshold:
                time.sleep(0.005)
            expiries.append(bill_sandbox.expire_sessions())

    watcher = threading.Thread(target=expire_mid_run, daemon=True)
    watcher.start()
    outcome = results(start_workers(4, bill_connection.pk, calls=200))
    watcher.join(timeout=5)
    stats = bill_sandbox.stats()
    assert [r["ok"] for r in outcome] == [200, 200, 200, 200]
    assert len(expiries) == 2 and all(expiries)
    assert stats["logins"] == 1 + len(expiries)
    assert stats["requests"]["by_path"]["GET /connect/v3/login/session"].get("401", 0) >= 1

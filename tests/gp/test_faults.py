"""Every injected fault kind maps to the right GPError, and retries are bounded and safe for writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.gp.http import GPError
from tests.gp.clients import sba_client


@pytest.fixture
def slept():
    return []


@pytest.fixture
def client(gp_sandbox, slept):
    c = sba_client(
        gp_sandbox.url,
        gp_sandbox.tenant,
        gp_sandbox.company,
        gp_sandbox.account,
        gp_sandbox.password,
        timeout=0.5,
        sleep=slept.append,
    )
    c.get_vendor("ACETRAVE0001")  # authenticate the connection before faults start
    yield c
    c.close()


@pytest.mark.parametrize(
    "kind, code, status",
    [("5xx", "server", 503), ("timeout", "timeout", None), ("reset", "reset", None), ("lock", "locked", 409)],
)
def test_each_fault_kind_maps_to_a_retryable_error(gp_sandbox, client, slept, kind, code, status):
    gp_sandbox.set_faults(kind, rate=1.0, timeout_seconds=2)
    with pytest.raises(GPError) as caught:
        client.get_vendor("CONTOSO0001")
    assert (caught.value.code, caught.value.status, caught.value.retryable) == (code, status, True)
    assert slept == [0.5, 1.0]  # three tries, backing off


def test_it_retries_until_the_fault_passes(gp_sandbox, client):
    gp_sandbox.set_faults(["5xx", "lock", "reset"], count=2)
    before = client.http.request_count
    assert client.get_vendor("CONTOSO0001").vendor_id == "CONTOSO0001"
    assert client.http.request_count - before == 3


def test_it_does_not_resend_a_payment_after_the_connection_dropped(gp_sandbox, client, slept):
    gp_sandbox.set_faults("reset", count=1, methods=("POST",))
    with pytest.raises(GPError) as caught:
        client.create_payment(
            "PAY-RESET-1",
            "ACETRAVE0001",
            "UPTOWN TRUST",
            "Check",
            "1",
            dt.date(2025, 6, 3),
            Decimal("10.00"),
            [("00000000000000301", Decimal("10.00"))],
            "B1",
        )
    assert caught.value.code == "reset" and caught.value.retryable and slept == []


def test_it_retries_a_payment_that_gp_refused_because_of_a_lock(gp_sandbox, client):
    gp_sandbox.set_faults("lock", count=1, methods=("POST",))
    payment = client.create_payment(
        "PAY-LOCK-1",
        "ACETRAVE0001",
        "UPTOWN TRUST",
        "Check",
        "1",
        dt.date(2025, 6, 3),
        Decimal("10.00"),
        [("00000000000000301", Decimal("10.00"))],
        "B1",
    )
    assert payment.payment_number == "PAY-LOCK-1"


def test_validation_errors_are_permanent_and_carry_gps_message(gp_sandbox, client, slept):
    with pytest.raises(GPError) as caught:
        client.create_payment(
            "PAY-BAD",
            "ACETRAVE0001",
            "UPTOWN TRUST",
            "Check",
            "1",
            dt.date(2025, 6, 3),
            Decimal("10.00"),
            [("00000000000000401", Decimal("10.00"))],
            "B1",
        )
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (400, "validation", False)
    assert "is not open" in caught.value.message and slept == []


def test_an_unreachable_host_is_retryable(slept):
    client = sba_client(
        "http://127.0.0.1:9", "DefaultTenant", "X", "CORP\\u", "p", timeout=1, sleep=slept.append
    )
    with pytest.raises(GPError) as caught:
        client.get_vendor("A")
    assert caught.value.code == "unreachable" and caught.value.retryable and len(slept) == 2


def test_latency_is_added_to_each_answer(gp_sandbox, client):
    import time

    gp_sandbox.set_latency(150)
    started = time.monotonic()
    client.get_vendor("CONTOSO0001")
    assert time.monotonic() - started >= 0.15

"""The clients' one backoff: GP's doubling without jitter, BILL's with; only errors a retry can help."""

from __future__ import annotations

import pytest

from connectors.backoff import Backoff
from connectors.gp.http import GPError, GPHttp


def _failing(errors: list[Exception]):
    def call() -> str:
        if errors:
            raise errors.pop(0)
        return "done"

    return call


def test_gp_waits_double_without_jitter_and_stop_at_its_tries():
    waits: list[float] = []
    http = GPHttp("http://gp.test", "T", "C", "acct", "pw", backoff_seconds=0.5, sleep=waits.append)
    busy = [GPError("locked", retryable=True, code="locked") for _ in range(5)]
    with pytest.raises(GPError):
        http.backoff(4).retry(_failing(busy), GPError, lambda e: e.retryable)
    assert waits == [0.5, 1.0, 2.0] and len(busy) == 1  # four tries, three waits


def test_an_error_no_retry_can_help_or_of_another_kind_leaves_at_once():
    waits: list[float] = []
    backoff = Backoff(base=1, cap=8, attempts=5, sleep=waits.append, random=lambda: 0.0)
    with pytest.raises(GPError):
        backoff.retry(_failing([GPError("no", retryable=False, code="x")]), GPError, lambda e: e.retryable)
    with pytest.raises(KeyError):
        backoff.retry(_failing([KeyError("other")]), GPError, lambda e: True)
    assert waits == []
    noted: list[tuple[int, float]] = []
    call = _failing([GPError("busy", retryable=True, code="x")] * 2)
    assert backoff.retry(call, GPError, lambda e: True, lambda e, n, d: noted.append((n, d))) == "done"
    assert noted == [(0, 0.5), (1, 1.0)] == [(n, w) for n, w in enumerate(waits)]  # jitter: half at least

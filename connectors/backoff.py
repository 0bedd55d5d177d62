"""The clients' one retry loop: exponential backoff, with or without jitter, for BILL's calls and GP's
(REST and Web Services). Each client says which of its errors a retry can help; the waiting is here."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
E = TypeVar("E", bound=Exception)


@dataclass
class Backoff:
    """Try n (from 0) waits min(cap, base·2ⁿ) before the next; with `jitter`, between half and all of it
    (so workers that failed together do not come back together)."""

    base: float = 0.5
    cap: float = 30.0
    attempts: int = 8
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    jitter: bool = True

    def delay(self, attempt: int) -> float:
        ceiling: float = min(self.cap, self.base * 2**attempt)
        return ceiling / 2 + self.random() * ceiling / 2 if self.jitter else ceiling

    def retry(
        self,
        call: Callable[[], T],
        errors: type[E],
        can_help: Callable[[E], bool],
        on_retry: Callable[[E, int, float], None] | None = None,
    ) -> T:
        """Call `call` until it succeeds, raises an error that is not one of `errors` or that a retry
        cannot help (`can_help`), or `attempts` tries are spent. `on_retry(error, try, delay)` before
        each wait (try counts from 0)."""
        for n in range(self.attempts):
            try:
                return call()
            except errors as exc:
                if not can_help(exc) or n == self.attempts - 1:
                    raise
                delay = self.delay(n)
                if on_retry:
                    on_retry(exc, n, delay)
                self.sleep(delay)
        raise AssertionError("unreachable")

"""Latency, injected faults and request counts: what a sandbox's control API changes and reports."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

FAULT_KINDS = ("5xx", "timeout", "reset", "lock")


class FaultPlan:
    """Which faults to inject, how often, and the added latency. Thread-safe, deterministic per seed.

    A fault fires either for each of the next `count` matching requests, or at random with
    probability `rate`. `methods` and `path_contains` narrow which requests are eligible, so a test can
    break only writes, or only one resource.
    """

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.latency_ms = 0
        self.timeout_seconds = 5.0  # how long a 'timeout' fault holds the request before dropping it
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.kinds: tuple[str, ...] = ()
            self.rate = 0.0
            self.count: int | None = None
            self.methods: tuple[str, ...] = ()
            self.path_contains = ""

    def set(
        self,
        kinds: list[str] | tuple[str, ...] | str,
        rate: float = 1.0,
        count: int | None = None,
        methods: list[str] | tuple[str, ...] = (),
        path_contains: str = "",
    ) -> None:
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        unknown = [k for k in kinds if k not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kind {unknown[0]!r}; use one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= float(rate) <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            self.kinds, self.rate, self.count = kinds, float(rate), count
            self.methods = tuple(m.upper() for m in methods)
            self.path_contains = path_contains

    def pick(self, method: str, path: str) -> str | None:
        """The fault for this request, or None. Consumes one from `count` when it fires."""
        with self._lock:
            if not self.kinds or (self.methods and method.upper() not in self.methods):
                return None
            if self.path_contains and self.path_contains not in path:
                return None
            if self.count is not None:
                if self.count <= 0:
                    return None
                self.count -= 1
            elif self._random.random() >= self.rate:
                return None
            return self._random.choice(self.kinds)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self.latency_ms,
                "kinds": list(self.kinds),
                "rate": self.rate,
                "count": self.count,
                "methods": list(self.methods),
                "path_contains": self.path_contains,
                "timeout_seconds": self.timeout_seconds,
            }


class RequestStats:
    """Counts of requests by (method path) and by status; status is a number or a fault name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: dict[str, Counter[str]] = {}
        self._by_status: Counter[str] = Counter()
        self._by_client: Counter[str] = Counter()  # by User-Agent product, e.g. ml-connector-agent
        self.generation = 0  # bumped by reset(): a request that began before a reset is not counted after it

    def record(
        self, method: str, path: str, status: int | str, generation: int | None = None, client: str = ""
    ) -> None:
        label, code = f"{method} {path}", str(status)
        with self._lock:
            if generation is not None and generation != self.generation:
                return  # e.g. a timeout fault of an earlier test ending after the next test zeroed the counts
            self._by_path.setdefault(label, Counter())[code] += 1
            self._by_status[code] += 1
            self._by_client[client.split("/")[0] or "unnamed"] += 1

    def reset(self) -> None:
        with self._lock:
            self.generation += 1
            self._by_path.clear()
            self._by_status.clear()
            self._by_client.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._by_status.values()),
                "by_status": dict(self._by_status),
                "by_client": dict(self._by_client),
                "by_path": {label: dict(counts) for label, counts in sorted(self._by_path.items())},
            }

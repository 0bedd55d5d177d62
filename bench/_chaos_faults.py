"""Faults for the chaos run: per-request faults at a seeded rate in both sandboxes, and the
disturbances that are not one request (session expiry, another integration's slots, the hourly
budget, slow GP), each counted by kind.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

from sandbox.bill.faults import Fault
from sandbox.common.faults import FaultPlan
from sandbox.gp.handler import GPHandler

BILL_WRITE_KINDS = ("5xx", "timeout", "reset", "timeout_after_commit", "reset_after_commit", "commit_late")
BILL_READ_KINDS = ("5xx", "timeout", "reset")
GP_KINDS = ("5xx", "timeout", "reset", "lock")


class BillRateFaults:
    """Stands in for the BILL sandbox's rule list (`app.faults`): each request draws a fault with
    probability `rate` from a seeded generator. Writes may fail after they committed."""

    def __init__(self, seed: int, rate: float, hold_seconds: float) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.rate = rate
        self.hold_seconds = hold_seconds
        self.injected: Counter[str] = Counter()

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            if self.rate <= 0 or "/login" in path or self._random.random() >= self.rate:
                return None
            kinds = BILL_READ_KINDS if method == "GET" else BILL_WRITE_KINDS
            kind = self._random.choice(kinds)
            if (
                method != "GET" and self._random.random() < 0.5
            ):  # the faults that make money unsafe, more often
                kind = self._random.choice(("timeout_after_commit", "reset_after_commit", "commit_late"))
            # A late commit lands within the workers' settle window (4 s from the write-ahead).
            delay = 0.5 + 2.0 * self._random.random()
            self.injected[kind] += 1
        return Fault(
            kind,
            1,
            (),
            "",
            503,
            min(self.hold_seconds, 1.0) if kind == "commit_late" else self.hold_seconds,
            delay,
        )

    def take_malformed(self, method: str, path: str) -> Fault | None:
        return None  # sign-ins are not part of the chaos plan

    # What the control API and sandbox tests call on the real rule list.
    def add(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the chaos run draws faults at a rate; rules cannot be added")

    def clear(self) -> None:
        self.rate = 0.0

    def describe(self) -> list[dict[str, Any]]:
        return [{"rate": self.rate, "injected": dict(self.injected)}]


class CountingFaultPlan(FaultPlan):
    """The GP sandbox's fault plan, counting what it injects."""

    def __init__(self, seed: int) -> None:
        self.injected: Counter[str] = Counter()
        super().__init__(seed)

    def pick(self, method: str, path: str) -> str | None:
        kind = super().pick(method, path)
        if kind:
            with self._lock:
                self.injected[kind] += 1
        return kind


class GPAfterCommit:
    """GP writes that succeed but whose answer never arrives: the connection hangs, then drops, or is
    reset, after GP saved the payment or the vendor change. Installed as the GP server's handler."""

    def __init__(self, seed: int, rate: float, hold_seconds: float, path_contains: str = "") -> None:
        self._random = random.Random(seed * 13 + 5)
        self._lock = threading.Lock()
        self.rate, self.hold_seconds, self.path_contains = rate, hold_seconds, path_contains
        self.injected: Counter[str] = Counter()

    def pick(self, method: str, path: str, status: int) -> str | None:
        with self._lock:
            if method not in ("POST", "PATCH") or status not in (200, 201) or self.path_contains not in path:
                return None
            if self._random.random() >= self.rate:
                return None
            kind = self._random.choice(("timeout_after_commit", "reset_after_commit"))
            self.injected[kind] += 1
            return kind

    def install(self, gp: Any) -> None:
        plan = self

        class Handler(GPHandler):
            def send_payload(
                self, status: int, payload: Any, headers: list[tuple[str, str]] | None = None
            ) -> None:
                kind = (
                    plan.pick(self.command, self.url.path, status)
                    if not self.url.path.startswith("/_sandbox")
                    else None
                )
                if kind == "timeout_after_commit":
                    self.server.stopping.wait(plan.hold_seconds)
                    return self.drop_connection(kind, reset=False)
                if kind == "reset_after_commit":
                    return self.drop_connection(kind, reset=True)
                return super().send_payload(status, payload, headers)

        gp.server.RequestHandlerClass = Handler


class Disturber:
    """A thread that, at seeded random moments, expires BILL sessions, has another integration hold
    BILL call slots (BDC_1322), uses up the hourly budget for a moment (BDC_1144) and slows GP."""

    def __init__(self, seed: int, gp: Any, bill: Any, period: float = 1.0) -> None:
        self._random = random.Random(seed * 7919 + 1)
        self.gp, self.bill, self.period = gp, bill, period
        self.done: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-disturber", daemon=True)
        self._normal_budget = bill.app.limits.hourly_budget

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.bill.app.limits.hourly_budget = self._normal_budget
        self.gp.set_latency(0)

    def _run(self) -> None:
        while not self._stop.wait(self.period * (0.5 + self._random.random())):
            roll = self._random.random()
            if roll < 0.25:
                self.bill.expire_sessions()
                self.done["session_expiry"] += 1
            elif roll < 0.5:
                self.bill.hold_slots(self._random.choice((1, 2, 3)), 0.3 + self._random.random())
                self.done["slots_held_by_other_integration"] += 1
            elif roll < 0.65:
                limits = self.bill.app.limits
                used = max((o["requests_this_hour"] for o in limits.snapshot().values()), default=0)
                limits.hourly_budget = used  # the next calls get BDC_1144 until it is restored
                self._stop.wait(0.3 + self._random.random() * 0.5)
                limits.hourly_budget = self._normal_budget
                self.done["hourly_budget_exhausted"] += 1
            elif roll < 0.8:
                self.gp.set_latency(self._random.choice((150, 300, 600)))
                self._stop.wait(0.5 + self._random.random())
                self.gp.set_latency(5)
                self.done["gp_slow"] += 1

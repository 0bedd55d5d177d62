"""BILL-specific fault injection: the shared kinds plus faults that strike *after* the write committed.

`timeout_after_commit` / `reset_after_commit` are the ones that make money unsafe: the object exists
in BILL but the client never hears so. `commit_late` is worse: the connection is held `hold_seconds`
and dropped unanswered, and the write commits `delay_seconds` after the request arrived — a lookup made
right after the client gave up finds nothing, yet the object appears later (BILL gives no guarantee
that a request the client abandoned is not still being processed). Rules are consumed in order; each
fires `count` times.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

# "malformed": an answer with `status` whose body is not BILL's error array (a gateway's HTML page),
# as BILL's edge sometimes answers; it also strikes sign-ins. "commit_late": the answer is lost and the
# object appears `delay_seconds` later.
KINDS = ("5xx", "timeout", "reset", "timeout_after_commit", "reset_after_commit", "malformed", "commit_late")


@dataclass
class Fault:
    kind: str
    count: int = 1
    methods: tuple[str, ...] = ()
    path_contains: str = ""
    status: int = 500
    hold_seconds: float = 2.0  # how long a timeout holds the connection before dropping it
    delay_seconds: float = 5.0  # commit_late: when the write commits, counted from the request

    def applies(self, method: str, path: str) -> bool:
        return self.count > 0 and (not self.methods or method in self.methods) and self.path_contains in path

    @property
    def after_commit(self) -> bool:
        return self.kind.endswith("_after_commit")

    @property
    def commits_late(self) -> bool:
        return self.kind == "commit_late"


class Faults:
    """A thread-safe list of pending fault rules."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def add(
        self,
        kind: str,
        count: int = 1,
        methods: list[str] | tuple[str, ...] = (),
        path_contains: str = "",
        status: int = 500,
        hold_seconds: float = 2.0,
        delay_seconds: float = 5.0,
    ) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(KINDS)}")
        rule = Fault(
            kind,
            int(count),
            tuple(m.upper() for m in methods),
            path_contains,
            int(status),
            float(hold_seconds),
            float(delay_seconds),
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take_malformed(self, method: str, path: str) -> Fault | None:
        """For sign-ins, which only the `malformed` kind strikes."""
        return self.take(method, path, kinds=("malformed",))

    def take(self, method: str, path: str, kinds: tuple[str, ...] = KINDS) -> Fault | None:
        """The first rule of `kinds` matching this request, consuming one of its count."""
        with self._lock:
            for rule in self._rules:
                if rule.kind in kinds and rule.applies(method, path):
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(rule) for rule in self._rules]

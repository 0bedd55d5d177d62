"""Sign-in sessions and BILL's per-organization limits (3 in flight, an hourly budget).

The in-flight peak is measured over requests *arriving*, before any is refused, so a client that
sends a fourth concurrent call shows up in `/_sandbox/stats` even though BILL answered BDC_1322.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .wire import ApiError, IdMaker


@dataclass
class Session:
    session_id: str
    org_id: str
    dev_key: str
    user_id: str
    last_used: float
    trusted: bool = False


@dataclass
class Credentials:
    username: str
    password: str
    org_id: str
    dev_key: str
    user_id: str = "00602SANDBOXUSER0001"
    # More organizations the same user may sign in to (one sandbox process serving many tenants in a
    # benchmark). They share the one store; each has its own session org ID and so its own limits.
    extra_orgs: frozenset[str] = frozenset()


class Sessions:
    """Sessions expire after `ttl` idle seconds; every call resets the timer (BILL's sliding 35 minutes).

    Sign-ins are limited per developer key per clock hour (BILL: 200), counting every attempt.
    """

    def __init__(
        self, creds: Credentials, ttl: float, hourly_logins: int = 200, limit_status: int = 429
    ) -> None:
        self.creds = creds
        self.ttl = ttl
        self.hourly_logins = hourly_logins
        self.limit_status = limit_status
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self.logins = 0
        self.login_failures: Counter[str] = Counter()
        self._login_hours: dict[str, tuple[int, int]] = {}  # dev key -> (hour, attempts)

    def _count_login(self, dev_key: str) -> None:
        hour = int(time.time() // 3600)
        with self._lock:
            seen_hour, attempts = self._login_hours.get(dev_key, (hour, 0))
            attempts = attempts + 1 if seen_hour == hour else 1
            self._login_hours[dev_key] = (hour, attempts)
            if attempts > self.hourly_logins:
                self.login_failures["BDC_1144"] += 1
                # BILL documents the limit, not its error; the sandbox answers like its hourly limit.
                raise ApiError(
                    self.limit_status,
                    "BDC_1144",
                    f"Max number of allowed logins per hour reached: {self.hourly_logins}.",
                    category="DOWNSTREAM",
                )

    def logins_this_hour(self) -> dict[str, int]:
        hour = int(time.time() // 3600)
        with self._lock:
            return {k[:6] + "…": n for k, (h, n) in self._login_hours.items() if h == hour}

    def login(self, body: object) -> Session:
        c = self.creds
        if not isinstance(body, dict):
            raise ApiError(400, "BDC_1002", "The request body must be a JSON object.")
        self._count_login(str(body.get("devKey") or ""))
        if "userName" in body or "orgId" in body:  # v2 names sent to v3
            raise ApiError(400, "BDC_1002", "Unknown field: use username and organizationId.")
        code = None
        if body.get("devKey") != c.dev_key:
            code = "BDC_1102"
        elif (body.get("username"), body.get("password")) != (c.username, c.password) or (
            body.get("organizationId") != c.org_id and body.get("organizationId") not in c.extra_orgs
        ):
            code = "BDC_1101"
        with self._lock:
            if code:
                self.login_failures[code] += 1
                raise ApiError(400, code)
            self.logins += 1
            session = Session(
                IdMaker.secret(40), str(body["organizationId"]), c.dev_key, c.user_id, time.monotonic()
            )
            self._sessions[session.session_id] = session
            return session

    def check(self, dev_key: str | None, session_id: str | None) -> Session:
        """The live session for these headers, its idle timer reset; 400/401 like BILL otherwise."""
        if not dev_key or not session_id:
            raise ApiError(400, "BDC_1002", "The devKey and sessionId headers are required.")
        if dev_key != self.creds.dev_key:
            raise ApiError(401, "BDC_1102")
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or now - session.last_used > self.ttl:
                self._sessions.pop(session_id, None)
                raise ApiError(401, "BDC_1109", category="DOWNSTREAM")
            session.last_used = now
            return session

    def logout(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def expire_all(self) -> int:
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count


@dataclass
class OrgCounters:
    in_flight: int = 0
    peak: int = 0
    held: int = 0  # slots taken by "another integration" (control API)
    refused: Counter[str] = field(default_factory=Counter)
    hour: int = 0
    used_this_hour: int = 0  # this org's share of its developer key's hour (for the stats)


class Limits:
    """Requests in flight per organization (3) and per developer key per hour (20,000, shared by
    every organization using the key), refusing beyond them (BILL's rate-limit page)."""

    def __init__(self, concurrency: int = 3, hourly_budget: int = 20000, status: int = 429) -> None:
        self.concurrency = concurrency
        self.hourly_budget = hourly_budget
        self.status = status  # BILL's HTTP status for BDC_1322/BDC_1144 is undocumented
        self._lock = threading.Lock()
        self._orgs: dict[str, OrgCounters] = {}
        self._keys: dict[str, tuple[int, int]] = {}  # developer key -> (hour, requests)

    def _org(self, org_id: str) -> OrgCounters:
        return self._orgs.setdefault(org_id, OrgCounters())

    @contextmanager
    def slot(self, org_id: str, dev_key: str = "") -> Iterator[None]:
        """Hold one in-flight slot for the request; ApiError BDC_1322/BDC_1144 when over a limit."""
        with self._lock:
            org = self._org(org_id)
            org.in_flight += 1
            org.peak = max(org.peak, org.in_flight + org.held)
            hour = int(time.time() // 3600)
            if org.hour != hour:
                org.hour, org.used_this_hour = hour, 0
            org.used_this_hour += 1
            key_hour, key_used = self._keys.get(dev_key, (hour, 0))
            key_used = key_used + 1 if key_hour == hour else 1
            self._keys[dev_key] = (hour, key_used)
            code = None
            if org.in_flight + org.held > self.concurrency:
                code = "BDC_1322"
            elif key_used > self.hourly_budget:
                code = "BDC_1144"
            if code:
                org.in_flight -= 1
                org.refused[code] += 1
        if code:
            message = (
                f"Max number of allowed requests per hour reached: {self.hourly_budget}."
                if code == "BDC_1144"
                else None
            )
            raise ApiError(self.status, code, message, category="DOWNSTREAM")
        try:
            yield
        finally:
            with self._lock:
                org.in_flight -= 1

    def hold(self, org_id: str, slots: int, seconds: float) -> None:
        """Simulate another integration of the same org using `slots` for `seconds` (in a thread)."""
        with self._lock:
            org = self._org(org_id)
            org.held += slots
            org.peak = max(org.peak, org.in_flight + org.held)

        def release() -> None:
            with self._lock:
                org.held -= slots

        timer = threading.Timer(seconds, release)
        timer.daemon = True
        timer.start()

    def reset(self) -> None:
        with self._lock:
            for org in self._orgs.values():
                org.peak = org.in_flight + org.held
                org.refused.clear()

    def snapshot(self) -> dict[str, dict[str, object]]:
        with self._lock:
            return {
                org_id: {
                    "in_flight": o.in_flight,
                    "max_in_flight": o.peak,
                    "held_by_others": o.held,
                    "refused": dict(o.refused),
                    "requests_this_hour": o.used_this_hour,
                }
                for org_id, o in self._orgs.items()
            }

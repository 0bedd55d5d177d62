"""One BILL session per org, shared by every process: cached encrypted on BillConnection with its
last-use time, renewed under the gate's "login" mutex so N workers that see it expire make one login.

A worker that got 401/BDC_1109 passes the session that failed; inside the mutex it compares that with
the stored one, and only if they are the same (nobody renewed it yet) does it log in. Bad credentials
(BDC_1101/BDC_1102) and untrusted sessions (BDC_1361) are permanent: no second login, no loop.

No login storm, whatever BILL answers: every sign-in attempt is recorded (`session_issued_at`) and
counted against the developer key's hourly sign-ins (the gate). A second attempt within
BILL_LOGIN_COOLDOWN_SECONDS is made only when the session in between *worked* (a call succeeded
with it, noted at once in `session_last_used_at`): a session that expired after use is renewed at
once, but a BILL that refuses every fresh session, or answers sign-ins with garbage, gets one
sign-in per cool-down, not one per record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from connectors.models import BillConnection

from .gate import BillGate, DevKey
from .http import RATE_LIMIT_CODES, BillError, BillHttp

log = logging.getLogger(__name__)

# BILL drops a session after 35 idle minutes; renew a little before that rather than eat a 401.
IDLE_RELOGIN = timedelta(minutes=30)
# Writing last-use on every call would turn reads into writes; this is precise enough for 30 minutes.
TOUCH_EVERY = timedelta(seconds=60)


class BillSessions:
    """The session for one BillConnection, cached in this process and in the database."""

    def __init__(
        self,
        connection: object,
        http: BillHttp,
        gate: BillGate,
        now: Callable[[], datetime] = timezone.now,
        idle_relogin: timedelta = IDLE_RELOGIN,
        key: DevKey | None = None,
        cooldown: timedelta | None = None,
    ) -> None:
        assert isinstance(connection, BillConnection)
        self.connection = connection
        self.http = http
        self.gate = gate
        self.now = now
        self.idle_relogin = idle_relogin
        self.key = key
        self.cooldown = (
            cooldown
            if cooldown is not None
            else timedelta(seconds=getattr(settings, "BILL_LOGIN_COOLDOWN_SECONDS", 60))
        )
        self._session: str | None = None
        self._last_used: datetime | None = None
        self._touched: datetime | None = None
        self._issued: datetime | None = None
        self._last_failure = (
            ""  # why this process's last sign-in failed (a plain sentence), for the cool-down
        )

    @property
    def org_id(self) -> str:
        return self.connection.organization_id

    def _stored(self) -> tuple[str | None, datetime | None]:
        row = (
            type(self.connection)
            .objects.only("session_id", "session_last_used_at", "session_issued_at")
            .get(pk=self.connection.pk)
        )
        self._issued = row.session_issued_at
        return row.session_id or None, row.session_last_used_at

    def _refuse_storm(self, stored: str | None, failed: str | None, last_used: datetime | None) -> None:
        """Raise instead of signing in when the last attempt was within the cool-down and the session it
        gave (if any) never worked: signing in again would only repeat what BILL just refused."""
        issued, now = self._issued, self.now()
        if issued is None or now - issued >= self.cooldown:
            return
        if stored and stored == failed and last_used is not None and last_used > issued:
            return  # it worked, then expired: an honest expiry, renewed at once
        wait = int((issued + self.cooldown - now).total_seconds()) + 1
        said = self._last_failure or (
            f"BILL refused the session the connector signed in for {int((now - issued).total_seconds())} "
            f"s ago."
        )
        raise BillError(
            f"{said} The connector will not sign in to BILL again for {wait} s, so that BILL's answers "
            f"cannot "
            "cause a storm of sign-ins (saving the connection allows it at once).",
            code="LOGIN_COOLDOWN",
        )

    def _fresh(self, last_used: datetime | None) -> bool:
        return last_used is not None and self.now() - last_used < self.idle_relogin

    def current(self) -> str:
        """A session believed live: this process's, else the stored one, else a new login."""
        if self._session and self._fresh(self._last_used):
            return self._session
        stored, last_used = self._stored()
        if stored and self._fresh(last_used):
            self._session, self._last_used, self._touched = stored, last_used, last_used
            return stored
        return self.renew(failed=stored, refused=False)

    def renew(self, failed: str | None, force: bool = False, refused: bool = True) -> str:
        """Log in once for everyone: only if the stored session is still the one that failed (or stale).
        `force` always signs in (the admin's connection test); `refused=False`: the session is only idle
        too long, BILL refused nothing (no storm can come of that: each sign-in restarts the idle time)."""
        with self.gate.mutex(self.org_id, "login"):
            stored, last_used = self._stored()
            if not force and stored and stored != failed and self._fresh(last_used):
                self._session, self._last_used, self._touched = stored, last_used, last_used
                return stored
            if not force and (refused or not stored):
                self._refuse_storm(stored, failed, last_used)
            rows = type(self.connection).objects.filter(pk=self.connection.pk)
            self.gate.spend_login(self.org_id, key=self.key)
            self.gate.spend(self.org_id, key=self.key)
            attempted, before = self.now(), self._issued
            rows.update(session_issued_at=attempted)  # the attempt is on record before BILL answers
            self._issued = attempted
            try:
                session_id = self.login()
            except BillError as exc:
                self._last_failure = exc.message
                if exc.code in RATE_LIMIT_CODES:  # BILL turned the sign-in away unprocessed: not a failed one
                    rows.update(session_issued_at=before)
                    self._issued = before
                else:  # the session being replaced is given up with the failed sign-in
                    rows.update(session_id=None, session_last_used_at=None)
                    self._session = self._last_used = self._touched = None
                raise
            self._last_failure = ""
            rows.update(session_id=session_id, session_last_used_at=attempted)
            self._session, self._last_used, self._touched = session_id, attempted, attempted
            return session_id

    def login(self) -> str:
        """POST /v3/login. BillError (permanent, with a plain sentence) when BILL refuses the sign-in."""
        c = self.connection
        if not c.password or not c.dev_key:
            raise BillError("The BILL connection has no password or developer key stored; enter them first.")
        self.http.stats.logins += 1
        log.info("Signing in to BILL for org %s", self.org_id)
        body = {
            "username": c.username,
            "password": c.password,
            "organizationId": c.organization_id,
            "devKey": c.dev_key,
        }
        answer = self.http.send("POST", "/v3/login", session_id=None, body=body, idempotent=True)
        session_id = (answer or {}).get("sessionId") if isinstance(answer, dict) else None
        if not session_id:
            raise BillError("BILL answered the sign-in without a session ID.", retryable=True)
        return str(session_id)

    def used(self, session_id: str) -> None:
        """Note a successful call: BILL's idle timer restarted. Written to the database at most once a minute,
        and at once on a session's first success (which proves it worked: see `_refuse_storm`)."""
        now = self.now()
        self._last_used = now
        unproven = self._touched is not None and self._issued is not None and self._touched <= self._issued
        if session_id == self._session and (
            self._touched is None or unproven or now - self._touched >= TOUCH_EVERY
        ):
            type(self.connection).objects.filter(pk=self.connection.pk).update(session_last_used_at=now)
            self._touched = now

    def forget(self) -> None:
        """Drop the cached session in this process and the database (after logout)."""
        self._session = self._last_used = self._touched = None
        type(self.connection).objects.filter(pk=self.connection.pk).update(
            session_id=None, session_last_used_at=None
        )

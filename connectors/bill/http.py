"""The one HTTP seam to BILL: the requests.Session, explicit timeouts, BILL's error array read into a
`BillError` that says whether a retry can help, and backoff with jitter.

Rate limits are recognised by the code in the body (BDC_1322 / BDC_1144), never by the status alone:
BILL does not document the status and both 429 and 422 are seen. A timeout or reset on a write that
is not idempotent is `in_doubt` (BILL may have committed it) and is never retried here; the flow
reconciles first.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from connectors import backoff, money_json

RATE_LIMIT_CODES = frozenset({"BDC_1322", "BDC_1144"})
SESSION_INVALID_CODES = frozenset({"BDC_1109", "BDC_1120"})
PERMANENT_MESSAGES = {
    "BDC_1101": (
        "BILL did not accept the user name, password or organization ID (BDC_1101); "
        "check them on the connection."
    ),
    "BDC_1102": "BILL did not accept the developer key (BDC_1102); check the dev key on the connection.",
    "BDC_1361": (
        "BILL says this session is not trusted (MFA) (BDC_1361): this action needs an MFA-trusted session, "
        "and signing in again will not change that."
    ),
}
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "PATCH", "DELETE"})
T = TypeVar("T")


class BillError(Exception):
    """A failed BILL call. `message` is plain words without secrets; `retryable` says if trying later can
    help; `in_doubt` says the request may have been committed (a timeout or reset on a write)."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        code: str | None = None,
        in_doubt: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status
        self.code = code
        self.in_doubt = in_doubt

    def __str__(self) -> str:
        return self.message


class SessionInvalid(BillError):
    """401 / BDC_1109: the session expired or was never valid. The session layer signs in again once."""


encode_json = money_json.dumps  # JSON with Decimal money written as exact numbers (never through float)
decode_json = money_json.loads


def error_from_response(status: int, raw: bytes) -> BillError:
    """Classify BILL's `[{code, message, ...}]` answer (whatever the status) into one BillError."""
    try:
        body = decode_json(raw)
    except ValueError:
        body = None
    items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    codes = [str(i.get("code")) for i in items if isinstance(i, dict) and i.get("code")]
    texts = [str(i.get("message")) for i in items if isinstance(i, dict) and i.get("message")]
    code = next(
        (c for c in codes if c in RATE_LIMIT_CODES | SESSION_INVALID_CODES), codes[0] if codes else None
    )
    said = "; ".join(texts)[:500] or f"HTTP {status}"
    if code == "BDC_1322":
        return BillError(
            f"BILL is busy: too many calls at once for this organization ({code}).",
            retryable=True,
            status=status,
            code=code,
        )
    if code == "BDC_1144":
        return BillError(
            f"BILL's hourly request limit for this organization is reached ({code}).",
            retryable=True,
            status=status,
            code=code,
        )
    if code in SESSION_INVALID_CODES or status == 401 and code not in PERMANENT_MESSAGES:
        return SessionInvalid(
            f"BILL says the session is no longer valid ({code or status}).", status=status, code=code
        )
    if code in PERMANENT_MESSAGES:
        return BillError(PERMANENT_MESSAGES[code], status=status, code=code)
    if status >= 500 or status == 429:
        return BillError(
            f"BILL had a problem answering (HTTP {status}): {said}", retryable=True, status=status, code=code
        )
    return BillError(
        f"BILL refused the request (HTTP {status}{', ' + code if code else ''}): {said}",
        status=status,
        code=code,
    )


@dataclass
class CallStats:
    """What a client did: calls asked for, HTTP requests sent, retries, logins, time spent waiting on BILL."""

    calls: int = 0
    requests: int = 0
    retries: int = 0
    logins: int = 0
    service_seconds: float = 0.0
    by_operation: Counter[str] = field(default_factory=Counter)
    by_error: Counter[str] = field(default_factory=Counter)


@dataclass
class Backoff(backoff.Backoff):
    """BILL's backoff (`connectors.backoff`, jittered): retries what BILL says may work later, never a
    call in doubt (that is reconciled first)."""

    def run(self, attempt: Callable[[], T], on_retry: Callable[[BillError], None] | None = None) -> T:
        """Call `attempt` until it succeeds, the error is not retryable, or is in doubt, or tries run out."""
        note = (lambda exc, n, delay: on_retry(exc)) if on_retry else None
        return self.retry(attempt, BillError, lambda exc: exc.retryable and not exc.in_doubt, note)


class BillHttp:
    """Sends one request to BILL's API or webhook API and returns the parsed JSON, or raises BillError."""

    def __init__(
        self,
        api_url: str,
        events_url: str,
        dev_key: str,
        timeout: float = 60.0,
        stats: CallStats | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.bases = {"connect": api_url.rstrip("/"), "connect-events": events_url.rstrip("/")}
        self.dev_key = dev_key
        self.timeout = timeout
        self.stats = stats or CallStats()
        self.session = session or requests.Session()

    def send(
        self,
        method: str,
        path: str,
        *,
        session_id: str | None,
        api: str = "connect",
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        url = self.bases[api] + path
        sent_headers = {"Accept": "application/json", **(headers or {})}
        if session_id is not None:
            sent_headers.update(devKey=self.dev_key, sessionId=session_id)
        data = None
        if body is not None:
            data = encode_json(body)
            sent_headers["Content-Type"] = "application/json"
        safe_to_repeat = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        self.stats.requests += 1
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                headers=sent_headers,
                timeout=(min(10.0, self.timeout), self.timeout),
            )
        except requests.RequestException as exc:
            raise self._transport_error(exc, url, safe_to_repeat) from None
        finally:
            self.stats.service_seconds += time.monotonic() - started
        if 200 <= response.status_code < 300:
            try:
                return decode_json(response.content)
            except ValueError:  # e.g. a proxy's HTML page: not BILL's answer, whatever the status
                raise BillError(
                    f"BILL answered HTTP {response.status_code} with something that is not JSON.",
                    retryable=True,
                    status=response.status_code,
                    in_doubt=not safe_to_repeat,
                ) from None
        error = error_from_response(response.status_code, response.content)
        if error.retryable and error.code not in RATE_LIMIT_CODES and not safe_to_repeat:
            error.in_doubt = True  # a 5xx on a create may still have created it
        raise error

    def _transport_error(self, exc: requests.RequestException, url: str, safe_to_repeat: bool) -> BillError:
        host = urlsplit(url).netloc
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(exc, requests.ConnectTimeout) or isinstance(reason, NewConnectionError):
            # Nothing was sent: always safe to try again.
            return BillError(f"Could not reach BILL at {host} (connection failed).", retryable=True)
        if isinstance(exc, requests.Timeout):
            what = f"BILL did not answer within {self.timeout:g} s"
        else:
            what = "The connection to BILL was cut before it answered"
        if safe_to_repeat:
            return BillError(f"{what}.", retryable=True)
        return BillError(
            f"{what}; the change may or may not have been made in BILL.", retryable=True, in_doubt=True
        )

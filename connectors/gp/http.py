"""The one HTTP seam to GP SBA: a `requests.Session` per GP connection with NTLM (or Basic), explicit
timeouts, TLS verification against the system store or the connection's CA bundle, bounded retries,
and one error type, `GPError`, that says whether trying again can help. Nothing else talks HTTP to GP.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.auth import HTTPBasicAuth
from requests_ntlm import HttpNtlmAuth

from connectors import money_json
from connectors.backoff import Backoff
from connectors.connection_rules import address_problem

from . import resource_map as rm

log = logging.getLogger(__name__)
NON_IDEMPOTENT = ("POST",)


class GPError(Exception):
    """A failed GP call, in plain words and free of secrets.

    `retryable` says whether the same call can succeed later (locks, 5xx, timeouts, resets,
    an unreachable host); `code` is one of: auth, forbidden, company_not_found, tenant_not_found,
    not_found, validation, duplicate, posted, locked, server, timeout, reset, unreachable, tls,
    bad_response, http. `gp_code` and `log_id` are GP's own, when it sent an error body. `in_doubt`:
    GP accepted a write but its answer could not be read, so the write may well have been carried out.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        code: str | None = None,
        gp_code: str | None = None,
        log_id: str | None = None,
        in_doubt: bool = False,
    ) -> None:
        super().__init__(message)
        self.message, self.retryable, self.status, self.code = message, retryable, status, code
        self.gp_code, self.log_id, self.in_doubt = gp_code, log_id, in_doubt

    def __str__(self) -> str:
        return self.message


class RelayFailure(requests.exceptions.RequestException):
    """A call relayed through a GP agent (connectors.relay) that failed before GP's answer came back;
    `code` and `retryable` mean what they mean on GPError, so the flows treat it as a direct failure."""

    def __init__(self, message: str, *, code: str, retryable: bool) -> None:
        super().__init__(message)
        self.message, self.code, self.retryable = message, code, retryable


class GPHttp:
    """One GP connection's session. NTLM authenticates the TCP connection, so the session is kept."""

    def __init__(
        self,
        base_url: str,
        tenant: str,
        company: str,
        account: str,
        password: str,
        *,
        auth_mode: str = "ntlm",
        verify_tls: bool = True,
        ca_bundle_pem: str = "",
        timeout: float = 60.0,
        max_tries: int = 3,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        adapter: requests.adapters.BaseAdapter | None = None,
    ) -> None:
        self.base_url, self.tenant, self.company, self.account = (
            base_url.rstrip("/"),
            tenant,
            company,
            account,
        )
        self.timeout, self.max_tries, self.backoff_seconds, self.sleep = (
            timeout,
            max_tries,
            backoff_seconds,
            sleep,
        )
        self._auth_mode, self._password, self._adapter = auth_mode, password, adapter
        self.relayed = adapter is not None
        # One session per thread (see `session`); all of them, to close them.
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._ca_file: str | None = None
        # Passed on every call: a Session-level verify is overridden by REQUESTS_CA_BUNDLE (requests #3829).
        self.verify: bool | str = (
            self._ca_path(ca_bundle_pem) if verify_tls and ca_bundle_pem.strip() else verify_tls
        )
        # Set by a read-only context (preview, drift): every request but a read is refused before it leaves.
        self.read_only = False
        self.request_count = 0  # calls made (each retry counts); NTLM handshake legs are in wire_count
        self.wire_count = 0
        self.company_root = f"{self.base_url}/" + rm.COMPANY_ROOT.format(
            tenant=quote(tenant, safe=""), company=quote(company, safe="")
        )

    def _ca_path(self, pem: str) -> str:
        fd, path = tempfile.mkstemp(prefix="gp-ca-", suffix=".pem")
        with os.fdopen(fd, "w") as f:
            f.write(pem)
        self._ca_file = path
        atexit.register(self._remove_ca_file)
        return path

    def _remove_ca_file(self) -> None:
        if self._ca_file and os.path.exists(self._ca_file):
            os.unlink(self._ca_file)

    @property
    def session(self) -> requests.Session:
        """This thread's session. NTLM authenticates a TCP connection in three legs, and requests-ntlm
        sends the last leg on whichever connection the pool hands back: threads sharing one pool (the
        bill flow's workers read GP payments while aligning amounts due) could take each other's
        half-authenticated connection, and GP (IIS, and the sandbox) answers 401 "the user name or
        password is wrong" though it is right. So each thread has its own session and connection pool."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._new_session()
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.auth = (
            HTTPBasicAuth(self.account, self._password)
            if self._auth_mode == "basic"
            else HttpNtlmAuth(self.account, self._password)
        )
        session.headers.update({"Accept": "application/json", "User-Agent": "ml-connector"})
        if (
            self._adapter is not None
        ):  # through a GP agent: the agent signs in to GP, nothing goes on the wire
            session.auth = None
            session.mount(self.base_url, self._adapter)
            session.trust_env = False  # no proxy, .netrc or CA bundle applies; requests reads them per call
        return session

    def close(self) -> None:
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()
        self._remove_ca_file()

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        tries: int | None = None,
    ) -> Any:
        """Call GP and return the parsed JSON (Decimal numbers), or None for an empty answer.

        POST is not idempotent: it is retried only when GP surely did nothing (locked, unavailable,
        connection refused). A timeout or reset after sending a POST raises a retryable GPError for
        the caller to reconcile first.
        """
        if self.read_only and method.upper() != "GET":
            raise GPError(
                f"A preview or drift report only reads: it refused to {method.upper()} {path} in GP.",
                retryable=False,
                code="read_only",
            )
        tries = tries or self.max_tries

        def note(error: GPError, n: int, delay: float) -> None:
            log.info(
                "GP %s %s failed (%s); try %d of %d in %.1fs", method, path, error.code, n + 2, tries, delay
            )

        return self.backoff(tries).retry(
            lambda: self._once(method, path, params, body, headers),
            GPError,
            lambda error: self._should_retry(method, error),
            note,
        )

    def backoff(self, tries: int) -> Backoff:
        """GP's backoff: `backoff_seconds`, doubled each try, no jitter (one caller per company at a time)."""
        return Backoff(
            base=self.backoff_seconds, cap=math.inf, attempts=tries, sleep=self.sleep, jitter=False
        )

    @staticmethod
    def _should_retry(method: str, error: GPError) -> bool:
        if not error.retryable:
            return False
        if method.upper() in NON_IDEMPOTENT:
            return error.code in ("locked", "unreachable") or error.status == 503
        return True

    def _once(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, headers: dict[str, str] | None
    ) -> Any:
        url = path if path.startswith("http") else self.company_root + path
        data = None if body is None else dumps(body)
        send_headers = dict(headers or {})
        if data is not None:
            send_headers["Content-Type"] = "application/json"
        self.request_count += 1
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                headers=send_headers,
                timeout=(min(10.0, self.timeout), self.timeout),
                verify=self.verify,
            )
        except RelayFailure as exc:
            raise GPError(exc.message, retryable=exc.retryable, code=exc.code) from None
        except requests.exceptions.SSLError as exc:
            raise self._tls_error(exc) from None
        except requests.exceptions.ConnectTimeout:
            raise GPError(
                f"The GP server at {self.host} did not accept a connection within "
                f"{min(10.0, self.timeout):g} seconds.",
                retryable=True,
                code="unreachable",
            ) from None
        except requests.exceptions.Timeout:
            raise GPError(
                f"The GP server at {self.host} did not answer within {self.timeout:g} seconds.",
                retryable=True,
                code="timeout",
            ) from None
        except requests.exceptions.ConnectionError as exc:
            raise self._connection_error(exc) from None
        self.wire_count += 1 + len(response.history)
        log.debug("GP %s %s -> %s", method, path, response.status_code)
        if response.status_code >= 400:
            raise error_from_response(response, self.account, self.company, self.tenant)
        if not response.content:
            return None
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise GPError(
                f"GP answered {method} {path} with something that is not JSON.",
                retryable=False,
                status=response.status_code,
                code="bad_response",
                # a write GP answered with success: done there, whatever the body (reconciled, not resent)
                in_doubt=method.upper() != "GET",
            ) from None

    def _tls_error(self, exc: Exception) -> GPError:
        reason = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in reason or "certificate verify failed" in reason:
            detail = "hostname mismatch" if "match" in reason.lower() else "not trusted"
            return GPError(
                f"The GP server's TLS certificate is {detail}; upload the server's CA bundle (PEM) "
                "on the GP connection, or fix the host name.",
                retryable=False,
                code="tls",
            )
        return GPError(
            f"The TLS handshake with {self.host} failed; check that the URL's scheme and port are right.",
            retryable=False,
            code="tls",
        )

    def _connection_error(self, exc: Exception) -> GPError:
        reason = str(exc)
        if any(
            s in reason for s in ("Connection aborted", "reset by peer", "RemoteDisconnected", "BrokenPipe")
        ):
            return GPError(
                f"The connection to the GP server at {self.host} was dropped mid-request.",
                retryable=True,
                code="reset",
            )
        return GPError(
            f"The GP server at {self.host} cannot be reached; check the address, port and firewall.",
            retryable=True,
            code="unreachable",
        )


def refuse_unsafe_address(url: str) -> None:
    """No Windows password goes to an address the connection rules refuse (connectors.connection_rules):
    checked each time a client is built from a saved connection, not only when the form was saved."""
    problem = address_problem(url or "")
    if problem:
        raise GPError(
            f"The GP connection's address {url!r} cannot be used: {problem} A connector admin "
            "corrects it on the GP connection.",
            retryable=False,
            code="address",
        )


def error_from_response(response: requests.Response, account: str, company: str, tenant: str) -> GPError:
    """Turn a GP error answer into a GPError with GP's message (which never carries our password)."""
    status = response.status_code
    gp_code = gp_message = log_id = None
    try:
        err = response.json().get(rm.ERROR) or {}
        gp_code, gp_message, log_id = (
            err.get(rm.ERROR_CODE),
            err.get(rm.ERROR_MESSAGE),
            err.get(rm.ERROR_LOG_ID),
        )
    except (ValueError, AttributeError):
        pass
    said = f" GP said: {gp_message}" if gp_message else ""

    def error(message: str, retryable: bool, code: str) -> GPError:
        return GPError(
            message + said, retryable=retryable, status=status, code=code, gp_code=gp_code, log_id=log_id
        )

    if status == 401:
        return error(
            f"GP refused the Windows account {account}: the user name or password is wrong.", False, "auth"
        )
    if status == 403:
        return error(
            f"The Windows account {account} is not mapped to a GP user with access to company '{company}'.",
            False,
            "forbidden",
        )
    if status == 404 and gp_code == rm.CODE_COMPANY_NOT_FOUND:
        return error(
            f"GP has no company named '{company}'; use the display name exactly as GP shows it.",
            False,
            "company_not_found",
        )
    if status == 404 and gp_code == rm.CODE_TENANT_NOT_FOUND:
        return error(f"GP has no tenant named '{tenant}'.", False, "tenant_not_found")
    if status == 404:
        return error("GP does not know this record or resource.", False, "not_found")
    if status == 409 and gp_code == rm.CODE_DUPLICATE:
        return error("GP already has a record with this key.", False, "duplicate")
    if status == 409 and gp_code == rm.CODE_POSTED:
        return error("The document is posted in GP and cannot be changed.", False, "posted")
    if status == 409:
        return error(
            "The record is locked in GP (being edited or posted); try again shortly.", True, "locked"
        )
    if status >= 500:
        return error(f"GP answered with a server error ({status}); try again later.", True, "server")
    if status == 400 or status == 422:
        return error("GP refused the request as invalid.", False, "validation")
    return error(f"GP answered with HTTP {status}.", False, "http")


dumps = money_json.dumps  # JSON with Decimal amounts written exactly (as numbers, never through float)

"""The agent's loop: poll the connector, run each GP request, post its answer.

Polling: while requests keep coming the agent asks with `wait` (the connector holds the poll up to a
second and answers it the moment a request is queued, so a sync run's back-to-back requests are
relayed in milliseconds); after a few seconds without work it polls with wait 0 and sleeps between
polls, up to `idle_max_seconds`, so an idle agent costs the connector one short request every few
seconds and holds no thread there.

Several requests run at once (`workers`): the poll asks for as many as there are free workers. A
worker posts its answer together with any others ready by then, and the same call takes the next
requests for the free workers (one round trip per answer or fewer, never one per answer and one per
request). Kept HTTPS connections to the connector, and one NTLM-signed connection per worker to GP.
"""

from __future__ import annotations

import base64
import collections
import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests
from requests.auth import HTTPBasicAuth
from requests.sessions import merge_setting
from requests.structures import CaseInsensitiveDict
from requests.utils import requote_uri
from requests_ntlm import HttpNtlmAuth

from . import VERSION
from .journal import Journal
from .writes import is_write

log = logging.getLogger("mlc_agent")
HOT_SECONDS = 5.0  # keep long-ish polls this long after the last request
DROP_HEADERS = {
    "transfer-encoding",
    "connection",
    "content-length",
    "content-encoding",
    "keep-alive",
    "set-cookie",
    "www-authenticate",
    "persistent-auth",
}
MAX_BATCH = 32  # answers per call (the connector's limit)
SERVICE_HEADER = "X-MLC-GP-Service"  # set by the connector: which GP address a path is under


@dataclass
class AgentConfig:
    connector_url: str  # https://connector.example.com
    token: str
    gp_url: str  # the GP base the connection's paths are under, e.g. https://gp.corp.local:8443
    gp_account: str  # DOMAIN\\user
    gp_password: str
    journal_path: str = "mlc-agent-journal.sqlite3"
    gp_auth: str = "ntlm"  # or basic
    gp_ca_bundle: str = ""  # a PEM file to trust for GP's certificate ("" = system store)
    connector_ca_bundle: str = ""
    workers: int = 4
    idle_max_seconds: float = 3.0
    gp_ws_url: str = ""  # GP Web Services (.asmx) endpoint, for connections on the Web Services interface
    host: str = socket.gethostname()


def _environ_ca_bundle() -> str:
    """The CA bundle requests would take from the environment when verifying with the system store."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or ""


def _prepared_url(base: str) -> str:
    """A GP address as requests prepares it (checked, IDNA host, quoted), without the slash it adds."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(base.rstrip("/"), None)
    return (prepared.url or "").rstrip("/")


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.journal = Journal(config.journal_path)
        self.stop_event = threading.Event()
        self._local = threading.local()
        self.connector = requests.Session()
        self.connector.headers.update(
            {"Authorization": f"Bearer {config.token}", "User-Agent": f"ml-connector-agent/{VERSION}"}
        )
        # The environment's proxy and CA settings (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE) are read once
        # here instead of on every call (requests re-reads them, and .netrc, per request: a third of the
        # agent's CPU per relayed request); a service's environment does not change while it runs.
        self.connector.trust_env = False
        self.connector.proxies = requests.utils.get_environ_proxies(config.connector_url)
        self._connector_verify: bool | str = config.connector_ca_bundle or _environ_ca_bundle() or True
        self.connector.verify = self._connector_verify
        self._gp_proxies = {
            base: requests.utils.get_environ_proxies(base)
            for base in (config.gp_url, config.gp_ws_url)
            if base
        }
        self._gp_urls = {base: _prepared_url(base) for base in (config.gp_url, config.gp_ws_url) if base}
        self._connector_pool = requests.adapters.HTTPAdapter(
            pool_connections=1, pool_maxsize=max(1, config.workers) + 2
        )
        self.connector.mount("https://", self._connector_pool)
        self.connector.mount("http://", self._connector_pool)
        # Each endpoint's request prepared once (URL, the token and the session's headers); a call copies
        # it, adds its JSON body and hands it to the kept connection pool. Session.request would merge
        # settings, cookies and hooks again on every call: over half the agent's CPU per connector call.
        base = config.connector_url.rstrip("/")
        self._prepared = {
            endpoint: self.connector.prepare_request(requests.Request("POST", f"{base}/agent/{endpoint}"))
            for endpoint in ("poll", "answer")
        }
        self._free = max(1, config.workers)  # workers not running a request
        self._freed = threading.Condition()
        self._outbox: collections.deque[tuple[str, dict[str, Any]]] = collections.deque()  # answers to post
        self._sending = threading.Lock()  # held by the worker posting the outbox
        self.last_work = 0.0
        self.pool = ThreadPoolExecutor(max_workers=max(1, config.workers), thread_name_prefix="gp")
        self.refused = False  # the connector refused the token
        self.ran = 0  # requests sent to GP (journal answers excluded)
        self._thread: threading.Thread | None = None
        self.polls = self.poll_failures = 0  # answered polls, and polls that failed (network, 5xx)

    # --- talking to the connector ------------------------------------------------------------------
    def _post(self, endpoint: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        payload = {**payload, "version": VERSION, "host": self.config.host}
        request = self._prepared[endpoint].copy()
        request.prepare_body(data=None, files=None, json=payload)
        response = self._connector_pool.send(
            request, timeout=timeout, verify=self._connector_verify, proxies=self.connector.proxies
        )
        _ = response.content  # read now (as Session.request does): the connection goes back to the pool
        if response.status_code == 401:
            self.refused = True
            raise PermissionError(response.json().get("error", "token refused"))
        if (
            not 200 <= response.status_code < 300
        ):  # a redirect too: the agent never follows one with its token
            raise requests.HTTPError(
                f"The connector answered {response.status_code} (a redirect: use its https address).",
                response=response,
            )
        self.refused = False
        return response.json()

    def poll_once(self, wait: float = 0.0, limit: int | None = None) -> list[dict[str, Any]]:
        return self.exchange([], wait, self.config.workers if limit is None else limit)[1]

    def exchange(
        self, answers: list[dict[str, Any]], wait: float, limit: int
    ) -> tuple[dict[str, bool], list[dict[str, Any]]]:
        """Post answers and take up to `limit` new requests, in one call."""
        data = self._post("poll", {"wait": wait, "max": limit, "answers": answers}, timeout=wait + 30)
        return data.get("accepted") or {}, data["requests"]

    def send_answer(self, request_id: str, answer: dict[str, Any], tries: int = 5) -> bool:
        """Post an answer, reconnecting a few times. If it never arrives, the journal answers when the
        connector delivers the request again."""
        for attempt in range(tries):
            try:
                return bool(self._post("answer", {"id": request_id, **answer}, timeout=30)["accepted"])
            except PermissionError:
                return False
            except requests.RequestException as exc:
                log.warning("answer to %s not delivered (%s); retrying", request_id, type(exc).__name__)
                if self.stop_event.wait(min(2.0**attempt * 0.2, 5.0)):
                    return False
        return False

    # --- talking to GP ------------------------------------------------------------------------------
    def _gp(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            c = self.config
            session = requests.Session()
            session.auth = (
                HTTPBasicAuth(c.gp_account, c.gp_password)
                if c.gp_auth == "basic"
                else HttpNtlmAuth(c.gp_account, c.gp_password)
            )
            session.verify = c.gp_ca_bundle or _environ_ca_bundle() or True
            session.trust_env = False  # proxies per GP address: self._gp_proxies
            self._local.session = session
        return session

    def answer_for(self, req: dict[str, Any]) -> dict[str, Any]:
        """Run one request against GP, or answer it from the journal if it is a write already run."""
        method, request_id = req["method"].upper(), req["id"]
        write = is_write(method, req.get("headers") or {})  # a SOAP read (Get…) is a POST, not a write
        if write:
            journaled = self.journal.begin(request_id, method, req["path"])
            if journaled is not None:
                log.info("request %s delivered again: answered from the journal, not run twice", request_id)
                return journaled
        answer = self._run(req)
        if write:
            self.journal.finish(request_id, answer)
        return answer

    def _gp_base(self, req: dict[str, Any]) -> str:
        """The GP address the request's path is under: SBA's URL, or the Web Services endpoint."""
        service = next(
            (v for k, v in (req.get("headers") or {}).items() if k.lower() == SERVICE_HEADER.lower()), "sba"
        )
        return self.config.gp_ws_url if service == "web_services" else self.config.gp_url

    def _gp_request(
        self,
        session: requests.Session,
        method: str,
        base: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None,
    ) -> requests.PreparedRequest:
        """What `session.request` would send, built without parsing the URL again or merging the session's
        settings seven times (a third of the agent's CPU per GP call): the GP address was prepared once
        (scheme, IDNA host, quoting) and the path is only re-quoted. Cookies GP set, and the auth (NTLM's
        handshake hook), are applied as `request` does."""
        prepared = requests.PreparedRequest()
        prepared.prepare_method(method)
        prepared.url = self._gp_urls[base] + requote_uri(path)
        prepared.prepare_headers(merge_setting(headers, session.headers, dict_class=CaseInsensitiveDict))
        prepared.prepare_cookies(session.cookies)
        prepared.prepare_body(body, None)
        prepared.prepare_auth(session.auth)
        return prepared

    def _run(self, req: dict[str, Any]) -> dict[str, Any]:
        timeout = float(req.get("timeout") or 60)
        headers = {k: v for k, v in (req.get("headers") or {}).items() if k.lower() != SERVICE_HEADER.lower()}
        headers["User-Agent"] = f"ml-connector-agent/{VERSION}"
        base = self._gp_base(req)
        if not base:
            log.error("request %s is for GP Web Services, but no --gp-ws-url is set", req.get("id"))
            return {"error": "unreachable"}
        body = base64.b64decode(req["body"]) if req.get("body") is not None else None
        started = time.monotonic()
        self.ran += 1
        try:
            session = self._gp()
            response = session.send(
                self._gp_request(session, req["method"], base, req["path"], headers, body),
                timeout=(min(10.0, timeout), timeout),
                proxies=self._gp_proxies.get(base) or {},
                verify=session.verify,
                cert=None,
                stream=False,
                allow_redirects=True,
            )
        except requests.exceptions.SSLError:
            return {"error": "tls"}
        except requests.exceptions.ConnectTimeout:
            return {"error": "unreachable"}
        except requests.exceptions.Timeout:
            return {"error": "timeout"}
        except requests.exceptions.ConnectionError as exc:
            dropped = any(
                s in str(exc) for s in ("Connection aborted", "reset by peer", "RemoteDisconnected")
            )
            return {"error": "reset" if dropped else "unreachable"}
        return {
            "status": response.status_code,
            "body": base64.b64encode(response.content).decode(),
            "headers": {k: v for k, v in response.headers.items() if k.lower() not in DROP_HEADERS},
            "agent_ms": round((time.monotonic() - started) * 1000, 2),
        }

    def handle(self, req: dict[str, Any]) -> None:
        """Run a request in a worker, then post its answer (with any other answers ready, and taking new
        requests for the free workers in the same call)."""
        try:
            answer: dict[str, Any] | None = self.answer_for(req)
        except Exception:  # never let one request kill the agent; the connector times it out
            log.exception("request %s failed inside the agent", req.get("id"))
            answer = None
        finally:
            with self._freed:
                self._free += 1
                self._freed.notify()
        if answer is not None:
            self.last_work = time.monotonic()
            self._outbox.append((req["id"], answer))
            self._flush()

    def _flush(self) -> None:
        """Post every waiting answer in as few calls as possible. The first worker with an answer posts
        it; answers that become ready meanwhile go in its next call, not one call each. Re-checked after
        letting go, so no answer is left behind by a worker that found another one posting."""
        while self._outbox and self._sending.acquire(blocking=False):
            try:
                while self._outbox:
                    batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), MAX_BATCH))]
                    self._post_answers(batch)
            finally:
                self._sending.release()

    def _post_answers(self, batch: list[tuple[str, dict[str, Any]]]) -> None:
        limit = 0 if self.stop_event.is_set() else max(0, self._free)
        try:
            _accepted, taken = self.exchange([{"id": rid, **answer} for rid, answer in batch], 0.0, limit)
        except PermissionError:
            return
        except (requests.RequestException, ValueError) as exc:
            log.warning(
                "%d answer(s) not delivered (%s); retrying one by one", len(batch), type(exc).__name__
            )
            for request_id, answer in batch:
                self.send_answer(request_id, answer)
            return
        self._start(taken)

    def _start(self, taken: list[dict[str, Any]]) -> None:
        """Give new requests to workers (each holds one until its answer is in the outbox)."""
        if not taken:
            return
        self.last_work = time.monotonic()
        with self._freed:
            self._free -= len(taken)
        for req in taken:
            try:
                self.pool.submit(self.handle, req)
            except RuntimeError:  # stopping: never run; the connector re-offers or times it out
                log.warning("request %s not run: the agent is stopping", req.get("id"))

    # --- the loop -----------------------------------------------------------------------------------
    def _wait_for_a_free_worker(self) -> int:
        with self._freed:
            while self._free <= 0 and not self.stop_event.is_set():
                self._freed.wait(0.5)
            return max(0, self._free)

    def run(self) -> None:
        """Poll until stopped. Network trouble backs off (1 s … 30 s); a refused token waits 60 s."""
        idle_sleep, trouble = 0.05, 1.0
        log.info(
            "GP agent %s polling %s for GP at %s", VERSION, self.config.connector_url, self.config.gp_url
        )
        while not self.stop_event.is_set():
            free = self._wait_for_a_free_worker()
            if free == 0:
                continue
            hot = time.monotonic() - self.last_work < HOT_SECONDS
            try:
                requests_ = self.poll_once(wait=1.0 if hot else 0.0, limit=free)
                trouble, self.polls = 1.0, self.polls + 1
            except PermissionError as exc:
                log.error("The connector refused this agent's token: %s", exc)
                self.stop_event.wait(60)
                continue
            except (requests.RequestException, ValueError) as exc:
                self.poll_failures += 1
                log.warning(
                    "cannot reach the connector (%s); trying again in %.0f s", type(exc).__name__, trouble
                )
                self.stop_event.wait(trouble)
                trouble = min(trouble * 2, 30.0)
                continue
            if requests_:
                idle_sleep = 0.05
                self._start(requests_)
            elif not hot:
                self.stop_event.wait(idle_sleep)
                idle_sleep = min(idle_sleep * 2, self.config.idle_max_seconds)

    def start_in_thread(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="mlc-agent", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        """Finish cleanly: requests already taken are run and answered before the agent ends."""
        self.stop_event.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self.pool.shutdown(wait=True)
        self.journal.close()

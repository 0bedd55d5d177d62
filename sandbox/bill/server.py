"""The BILL v3 sandbox server: `start_bill_sandbox(...) -> BillSandbox` (a handle) over real HTTP.

Paths: `/connect/v3/...` (AP API), `/connect-events/v3/...` (webhook API), `/_sandbox/...` (control).
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from typing import Any

from sandbox.common.httpserver import RunningServer, SandboxHandler, SandboxServer, serve_in_thread

from . import control
from . import seed as seeds
from .app import Answer, BillApp, Request
from .limits import Credentials, Limits, Sessions
from .store import Store
from .webhooks import WebhookHub
from .wire import IdMaker, dumps

DEFAULT_USER = "sandbox@ml-connector.example"
DEFAULT_PASSWORD = "sandbox-password"
DEFAULT_ORG = "00802SANDBOXORG00001"
DEFAULT_DEV_KEY = "01SANDBOXDEVKEY00000000000000000000"
DEFAULT_SESSION_TTL = 35 * 60

# BILL IDs (3-char prefix + "02" + 15) and subscription UUIDs are folded into {id} in the stats.
_ID_SEGMENT = re.compile(r"/(?:[0-9a-zA-Z]{3}02[0-9A-Za-z]{15}|[0-9a-f]{8}-[0-9a-f-]{27})(?=/|$)")


@dataclass(frozen=True)
class BillCredentials:
    username: str
    password: str
    org_id: str
    dev_key: str


class BillHandler(SandboxHandler):
    server: BillServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle + delayed ACK add ~40 ms per call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def route(self) -> None:
        sandbox = self.server.sandbox
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(self.command, self.url.path, self.query, headers, self.body)
        if self.url.path.startswith("/_sandbox/"):
            answer = control.handle(sandbox, request)
        else:
            answer = sandbox.app.handle(request)
        fault = answer.fault
        if fault and (fault.kind.startswith("timeout") or fault.commits_late):
            self.server.stopping.wait(fault.hold_seconds)
            self.drop_connection("timeout", reset=False)
        elif fault and fault.kind.startswith("reset"):
            self.drop_connection("reset", reset=True)
        else:
            self._answer(answer)

    def _answer(self, answer: Answer) -> None:
        if answer.raw is not None:
            self.send_bytes(answer.status, answer.raw, "text/html", answer.extra_headers)
            return
        body = b"" if answer.payload is None else dumps(answer.payload)
        self.send_bytes(answer.status, body, "application/json", answer.extra_headers)

    def stats_path(self) -> str:
        return _ID_SEGMENT.sub("/{id}", self.url.path)


class BillServer(SandboxServer):
    sandbox: BillSandbox


class BillSandbox:
    """A running sandbox: `.api_url`, `.events_url`, `.credentials`, control helpers, `.stop()`."""

    def __init__(self, running: RunningServer, app: BillApp, credentials: BillCredentials, seed: str) -> None:
        self.running = running
        self.app = app
        self.credentials = credentials
        self.seed = seed

    # --- addresses -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.running.url

    @property
    def api_url(self) -> str:
        return f"{self.url}/connect"

    @property
    def events_url(self) -> str:
        return f"{self.url}/connect-events"

    @property
    def control_url(self) -> str:
        return f"{self.url}/_sandbox"

    # --- control helpers (the same functions the /_sandbox/ API calls) ---------------------------
    @property
    def store(self) -> Store:
        return self.app.store

    def stats(self) -> dict[str, Any]:
        return control.stats(self)

    def reset_stats(self) -> None:
        control.reset_stats(self)

    def set_latency(self, ms: float = 0, per_item_ms: float = 0) -> None:
        self.app.latency_ms, self.app.per_item_ms = ms, per_item_ms

    def add_fault(self, kind: str, **rule: Any) -> None:
        """kind: 5xx | timeout | reset | timeout_after_commit | reset_after_commit | commit_late; rule:
        count, methods, path_contains, status, hold_seconds, delay_seconds (commit_late)."""
        self.app.faults.add(kind, **rule)

    def clear_faults(self) -> None:
        self.app.faults.clear()

    def expire_sessions(self) -> int:
        return self.app.sessions.expire_all()

    def hold_slots(self, slots: int, seconds: float) -> None:
        """Another integration of the same org takes `slots` in-flight slots for `seconds`."""
        self.app.limits.hold(self.credentials.org_id, slots, seconds)

    def pay_bills(self, bills: list[dict[str, Any]], status: str = "PAID", **options: Any) -> dict[str, Any]:
        """Pay bills ([{billId, amount?}]) in one payment, as a person would in BILL's UI."""
        return self.app.payments.pay(bills, status=status, **options)

    def set_payment_status(self, payment_id: str, status: str, reason: str = "") -> dict[str, Any]:
        return self.app.payments.move(payment_id, status, reason)

    def void_payment(self, payment_id: str, reason: str = "voided in sandbox") -> dict[str, Any]:
        return self.app.payments.move(payment_id, "VOID", reason)

    def set_single_status(self, payment_id: str, single_status: str, reason: str = "") -> dict[str, Any]:
        """Move a payment's singleStatus (a returned ACH, an escheated check…); see payments.py."""
        return self.app.payments.set_single_status(payment_id, single_status, reason)

    def configure(self, **options: Any) -> dict[str, Any]:
        return control.configure(self, options)

    def security_key(self, subscription_id: str) -> str:
        return self.app.hub.security_key(subscription_id)

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        return self.app.hub.wait_idle(timeout)

    def stop(self) -> None:
        self.app.stop()
        self.app.hub.stop()
        self.running.stop()

    def __enter__(self) -> BillSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_bill_sandbox(
    host: str = "127.0.0.1",
    port: int = 0,
    seed: str = "small",
    user: str = DEFAULT_USER,
    password: str = DEFAULT_PASSWORD,
    org_id: str = DEFAULT_ORG,
    extra_orgs: tuple[str, ...] = (),
    dev_key: str = DEFAULT_DEV_KEY,
    session_ttl: float = DEFAULT_SESSION_TTL,
    latency_ms: float = 0,
    per_item_ms: float = 0,
    concurrency_limit: int = 3,
    hourly_budget: int = 20000,
    rate_limit_status: int = 429,
    duplicate_invoice_check: bool = False,
    shuffle_bulk_answers: bool = False,
    webhook_retry_scale: float = 1.0,
    webhook_timeout: float = 10.0,
    trusted_sessions: bool = False,
    allow_http_webhooks: bool = False,
    payment_webhooks: bool = True,
    patch_merges_nested: bool = False,
    hourly_logins: int = 200,
    verbose: bool = False,
) -> BillSandbox:
    """Start the sandbox in a daemon thread and return its handle (stop it with `.stop()`).

    `allow_http_webhooks` is the development flag: BILL itself delivers to https URLs only.
    `payment_webhooks=False` makes this org one BILL does not offer payment events to.
    `patch_merges_nested=True` merges nested objects in a vendor PATCH (default: replaced, as BILL may).
    `extra_orgs`: more organization IDs the same user may sign in to, sharing this org's data (a
    benchmark's many tenants against one process); each has its own limits.
    `hourly_logins`: sign-ins per developer key per hour (BILL: 200).
    """
    ids = IdMaker(seed)
    hub = WebhookHub(
        org_id,
        ids,
        retry_scale=webhook_retry_scale,
        delivery_timeout=webhook_timeout,
        allow_http=allow_http_webhooks,
        payment_webhooks=payment_webhooks,
    )
    store = Store(
        ids,
        hub.emit,
        duplicate_invoice_check=duplicate_invoice_check,
        patch_merges_nested=patch_merges_nested,
        shuffle_bulk_answers=shuffle_bulk_answers,
    )
    hub.bank_accounts = store.bank_accounts
    seeds.load(store, seed)
    sessions = Sessions(
        Credentials(user, password, org_id, dev_key, extra_orgs=frozenset(extra_orgs)),
        ttl=session_ttl,
        hourly_logins=hourly_logins,
        limit_status=rate_limit_status,
    )
    limits = Limits(concurrency_limit, hourly_budget, rate_limit_status)
    app = BillApp(store, sessions, limits, hub, latency_ms, per_item_ms, trusted_sessions)
    server = BillServer((host, port), BillHandler, verbose=verbose)
    credentials = BillCredentials(user, password, org_id, dev_key)
    sandbox = BillSandbox(serve_in_thread(server, name="bill-sandbox"), app, credentials, seed)
    server.sandbox = sandbox
    return sandbox

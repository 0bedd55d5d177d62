"""Request handling for `/connect/v3/...` and `/connect-events/v3/...`, independent of the socket layer.

Order per request, as BILL appears to do it: route (404 BDC_1121) → devKey/sessionId (400/401) →
the org's limits (BDC_1322/BDC_1144, status configurable) → latency → injected fault → the handler.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .faults import Fault, Faults
from .limits import Limits, Session, Sessions
from .listing import (
    BILL_FIELDS,
    CLASSIFICATION_FIELDS,
    FUNDING_FIELDS,
    PAYMENT_FIELDS,
    VENDOR_CREDIT_FIELDS,
    VENDOR_FIELDS,
    page,
)
from .payments import Payments
from .store import Store
from .webhooks import EVENT_TYPES, WebhookHub
from .wire import ApiError, loads

ID = r"(?P<id>[^/]+)"
KIND = r"(?P<kind>chart-of-accounts|departments|locations|accounting-classes)"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    session: Session | None = None

    def json(self) -> Any:
        return loads(self.body)


@dataclass
class Answer:
    status: int
    payload: Any = None  # JSON-ready; None means an empty body
    fault: Fault | None = None
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    raw: bytes | None = None  # a body that is not JSON (the "malformed" fault)


MALFORMED_BODY = b"<html><body><h1>Gateway error</h1></body></html>"


Handler = Callable[..., Any]


class BillApp:
    """The sandbox org's API. `routes` maps (api, method, path regex) to a handler and its success status."""

    def __init__(
        self,
        store: Store,
        sessions: Sessions,
        limits: Limits,
        hub: WebhookHub,
        latency_ms: float = 0,
        per_item_ms: float = 0,
        trusted_sessions: bool = False,
    ) -> None:
        self.store, self.sessions, self.limits, self.hub = store, sessions, limits, hub
        self.payments = Payments(store)
        self.faults = Faults()
        self.latency_ms, self.per_item_ms = latency_ms, per_item_ms
        self.trusted_sessions = trusted_sessions
        self._stop = threading.Event()
        self.routes: list[tuple[str, str, re.Pattern[str], Handler, int]] = []
        self._route_api()
        self._route_events()

    def _add(self, api: str, method: str, pattern: str, handler: Handler, status: int = 200) -> None:
        self.routes.append((api, method, re.compile(f"^/v3/{pattern}$"), handler, status))

    # --- routing tables --------------------------------------------------------------------------
    def _route_api(self) -> None:
        s, a = self.store, "connect"
        self._add(
            a,
            "GET",
            "health",
            lambda r: {"appId": "sandbox", "appEnv": "sandbox", "appVersion": "3", "bdcRegion": "local"},
        )
        self._add(a, "POST", "logout", self._logout)
        self._add(a, "GET", "login/session", self._session_info)
        self._add(a, "GET", "vendors", lambda r: page(s.rows(s.vendors), r.query, VENDOR_FIELDS))
        self._add(a, "POST", "vendors", lambda r: s.create_vendor(r.json()), 201)
        self._add(
            a,
            "POST",
            "vendors/bulk",
            lambda r: {"vendors": s.bulk_answer(s.bulk_create_vendors(r.json()))},
            201,
        )
        self._add(a, "GET", f"vendors/{ID}", lambda r, id: s.get_vendor(id))
        self._add(a, "PATCH", f"vendors/{ID}", lambda r, id: s.patch_vendor(id, r.json()))
        self._add(a, "POST", f"vendors/{ID}/archive", lambda r, id: s.set_vendor_archived(id, True))
        self._add(a, "POST", f"vendors/{ID}/restore", lambda r, id: s.set_vendor_archived(id, False))
        self._add(a, "GET", "bills", lambda r: page(s.rows(s.bills), r.query, BILL_FIELDS))
        self._add(a, "POST", "bills", lambda r: s.create_bills([r.json()], limit=1)[0], 201)
        self._add(a, "POST", "bills/bulk", lambda r: s.bulk_answer(s.create_bills(r.json(), limit=100)), 201)
        self._add(a, "GET", f"bills/{ID}", lambda r, id: s.get_bill(id))
        self._add(a, "PATCH", f"bills/{ID}", lambda r, id: s.update_bill(id, r.json(), replace=False))
        self._add(a, "PUT", f"bills/{ID}", lambda r, id: s.update_bill(id, r.json(), replace=True))
        self._add(a, "POST", "bills/record-payment", lambda r: self.payments.record_outside(r.json()))
        self._add(a, "POST", f"bills/{ID}/archive", lambda r, id: s.set_bill_archived(id, True))
        self._add(a, "POST", f"bills/{ID}/restore", lambda r, id: s.set_bill_archived(id, False))
        c = self.payments.credits
        self._add(a, "GET", "vendor-credits", lambda r: page(s.rows(c.table), r.query, VENDOR_CREDIT_FIELDS))
        self._add(a, "POST", "vendor-credits", lambda r: c.create([r.json()])[0], 201)
        self._add(
            a,
            "POST",
            "vendor-credits/bulk",
            lambda r: {"vendorCredits": s.bulk_answer(c.create(r.json(), 50))},
            201,
        )
        self._add(
            a,
            "POST",
            "vendor-credits/bulk/archive",
            lambda r: {"vendorCredits": c.archive([i for i in r.query.get("ids", "").split(",") if i])},
        )
        self._add(a, "GET", f"vendor-credits/{ID}", lambda r, id: c.get(id))
        self._add(a, "PATCH", f"vendor-credits/{ID}", lambda r, id: c.update(id, r.json(), replace=False))
        self._add(a, "PUT", f"vendor-credits/{ID}", lambda r, id: c.update(id, r.json(), replace=True))
        self._add(a, "POST", f"vendor-credits/{ID}/archive", lambda r, id: c.archive([id])[0])
        self._add(a, "GET", "payments", lambda r: page(s.rows(s.payments), r.query, PAYMENT_FIELDS))
        self._add(a, "POST", "payments", self._create_payment, 201)
        self._add(a, "GET", f"payments/{ID}", lambda r, id: s._copy(s.payments, id, "Payment"))
        self._add(a, "POST", f"payments/{ID}/cancel", lambda r, id: self.payments.move(id, "CANCELLED"))
        self._add(
            a,
            "POST",
            f"payments/{ID}/void",
            lambda r, id: self.payments.move(id, "VOID", str((r.json() or {}).get("reason", ""))),
        )
        self._add(
            a,
            "GET",
            f"classifications/{KIND}",
            lambda r, kind: page(s.rows(s.classifications[kind]), r.query, CLASSIFICATION_FIELDS),
        )
        self._add(
            a, "POST", f"classifications/{KIND}", lambda r, kind: s.create_classification(kind, r.json()), 201
        )
        self._add(
            a,
            "GET",
            f"classifications/{KIND}/{ID}",
            lambda r, kind, id: s._copy(s.classifications[kind], id, kind),
        )
        self._add(
            a,
            "GET",
            "funding-accounts/banks",
            lambda r: page(s.rows(s.bank_accounts), r.query, FUNDING_FIELDS),
        )

    def _route_events(self) -> None:
        h, e = self.hub, "connect-events"
        key = lambda r: r.headers.get("x-idempotent-key")  # noqa: E731
        self._add(e, "GET", "events/catalog", lambda r: [{"type": t, "versions": ["1"]} for t in EVENT_TYPES])
        self._add(e, "GET", "subscriptions", lambda r: {"results": [h.get(i) for i in list(h.subscriptions)]})
        self._add(e, "POST", "subscriptions", lambda r: h.idempotent(key(r), lambda: h.create(r.json())))
        self._add(e, "GET", f"subscriptions/{ID}", lambda r, id: h.get(id))
        self._add(e, "PATCH", f"subscriptions/{ID}", lambda r, id: h.update(id, r.json(), replace=False))
        self._add(e, "PUT", f"subscriptions/{ID}", lambda r, id: h.update(id, r.json(), replace=True))
        self._add(e, "DELETE", f"subscriptions/{ID}", lambda r, id: h.delete(id))
        # BILL's pages spell this endpoint both ways.
        for spelling in ("security_key", "security-key"):
            self._add(
                e,
                "POST",
                f"subscriptions/{ID}/{spelling}",
                lambda r, id: h.idempotent(key(r), lambda: h.rotate_key(id)),
            )
        self._add(e, "POST", f"subscriptions/{ID}/test", lambda r, id: h.test_event(id, r.json()))
        self._add(
            e,
            "GET",
            f"events/subscription/{ID}",
            lambda r, id: {"results": [ev for ev in list(h.events) if ev["subscriptionId"] == id]},
        )

    # --- special handlers ------------------------------------------------------------------------
    def _logout(self, req: Request) -> None:
        assert req.session is not None
        self.sessions.logout(req.session.session_id)

    def _session_info(self, req: Request) -> dict[str, Any]:
        assert req.session is not None
        return {
            "organizationId": req.session.org_id,
            "userId": req.session.user_id,
            "mfaStatus": "DISABLED",
            "mfaBypass": False,
        }

    def _create_payment(self, req: Request) -> dict[str, Any]:
        # Creating a payment needs an MFA-trusted session; the sandbox's sessions never are by default.
        if not self.trusted_sessions:
            raise ApiError(403, "BDC_1361", category="DOWNSTREAM")
        body = req.json() or {}
        bills = [{"billId": body.get("billId"), "amount": body.get("amount")}]
        try:
            return self.payments.pay(
                bills,
                status="SCHEDULED",
                process_date=body.get("processDate"),
                funding_account_id=(body.get("fundingAccount") or {}).get("id"),
                transaction_number=body.get("transactionNumber"),
            )
        except ApiError as exc:  # BILL tells subscribers about a create that failed
            self.payments.create_failed(body if isinstance(body, dict) else {}, exc)
            raise

    # --- the pipeline ----------------------------------------------------------------------------
    def _match(self, api: str, req: Request, sub_path: str) -> tuple[Handler, int, dict[str, str]]:
        for route_api, method, pattern, handler, status in self.routes:
            if route_api == api and method == req.method:
                m = pattern.match(sub_path)
                if m:
                    return handler, status, m.groupdict()
        raise ApiError(404, "BDC_1121")

    def _items(self, req: Request) -> int:
        if req.method == "GET":
            return 0
        if req.path.endswith("/bulk"):
            try:
                return len(loads(req.body) or [])
            except (ApiError, TypeError):
                return 1
        return 1

    def handle(self, req: Request) -> Answer:
        try:
            return self._handle(req)
        except ApiError as exc:
            return Answer(exc.status, exc.body())

    def _handle(self, req: Request) -> Answer:
        api, _, sub_path = req.path.lstrip("/").partition("/")
        sub_path = "/" + sub_path
        if api not in ("connect", "connect-events"):
            raise ApiError(404, "BDC_1121")
        if api == "connect" and req.method == "POST" and sub_path == "/v3/login":
            login_fault = self.faults.take_malformed(req.method, req.path)  # other kinds spare sign-ins
            if login_fault:
                return Answer(login_fault.status, raw=MALFORMED_BODY)
            body = req.json()
            org_id = str(body.get("organizationId", "")) if isinstance(body, dict) else ""
            dev_key = str(body.get("devKey", "")) if isinstance(body, dict) else ""
            with self.limits.slot(org_id, dev_key):
                self._pause(0)
                session = self.sessions.login(body)
            return Answer(
                200,
                {
                    "organizationId": session.org_id,
                    "sessionId": session.session_id,
                    "trusted": session.trusted,
                    "userId": session.user_id,
                },
            )
        handler, status, params = self._match(api, req, sub_path)
        if sub_path != "/v3/health":
            req.session = self.sessions.check(req.headers.get("devkey"), req.headers.get("sessionid"))
        fault: Fault | None = None
        with self.limits.slot(
            req.session.org_id if req.session else "-", req.session.dev_key if req.session else ""
        ):
            self._pause(self._items(req))
            fault = self.faults.take(req.method, req.path)
            if fault and fault.kind == "5xx":
                raise ApiError(fault.status, "BDC_1001", category="SERVER")
            if fault and fault.kind == "malformed":
                return Answer(fault.status, raw=MALFORMED_BODY)
            if fault and fault.commits_late:
                self._commit_later(fault.delay_seconds, handler, req, params)
                return Answer(0, fault=fault)
            if fault and not fault.after_commit:
                return Answer(0, fault=fault)
            result = handler(req, **params)
        return Answer(status, result, fault=fault)

    def _commit_later(self, delay: float, handler: Handler, req: Request, params: dict[str, str]) -> None:
        """The `commit_late` fault: the write is done `delay` seconds from now, its answer never sent."""

        def commit() -> None:
            if self._stop.wait(delay):
                return
            try:
                handler(req, **params)
            except ApiError:  # refused when it finally ran: nothing appears, as BILL would behave
                pass

        threading.Thread(target=commit, name="bill-commit-late", daemon=True).start()

    def _pause(self, items: int) -> None:
        delay = (self.latency_ms + self.per_item_ms * items) / 1000
        if delay > 0:
            self._stop.wait(delay)

    def stop(self) -> None:
        self._stop.set()

"""HTTP for the GP sandbox: Part B under /GPService/…, behind NTLM, and the control API under /_sandbox/."""

from __future__ import annotations

import re
import socket
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sandbox.common.httpserver import SandboxHandler

from . import auth, control_api
from .company import RESOURCES, GPCompany
from .store import GPFault, to_json

if TYPE_CHECKING:
    from .app import GPApp

# Parentheses may arrive percent-encoded (Companies%28…%29); they are decoded before matching.
_PATH = re.compile(
    r"^/GPService/Tenants\((?P<tenant>[^)/]*)\)/Companies\((?P<company>.*?)\)"
    r"/(?P<rest>(?:Purchasing|Financials|PostingServices|Administration)/.*)$"
)
# Tenant level: the help page listing resources (as SBA's /help does) and the companies the user may open.
_TENANT_PATH = re.compile(
    r"^/GPService/Tenants\((?P<tenant>[^)/]*)\)/(?P<what>help|Companies)/?$", re.IGNORECASE
)
_RESOURCE = re.compile(r"^(?P<res>[A-Za-z/]+?)(?:\((?P<key>.*)\))?(?:\.json)?$")
HELP_RESOURCES = (
    ("Purchasing/Vendors", "GET, POST, PATCH"),
    ("Purchasing/PayablesInvoices", "GET, POST, PATCH"),
    ("Purchasing/PayablesPayments", "GET, POST"),
    ("Purchasing/PayablesApplies", "GET, POST"),
    ("Purchasing/PurchaseOrders", "GET"),
    ("Financials/GLAccounts", "GET"),
    ("Financials/Checkbooks", "GET"),
    ("PostingServices/System/Batches", "POST (GP-Custom-Action: POST)"),
)
ADDRESS_RESOURCE = "Purchasing/VendorAddresses"  # served with the vendor_addresses=separate variant
_CREATE = {
    "Vendors": "create_vendor",
    "PayablesInvoices": "create_invoice",
    "PayablesPayments": "create_payment",
    "PayablesApplies": "create_apply",
}
_PATCH = {"Vendors": "patch_vendor", "PayablesInvoices": "patch_invoice"}


class GPHandler(SandboxHandler):
    label = ""

    @property
    def app(self) -> GPApp:
        return self.server.app  # type: ignore[attr-defined,no-any-return]

    def setup(self) -> None:
        super().setup()
        self.auth = auth.ConnectionAuth(channel_bindings=self.app.channel_bindings)
        # Headers and body go out in two writes; without this, Nagle's algorithm and the client's delayed
        # ACK add ~40 ms to every answer on loopback, which no real IIS server shows.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def stats_path(self) -> str:
        return self.label or self.url.path

    def send_payload(self, status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> None:
        self.send_bytes(status, to_json(payload), "application/json; charset=utf-8", headers or [])

    def send_error_json(
        self, status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None
    ) -> None:
        self.send_payload(
            status, {"Error": {"Code": code, "Message": message, "LogId": str(uuid.uuid4())}}, headers
        )

    def route(self) -> None:
        if self.url.path.rstrip("/") == "/_sandbox" or self.url.path.startswith("/_sandbox/"):
            self.label = self.url.path
            return control_api.handle(self)
        raw = re.sub("%28", "(", re.sub("%29", ")", self.url.path, flags=re.I), flags=re.I)
        tenant_level = _TENANT_PATH.match(raw)
        if tenant_level:
            self.label = tenant_level["what"]
            return self.tenant_level(tenant_level["tenant"], tenant_level["what"].lower())
        match = _PATH.match(raw)
        if not match:
            self.label = "(unknown)"
            return self.send_error_json(
                404, "NotFound", "Not a GP Service path: /GPService/Tenants(…)/Companies(…)/…"
            )
        rest = match["rest"]
        resource = _RESOURCE.match(rest)
        self.label = (
            (resource["res"] + ("({key})" if resource["key"] is not None else "")) if resource else rest
        )
        step = self.authenticate()
        if step is None:
            return None
        if unquote(match["tenant"]).casefold() != self.app.tenant.casefold():
            return self.send_error_json(
                404, "TenantNotFound", f"Tenant '{unquote(match['tenant'])}' does not exist."
            )
        company = self.app.find_company(unquote(match["company"]))
        if company is None:
            return self.send_error_json(
                404, "CompanyNotFound", f"Company '{unquote(match['company'])}' does not exist."
            )
        if not self.app.may_access(step.principal, company):
            return self.send_error_json(
                403, "AccessDenied", f"User {step.principal} has no access to company '{company.name}'."
            )
        fault = self.apply_latency_and_pick_fault()
        if fault in ("timeout", "reset"):
            return None
        if fault == "5xx":
            return self.send_error_json(
                503, "ServiceUnavailable", "The GP runtime is not available. Try again later."
            )
        if fault == "lock":
            return self.send_error_json(409, "RecordLocked", "The record is being edited by another user.")
        try:
            if resource is None:
                raise GPFault(404, "ResourceNotFound", f"'{rest}' is not a GP Service resource.")
            self.gp(
                company, resource["res"], unquote(resource["key"]) if resource["key"] is not None else None
            )
        except GPFault as fault_answer:
            self.send_error_json(fault_answer.status, fault_answer.code, fault_answer.message)
        except ValueError as exc:  # a body that is not JSON
            self.send_error_json(400, "InvalidRequest", str(exc))

    def authenticate(self) -> Any:
        """The NTLM step for this request; None once a 401 (challenge or refusal) has been sent."""
        step = auth.step(self.auth, self.headers.get("Authorization"), self.app.users)
        if step.principal is None:
            challenge = (
                [("WWW-Authenticate", step.challenge)]
                if step.challenge
                else [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "NTLM")]
            )
            message = (
                "Authentication continues." if step.challenge else "The user name or password is incorrect."
            )
            self.send_error_json(401, "Unauthorized", message, challenge)
            return None
        return step

    def tenant_level(self, tenant: str, what: str) -> None:
        step = self.authenticate()
        if step is None:
            return None
        if unquote(tenant).casefold() != self.app.tenant.casefold():
            return self.send_error_json(404, "TenantNotFound", f"Tenant '{unquote(tenant)}' does not exist.")
        if self.command != "GET":
            return self.send_error_json(405, "MethodNotAllowed", f"{self.command} is not supported here.")
        if what == "companies":
            names = [
                n
                for n in self.app.company_names
                if (c := self.app.find_company(n)) and self.app.may_access(step.principal, c)
            ]
            return self.send_payload(
                200,
                self.app.variant.list_answer(
                    "",
                    [{"Key": {"Id": n}, "Name": n} for n in names],
                    {"Top": len(names), "Skip": 0, "Total": len(names)},
                ),
            )
        listed = HELP_RESOURCES + (
            ((ADDRESS_RESOURCE, "GET"),) if self.app.variant.separate_addresses else ()
        )
        items = "".join(f"<li><code>{path}</code> {verbs}</li>" for path, verbs in listed)
        head = "<html><head><title>GP Service help</title></head>"
        page = f"{head}<body><h1>Resources</h1><ul>{items}</ul></body></html>"
        return self.send_bytes(200, page.encode(), "text/html; charset=utf-8", [])

    def gp(self, company: GPCompany, resource: str, key: str | None) -> None:
        method = self.command
        if key is not None:
            key = key.strip("'")
        if resource == "PostingServices/System/Batches":
            if method != "POST" or self.headers.get("GP-Custom-Action", "").upper() != "POST" or not key:
                raise GPFault(
                    400,
                    "InvalidAction",
                    "Post a batch with POST …/Batches({source};{batch}) and GP-Custom-Action: POST.",
                )
            source, _, batch = key.partition(";")
            return self.send_payload(200, self.app.variant.one_answer("", company.post_batch(source, batch)))
        variant = self.app.variant
        if resource == ADDRESS_RESOURCE and variant.separate_addresses:
            if method != "GET" or key is not None:
                raise GPFault(
                    405,
                    "MethodNotAllowed",
                    f"{method} is not supported on {resource}; list it with a $filter.",
                )
            rows, paging = company.vendor_address_rows(self.query)
            return self.send_payload(200, variant.list_answer("", rows, paging))
        table = RESOURCES.get(resource)
        if table is None:
            raise GPFault(404, "ResourceNotFound", f"'{resource}' is not a GP Service resource.")
        if method == "GET":
            if key is not None:
                return self.send_payload(200, variant.one_answer(table, company.get(table, key)))
            rows, paging = company.list(table, self.query)
            return self.send_payload(200, variant.list_answer(table, rows, paging))
        body = self.json_body(parse_float=Decimal)
        if not isinstance(body, dict):
            raise GPFault(400, "InvalidRequest", "The request body must be a JSON object.")
        if table == "Vendors":
            body = variant.vendor_body(body)
        if method == "POST" and key is None and table in _CREATE:
            record = getattr(company, _CREATE[table])(body)
            return self.send_payload(
                201, variant.one_answer(table, record), [("Location", f"{resource}({record['Key']['Id']})")]
            )
        if method == "PATCH" and key is not None and table in _PATCH:
            return self.send_payload(
                200, variant.one_answer(table, getattr(company, _PATCH[table])(key, body))
            )
        raise GPFault(405, "MethodNotAllowed", f"{method} is not supported on {resource}.")

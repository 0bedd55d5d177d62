"""HTTP for the Web Services sandbox: `…/DynamicsGPService.asmx` (WSDL, XSD and SOAP calls) behind
Windows authentication, and the control API under /_sandbox/ (the SBA sandbox's, plus the import of a
manual-payments file as a GP user would run it in Integration Manager)."""

from __future__ import annotations

import logging
import socket
from typing import Any

from sandbox.gp import auth, control_api
from sandbox.gp.handler import GPHandler
from sandbox.gp.store import GPFault

from . import importer, schema
from .service import Service, WSFault

log = logging.getLogger(__name__)
ENDPOINT = "/dynamicsgpwebservices/dynamicsgpservice.asmx"
IMPORT_PATH = "/_sandbox/import/manual-payments"


def company_id(position: int) -> int:
    """GP's company IDs: the first (sample) company is -1 as in Microsoft's examples, then 1, 2, …"""
    return -1 if position == 0 else position


class GPWSHandler(GPHandler):
    def setup(self) -> None:
        super().setup()
        # NTLM over TLS binds to *this* server's certificate, not the shared SBA sandbox's.
        self.auth.channel_bindings = getattr(self.server, "channel_bindings", None)
        # One call per record (Get…ByKey) makes many small answers: without this, Nagle's algorithm and
        # the client's delayed ACK add ~40 ms to each on loopback, which no real IIS server shows.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def service(self) -> Service:
        return self.server.service  # type: ignore[attr-defined,no-any-return]

    def route(self) -> None:
        path = self.url.path
        if path.rstrip("/") == IMPORT_PATH:
            self.label = IMPORT_PATH
            return self._import()
        if path.rstrip("/") == "/_sandbox" or path.startswith("/_sandbox/"):
            self.label = path
            return control_api.handle(self)
        if path.lower() != ENDPOINT:
            self.label = "(unknown)"
            return self.send_bytes(
                404, b"<html><body>404 - File or directory not found.</body></html>", "text/html"
            )
        self.label = "DynamicsGPService.asmx"
        step = auth.step(self.auth, self.headers.get("Authorization"), self.app.users)
        if step.principal is None:  # IIS answers before ASP.NET: a plain 401, never a SOAP fault
            challenge = (
                [("WWW-Authenticate", step.challenge)]
                if step.challenge
                else [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "NTLM")]
            )
            return self.send_bytes(
                401, b"<html><body>401 - Unauthorized</body></html>", "text/html", challenge
            )
        if self.command == "GET":
            return self._describe()
        if self.command != "POST":
            return self.send_bytes(405, b"", "text/html")
        fault = self.apply_latency_and_pick_fault()
        if fault in ("timeout", "reset"):
            return None
        if fault == "5xx":
            return self.send_bytes(503, b"<html><body>Service Unavailable</body></html>", "text/html")
        try:
            operation, params = schema.parse_request(self.body)
            self.label = f"DynamicsGPService.asmx/{operation}"
            if fault == "lock":
                raise WSFault("The record is being edited by another user. Try again later.", code="Server")
            result = self._call(step.principal, operation, params)
        except WSFault as error:
            return self._fault(error)
        except ValueError as exc:
            return self._fault(WSFault(f"The request could not be read: {exc}"))
        self.send_bytes(200, schema.render_response(operation, result), "text/xml; charset=utf-8")

    def _describe(self) -> None:
        query = self.url.query.lower()
        if query == "wsdl":
            host = self.headers.get("Host") or self.server.url.split("//", 1)[1]
            scheme = self.server.url.split(":", 1)[0]
            return self.send_bytes(
                200, schema.wsdl_text(f"{scheme}://{host}{self.url.path}"), "text/xml; charset=utf-8"
            )
        if query.startswith("xsd="):
            text = schema.xsd_text(query[4:])
            if text is not None:
                return self.send_bytes(200, text, "text/xml; charset=utf-8")
        return self.send_bytes(
            200, b"<html><body>DynamicsGP Web Service (sandbox). Add ?wsdl.</body></html>", "text/html"
        )

    def _call(self, principal: str, operation: str, params: dict[str, Any]) -> Any:
        if operation not in schema.operations():
            raise WSFault(f"The operation {operation} is not supported by this service.")
        allowed = [
            (company_id(n), name)
            for n, name in enumerate(self.app.company_names)
            if self.app.may_access(principal, self.app.company(name))
        ]
        if operation == "GetCompanyList":
            return {"CompanySummary": [{"Key": {"Id": cid}, "Name": name} for cid, name in allowed]}
        context = params.get("context") or {}
        key = context.get("OrganizationKey") or {}
        if not isinstance(key.get("Id"), int):
            raise WSFault(
                "The context must name the company with a CompanyKey (an integer Id); "
                "GetCompanyList gives the IDs."
            )
        name = next((n for cid, n in allowed if cid == key["Id"]), None)
        if name is None:
            known = any(company_id(n) == key["Id"] for n in range(len(self.app.company_names)))
            raise WSFault(
                f"Access denied: user {principal} is not authorized for company {key['Id']}."
                if known
                else f"The company {key['Id']} was not found."
            )
        return self.service.call(operation, self.app.company(name), params)

    def _fault(self, error: WSFault) -> None:
        if error.code == "Client" or error.validation:
            self.service.validation_log.log(error)
        log.debug("GP Web Services fault: %s", error.message)
        body = schema.render_fault(error.code, error.message, error.log_id)
        self.send_bytes(500, body, "text/xml; charset=utf-8")

    def _import(self) -> None:
        if self.command != "POST":
            return self.send_error_json(405, "MethodNotAllowed", "POST the CSV file.")
        try:
            company = self.app.company(self.query.get("company") or None)
            result = importer.import_manual_payments(company, self.body.decode("utf-8-sig"))
        except (GPFault, ValueError, UnicodeDecodeError) as exc:
            return self.send_error_json(400, "InvalidFile", str(getattr(exc, "message", exc)))
        self.send_payload(200, {"Payload": result})

"""`GPWSClient`: the `GPClient` interface over GP Web Services (SOAP via zeep), on the same NTLM
`requests` session as SBA (`connectors.gp.http.GPHttp`).

Lists: a GetList answers at most 1,000 summaries and ModifiedDate is not an index in GP, so lists
walk ModifiedDate in windows: a window that comes back full is halved until it is not (down to one
second, then paged by key within that second). Full records come from Get…ByKey, one call each.
Writes: UpdateVendor (with its policy) only; Web Services has no method to create or post a payables
manual payment, so `writes_payments` is False and the payment flow takes the manual way.
Invoices: the open amount comes from the documented TotalPayments, WriteoffAmount and terms discount
taken (`convert.open_amount`); no documented property carries a hold flag, so an invoice's hold is "not
known" (`GPInvoice.hold_known` False) and the bill flow keeps it back unless the tenant accepted that.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

import requests
from zeep import Client, Settings
from zeep.exceptions import Fault, TransportError, XMLSyntaxError
from zeep.helpers import serialize_object
from zeep.transports import Transport

from connectors.gp.client import explain
from connectors.gp.http import GPError, GPHttp, RelayFailure, refuse_unsafe_address
from connectors.gp.records import (
    GPCheckbook,
    GPGLAccount,
    GPInvoice,
    GPPayment,
    GPVendor,
    text,
)
from connectors.relay.adapter import AgentAdapter

from . import convert
from . import ws_map as ws

if TYPE_CHECKING:
    from connectors.models import GPConnection

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_OVERLAP = dt.timedelta(minutes=5)
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
ONE_SECOND = dt.timedelta(seconds=1)


def default_endpoint(base_url: str) -> str:
    """The legacy endpoint on the SBA URL's host, at GP Web Services' default port."""
    host = urlparse(base_url).hostname or "localhost"
    return f"http://{host}:{ws.DEFAULT_PORT}{ws.LEGACY_PATH}"


class GPWSClient:
    interface = "web_services"
    writes_payments = False  # no Web Services method creates a payables manual payment
    reads_apply_lines = False  # a posted payment summary carries no apply lines

    def __init__(self, http: GPHttp, company: str, list_limit: int = ws.LIST_LIMIT) -> None:
        self.http, self.company, self.list_limit = http, company, list_limit
        self._client: Client | None = None
        self._relayed_service: Any = None  # through an agent: the service bound to the relayed URL
        self._context: dict[str, Any] | None = None
        self._policies: dict[str, Any] = {}

    @classmethod
    def for_connection(cls, conn: GPConnection, **options: Any) -> GPWSClient:
        options.pop("page_size", None)
        url = (getattr(conn, "web_services_url", "") or "").strip() or default_endpoint(conn.base_url)
        refuse_unsafe_address(url)
        if conn.route == conn.ROUTE_AGENT:  # the agent runs the SOAP calls against its GP Web Services URL
            options.setdefault("adapter", AgentAdapter(conn.tenant_id, url, service="web_services"))
        http = GPHttp(
            url,
            "",
            conn.company,
            conn.account,
            conn.password or "",
            verify_tls=conn.verify_tls,
            ca_bundle_pem=conn.ca_bundle_pem or "",
            timeout=float(conn.timeout_seconds),
            **options,
        )
        return cls(http, conn.company)

    def close(self) -> None:
        self.http.close()

    # --- the SOAP seam ---------------------------------------------------------------------------------
    def _service(self) -> Any:
        if self._client is None:
            transport = _VerifyingTransport(
                self.http,
                session=self.http.session,
                timeout=self.http.timeout,
                operation_timeout=self.http.timeout,
            )
            self._client = Client(
                self.http.base_url + ws.WSDL_QUERY,
                transport=transport,
                settings=Settings(strict=True, xml_huge_tree=True),
            )
            if getattr(self.http, "relayed", False):
                # Through an agent the WSDL names GP's address on the customer's network, which the
                # connector cannot reach: every call goes to the relayed URL, which the agent maps back.
                port = next(iter(next(iter(self._client.wsdl.services.values())).ports.values()))
                self._relayed_service = self._client.create_service(port.binding.name, self.http.base_url)
        return self._relayed_service or self._client.service

    def call(
        self, operation: str, *, tries: int | None = None, with_context: bool = True, **params: Any
    ) -> Any:
        """One operation with GP's errors as GPError; reads (and UpdateVendor, which sets values) are retried
        while GP says trying again can help."""
        if self.http.read_only and not operation.startswith(ws.READ_OPERATION_PREFIXES):
            raise GPError(
                f"A preview or drift report only reads: it refused to call {operation} in GP.",
                retryable=False,
                code="read_only",
            )
        tries = tries or self.http.max_tries

        def once() -> Any:
            try:
                if with_context:
                    params["context"] = self.context()
                self.http.request_count += 1
                answer = getattr(self._service(), operation)(**params)
                return serialize_object(answer, dict)
            except GPError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure leaves as a GPError
                raise self._error(exc) from None

        def note(error: GPError, n: int, delay: float) -> None:
            log.info(
                "GP Web Services %s failed (%s); try %d of %d in %.1fs",
                operation,
                error.code,
                n + 2,
                tries,
                delay,
            )

        return self.http.backoff(tries).retry(once, GPError, lambda error: error.retryable, note)

    def _error(self, exc: Exception) -> GPError:
        h = self.http
        if isinstance(exc, Fault):
            return self._fault_error(exc)
        if isinstance(exc, RelayFailure):  # through an agent: its errors mean what a direct call's do
            return GPError(exc.message, retryable=exc.retryable, code=exc.code)
        if isinstance(exc, (TransportError, requests.exceptions.HTTPError)):
            # zeep raises TransportError for a call's HTTP error; loading the WSDL raises requests' own.
            status = exc.status_code if isinstance(exc, TransportError) else exc.response.status_code
            if status == 401:
                return GPError(
                    f"GP refused the Windows account {h.account}: the user name or password is wrong.",
                    retryable=False,
                    status=401,
                    code="auth",
                )
            if status == 403:
                return GPError(
                    f"The Windows account {h.account} may not use GP Web Services.",
                    retryable=False,
                    status=403,
                    code="forbidden",
                )
            if status == 404:
                return GPError(
                    f"There is no GP Web Services endpoint at {h.base_url}.",
                    retryable=False,
                    status=404,
                    code="no_web_services",
                )
            if status >= 500:
                return GPError(
                    f"GP Web Services answered with a server error ({status}); try again later.",
                    retryable=True,
                    status=status,
                    code="server",
                )
            return GPError(
                f"GP Web Services answered with HTTP {status}.", retryable=False, status=status, code="http"
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return h._tls_error(exc)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return GPError(
                f"The GP server at {h.host} did not accept a connection in time.",
                retryable=True,
                code="unreachable",
            )
        if isinstance(exc, requests.exceptions.Timeout):
            return GPError(
                f"The GP server at {h.host} did not answer within {h.timeout:g} seconds.",
                retryable=True,
                code="timeout",
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            return h._connection_error(exc)
        if isinstance(exc, XMLSyntaxError):
            return GPError(
                f"{h.base_url} did not answer with GP Web Services' description (WSDL).",
                retryable=False,
                code="no_web_services",
            )
        return GPError(f"GP Web Services could not be used: {exc}", retryable=False, code="bad_response")

    def _fault_error(self, fault: Fault) -> GPError:
        message = str(fault.message or "GP refused the call.")
        log_id = None
        detail = fault.detail
        if isinstance(detail, bytes | str):  # an error page, not a SOAP fault (e.g. IIS's 503)
            return GPError(
                "GP Web Services answered with a server error; try again later.",
                retryable=True,
                code="server",
            )
        if detail is not None:
            found = [
                e.text for e in detail.iter() if isinstance(e.tag, str) and e.tag.endswith(ws.FAULT_LOG_ID)
            ]
            log_id = (found[0] or "").strip() if found else None
        lowered = message.lower()
        code, retryable = "validation", False
        if ws.FAULT_CODES["locked"] in lowered:
            code, retryable = "locked", True
        elif "access denied" in lowered:
            code = "forbidden"
        elif "company" in lowered and ws.FAULT_CODES["not_found"] in lowered:
            code = "company_not_found"
        elif ws.FAULT_CODES["not_found"] in lowered:
            code = "not_found"
        said = self._validation_text(log_id) if log_id and code == "validation" else ""
        return GPError(
            f"GP Web Services refused the call. GP said: {said or message}",
            retryable=retryable,
            status=500,
            code=code,
            gp_code="SoapFault",
            log_id=log_id,
        )

    def _validation_text(self, log_id: str) -> str:
        """GP's logged validation errors for a fault, in its own words (best effort: the fault stands
        alone)."""
        try:
            result = self.call(ws.GET_LOGGED_VALIDATION_RESULT, tries=1, logId=log_id) or {}
        except GPError:
            return ""
        errors = _rows(result.get(ws.VALIDATION_ERRORS), "ValidationError")
        return "; ".join(str(e.get(ws.VALIDATION_MESSAGE) or "") for e in errors if e)

    def offered_operations(self) -> list[str]:
        """The operations the server's WSDL describes (what the fit check holds against `ws.NEEDED`)."""
        try:
            self._service()
        except GPError:
            raise
        except Exception as exc:  # noqa: BLE001 - loading the WSDL fails as requests or zeep errors
            raise self._error(exc) from None
        names: set[str] = set()
        for service in self._client.wsdl.services.values():  # type: ignore[union-attr]
            for port in service.ports.values():
                names.update(port.binding.all())
        return sorted(names)

    def _company_rows(self) -> list[dict[str, Any]]:
        base = {"CultureName": ws.CULTURE, "CurrencyType": ws.CURRENCY_TYPE_LOCAL}
        return _rows(
            self.call(ws.GET_COMPANY_LIST, criteria={}, with_context=False, context=base), "CompanySummary"
        )

    def companies(self) -> list[str]:
        """The names of the companies this Windows account may use."""
        return [text(c.get(ws.Company.NAME)) for c in self._company_rows()]

    def context(self) -> dict[str, Any]:
        """The Context of every call: the company as an integer CompanyKey, resolved once by name."""
        if self._context is None:
            base = {"CultureName": ws.CULTURE, "CurrencyType": ws.CURRENCY_TYPE_LOCAL}
            rows = self._company_rows()
            match = next(
                (
                    c
                    for c in rows
                    if text(c.get(ws.Company.NAME)).casefold() == self.company.strip().casefold()
                ),
                None,
            )
            if not rows:
                raise GPError(
                    f"The Windows account {self.http.account} signs in, but may use no GP company.",
                    retryable=False,
                    code="forbidden",
                )
            if match is None:
                raise GPError(
                    f"GP has no company named '{self.company}' that {self.http.account} may use "
                    f"(GP Web Services lists: {', '.join(text(c.get('Name')) for c in rows) or 'none'}).",
                    retryable=False,
                    code="company_not_found",
                )
            key_type = self._client.get_type(ws.COMPANY_KEY_TYPE)  # type: ignore[union-attr]
            self._context = {**base, "OrganizationKey": key_type(Id=int(match[ws.Company.KEY][ws.ID]))}
        return self._context

    # --- lists ---------------------------------------------------------------------------------------------
    def _summaries(
        self,
        operation: str,
        result_name: str,
        criteria: dict[str, Any],
        id_field: str,
        since: dt.datetime | None,
    ) -> Iterator[dict[str, Any]]:
        """Every summary matching `criteria` modified since `since`, oldest first, through the 1,000 cap."""
        windows = [(since or EARLIEST, dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1))]
        while windows:
            low, high = windows.pop()
            rows = self._list(
                operation, result_name, {**criteria, ws.C_MODIFIED: {ws.R_FROM: low, ws.R_TO: high}}
            )
            if len(rows) >= self.list_limit:
                if high - low > ONE_SECOND:
                    windows += _split(low, high, rows)
                    continue
                rows = self._by_key_within(operation, result_name, criteria, id_field, low, high)
            yield from sorted(
                rows, key=lambda r: (convert._stamp(r.get(ws.MODIFIED)) or "", text(r.get(ws.KEY)))
            )

    def _by_key_within(
        self,
        operation: str,
        result_name: str,
        criteria: dict[str, Any],
        id_field: str,
        low: dt.datetime,
        high: dt.datetime,
    ) -> list[dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        after = ""
        while True:
            page = self._list(
                operation,
                result_name,
                {
                    **criteria,
                    ws.C_MODIFIED: {ws.R_FROM: low, ws.R_TO: high},
                    id_field: {ws.R_FROM: after} if after else None,
                },
            )
            fresh = [r for r in page if text(r.get(ws.KEY)) not in rows]
            rows.update({text(r.get(ws.KEY)): r for r in fresh})
            if len(page) < self.list_limit or not fresh:
                return list(rows.values())
            after = max(text(r.get(ws.KEY)) for r in page)

    def _list(self, operation: str, result_name: str, criteria: dict[str, Any]) -> list[dict[str, Any]]:
        return _rows(
            self.call(operation, criteria={k: v for k, v in criteria.items() if v is not None}), result_name
        )

    def iter_vendors(
        self, modified_since: dt.datetime | None = None, overlap: dt.timedelta = DEFAULT_OVERLAP
    ) -> Iterator[GPVendor]:
        for row in self._summaries(
            ws.GET_VENDOR_LIST, "VendorSummary", {}, ws.C_ID, _since(modified_since, overlap)
        ):
            vendor = self.get_vendor(text(row.get(ws.KEY)))
            if vendor is not None:
                yield vendor

    def iter_invoices(
        self,
        modified_since: dt.datetime | None = None,
        overlap: dt.timedelta = DEFAULT_OVERLAP,
        state: str | None = None,
    ) -> Iterator[GPInvoice]:
        criteria = {ws.C_STATE: {ws.R_EQUAL: state}} if state else {}
        for row in self._summaries(
            ws.GET_PAYABLES_INVOICE_LIST,
            "PayablesInvoiceSummary",
            criteria,
            ws.C_DOCUMENT_ID,
            _since(modified_since, overlap),
        ):
            invoice = self.get_invoice(text(row.get(ws.KEY)))
            if invoice is not None:
                yield invoice

    def iter_payments(
        self,
        modified_since: dt.datetime | None = None,
        overlap: dt.timedelta = DEFAULT_OVERLAP,
        vendor_id: str | None = None,
    ) -> Iterator[GPPayment]:
        """Posted payments only: Web Services lists no unposted manual payments."""
        criteria: dict[str, Any] = {ws.C_SCOPE: ws.SCOPE_ALL}
        if vendor_id:
            criteria[ws.C_VENDOR_ID] = {ws.R_EQUAL: vendor_id}
        for row in self._summaries(
            ws.GET_POSTED_PAYMENTS_LIST,
            "PostedPayablesVendorPaymentSummary",
            criteria,
            ws.C_DOCUMENT_ID,
            _since(modified_since, overlap),
        ):
            yield GPPayment.from_gp(convert.posted_payment(row))

    def iter_gl_accounts(self) -> Iterator[GPGLAccount]:
        for row in self._summaries(ws.GET_GL_ACCOUNT_LIST, "GLAccountSummary", {}, ws.C_ID, None):
            yield GPGLAccount.from_gp(convert.gl_account(row))

    def iter_checkbooks(self) -> Iterator[GPCheckbook]:
        for row in self._summaries(ws.GET_CHECKBOOK_LIST, "CheckbookSummary", {}, ws.C_ID, None):
            yield GPCheckbook.from_gp(convert.checkbook(row))

    # --- single records
    # --------------------------------------------------------------------------------------
    def _by_key(
        self,
        operation: str,
        key: str,
        parse: Callable[[dict[str, Any]], T],
        to_raw: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> T | None:
        try:
            answer = self.call(operation, key={ws.ID: key.strip()})
        except GPError as error:
            if error.code == "not_found":
                return None
            raise
        return parse(to_raw(answer)) if answer else None

    def get_vendor(self, vendor_id: str) -> GPVendor | None:
        return self._by_key(ws.GET_VENDOR_BY_KEY, vendor_id, GPVendor.from_gp, convert.vendor)

    def get_invoice(self, voucher: str) -> GPInvoice | None:
        return self._by_key(ws.GET_PAYABLES_INVOICE_BY_KEY, voucher, GPInvoice.from_gp, convert.invoice)

    def get_payment(self, payment_number: str) -> GPPayment | None:
        """A posted payment by its payment number (Web Services shows no unposted ones)."""
        rows = self._list(
            ws.GET_POSTED_PAYMENTS_LIST,
            "PostedPayablesVendorPaymentSummary",
            {ws.C_SCOPE: ws.SCOPE_ALL, ws.C_DOCUMENT_ID: {ws.R_EQUAL: payment_number}},
        )
        return GPPayment.from_gp(convert.posted_payment(rows[0])) if rows else None

    # --- writes
    # ----------------------------------------------------------------------------------------------
    def patch_vendor(self, vendor_id: str, fields: dict[str, Any]) -> None:
        """UpdateVendor with only the changed elements (GP keeps what is left out), under its policy."""
        self.call(
            ws.UPDATE_VENDOR,
            vendor=convert.vendor_update(vendor_id, fields),
            policy=self._policy(ws.POLICY_UPDATE_VENDOR),
        )

    def _policy(self, operation: str) -> Any:
        if operation not in self._policies:
            self._policies[operation] = self.call(ws.GET_POLICY_BY_OPERATION, operationName=operation)
        return self._policies[operation]

    def create_payment(self, *args: Any, **kwargs: Any) -> GPPayment:
        raise GPError(
            "Payments cannot be written back over GP Web Services: it has no method to create a "
            "payables manual payment.",
            retryable=False,
            code="unsupported",
        )

    def post_batch(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise GPError("Batches cannot be posted over GP Web Services.", retryable=False, code="unsupported")

    def get_apply(self, key: str) -> None:
        """GP Web Services has no payables apply (credit memo to invoice): nothing the connector made
        exists."""
        return None

    def create_apply(self, *args: Any, **kwargs: Any) -> Any:
        raise GPError(
            "Credit memos cannot be applied over GP Web Services: it has no method to apply payables "
            "documents. Apply it in GP (Transactions › Purchasing › Apply Payables Documents).",
            retryable=False,
            code="unsupported",
        )

    # --- diagnosis
    # -------------------------------------------------------------------------------------------
    def test_connection(self) -> str | None:
        """None when GP Web Services answers for this company; else one sentence saying what is wrong."""
        try:
            self.context()
            self.call(ws.GET_VENDOR_LIST, tries=1, criteria={ws.C_ID: {ws.R_EQUAL: ""}})
        except GPError as error:
            if error.code == "no_web_services":
                return error.message
            return explain(error, self.http)
        return None

    limitations = (
        "Payments cannot be written back over GP Web Services: each BILL payment becomes a "
        "'record in GP' task and a line of the manual-payments import file."
    )


class _VerifyingTransport(Transport):
    """zeep's transport, passing the connection's TLS verification on every call: a Session-level
    `verify` is overridden by REQUESTS_CA_BUNDLE (requests #3829), as GPHttp notes. Its session is the
    calling thread's (`GPHttp.session`: NTLM's handshake must stay on one thread's connections)."""

    def __init__(self, http: GPHttp, **kwargs: Any) -> None:
        self._http = http
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]  # zeep ships no type hints
        self.verify = http.verify

    @property
    def session(self) -> requests.Session:
        return self._http.session

    @session.setter
    def session(self, value: requests.Session) -> None:
        pass  # zeep sets the session it was given; the calling thread's is used instead

    def post(self, address: str, message: Any, headers: dict[str, str]) -> requests.Response:
        response: requests.Response = self.session.post(
            address, data=message, headers=headers, timeout=self.operation_timeout, verify=self.verify
        )
        return response

    def _load_remote_data(self, url: str) -> bytes:
        response: requests.Response = self.session.get(url, timeout=self.load_timeout, verify=self.verify)
        response.raise_for_status()
        return response.content


def _split(
    low: dt.datetime, high: dt.datetime, rows: list[dict[str, Any]]
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Two windows for a full one, cut at the median change time of the rows GP did return (a sample of
    the window, as GP cuts by key), so a dense second is isolated in a few calls; newer half first (a
    stack)."""
    stamps = sorted(m for m in (_moment(r.get(ws.MODIFIED)) for r in rows) if m is not None)
    middle = stamps[len(stamps) // 2] if stamps else low + (high - low) / 2
    middle = min(max(middle.replace(microsecond=0), low), high - ONE_SECOND)
    return [(middle + ONE_SECOND, high), (low, middle)]


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def _since(modified_since: dt.datetime | None, overlap: dt.timedelta) -> dt.datetime | None:
    if modified_since is None:
        return None
    if modified_since.tzinfo is None:
        raise ValueError("modified_since must be timezone-aware (GP's ModifiedDate is UTC)")
    return (modified_since - overlap).astimezone(dt.UTC).replace(microsecond=0)


def _rows(answer: Any, name: str) -> list[dict[str, Any]]:
    """The items of an ArrayOf… answer (zeep gives the list itself when the array is the only child)."""
    if isinstance(answer, list):
        return answer
    return list((answer or {}).get(name) or []) if isinstance(answer, dict) else []

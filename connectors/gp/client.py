"""`GPClient`: what the sync flows ask of GP. Lists stream page by page and are incremental on
ModifiedDate; writes are a manual payment with apply lines, posting a batch, and patching a vendor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from . import resource_map as rm
from .http import GPError, GPHttp
from .records import GPCheckbook, GPGLAccount, GPInvoice, GPPayment, GPPurchaseOrder, GPVendor, moment, text

if TYPE_CHECKING:
    from connectors.models import GPConnection

T = TypeVar("T")
DEFAULT_OVERLAP = dt.timedelta(minutes=5)


class GPClient:
    def __init__(self, http: GPHttp, page_size: int = rm.PAGE_SIZE) -> None:
        self.http = http
        self.page_size = max(1, min(page_size, rm.MAX_TOP))

    @classmethod
    def for_connection(cls, conn: GPConnection, **options: Any) -> GPClient:
        """The client for a saved GPConnection (NTLM with its domain account)."""
        page_size = options.pop("page_size", rm.PAGE_SIZE)
        http = GPHttp(conn.base_url, conn.gp_tenant, conn.company, conn.account, conn.password or "",
                      verify_tls=conn.verify_tls, ca_bundle_pem=conn.ca_bundle_pem or "",
                      timeout=float(conn.timeout_seconds), **options)
        return cls(http, page_size=page_size)

    @classmethod
    def from_params(cls, base_url: str, tenant: str, company: str, account: str, password: str,
                    page_size: int = rm.PAGE_SIZE, **options: Any) -> GPClient:
        return cls(GPHttp(base_url, tenant, company, account, password, **options), page_size=page_size)

    def close(self) -> None:
        self.http.close()

    # --- incremental lists ---------------------------------------------------------------------------
    def iter_vendors(self, modified_since: dt.datetime | None = None,
                     overlap: dt.timedelta = DEFAULT_OVERLAP) -> Iterator[GPVendor]:
        return self._walk(rm.VENDORS, [], _since(modified_since, overlap), GPVendor.from_gp)

    def iter_invoices(self, modified_since: dt.datetime | None = None, overlap: dt.timedelta = DEFAULT_OVERLAP,
                      state: str | None = None) -> Iterator[GPInvoice]:
        extra = [rm.STATE_IS.format(state=_quote_literal(state))] if state else []
        return self._walk(rm.PAYABLES_INVOICES, extra, _since(modified_since, overlap), GPInvoice.from_gp)

    def iter_payments(self, modified_since: dt.datetime | None = None, overlap: dt.timedelta = DEFAULT_OVERLAP,
                      vendor_id: str | None = None) -> Iterator[GPPayment]:
        extra = [rm.VENDOR_IS.format(vendor_id=_quote_literal(vendor_id))] if vendor_id else []
        return self._walk(rm.PAYABLES_PAYMENTS, extra, _since(modified_since, overlap), GPPayment.from_gp)

    def iter_gl_accounts(self) -> Iterator[GPGLAccount]:
        return self._walk(rm.GL_ACCOUNTS, [], None, GPGLAccount.from_gp)

    def iter_checkbooks(self) -> Iterator[GPCheckbook]:
        return self._walk(rm.CHECKBOOKS, [], None, GPCheckbook.from_gp)

    def iter_purchase_orders(self, modified_since: dt.datetime | None = None,
                             overlap: dt.timedelta = DEFAULT_OVERLAP) -> Iterator[GPPurchaseOrder]:
        return self._walk(rm.PURCHASE_ORDERS, [], _since(modified_since, overlap), GPPurchaseOrder.from_gp)

    def _walk(self, resource: str, extra: list[str], since: str | None, parse: Callable[[dict], T]) -> Iterator[T]:
        """Page through `ModifiedDate ge since` in (ModifiedDate, Key) order, one page in memory.

        Each page re-queries from the newest ModifiedDate seen and skips the records already seen at
        that instant, re-reading the last one as an anchor. Records sharing a ModifiedDate across a page
        boundary are thus neither skipped nor repeated, and if a record seen at that instant changes
        meanwhile (moving the rest up by one), the missing anchor shows it and the instant is re-read.
        """
        cursor, seen, offset = since, set(), 0  # seen: keys yielded at `cursor`; offset: rows consumed in `ge cursor`
        cursor_at = moment(since)
        while True:
            anchored = offset > 0  # re-read the last row seen as an anchor, on top of a full page
            top = min(self.page_size + anchored, rm.MAX_TOP)
            rows = self._page(resource, extra, cursor, offset - 1 if anchored else 0, top)
            if anchored:
                first = rows[0] if rows else {}
                if moment(first.get(rm.MODIFIED)) != cursor_at or text(first.get(rm.KEY)) not in seen:
                    offset = 0  # the listing shifted under us: re-read this instant, `seen` drops repeats
                    continue
                page, rows = rows, rows[1:]
            else:
                page = rows
            for row in rows:
                at, key = moment(row.get(rm.MODIFIED)), text(row.get(rm.KEY))
                offset += 1
                if at == cursor_at:
                    if key in seen:
                        continue
                    seen.add(key)
                elif at is not None and (cursor_at is None or at > cursor_at):
                    cursor, cursor_at, seen, offset = row[rm.MODIFIED], at, {key}, 1
                yield parse(row)
            if len(page) < top:
                return

    def _page(self, resource: str, extra: list[str], since: str | None, skip: int, top: int) -> list[dict]:
        clauses = ([rm.MODIFIED_SINCE.format(stamp=since)] if since else []) + extra
        params: dict[str, Any] = {rm.ORDERBY: rm.STABLE_ORDER, rm.TOP: top, rm.SKIP: skip}
        if clauses:
            params[rm.FILTER] = rm.FILTER_JOIN.join(clauses)
        return (self.http.request("GET", resource, params=params) or {}).get(rm.PAYLOAD) or []

    # --- single records ----------------------------------------------------------------------------------
    def _get_one(self, resource: str, key: str) -> dict | None:
        try:
            return (self.http.request("GET", _keyed(resource, key)) or {}).get(rm.PAYLOAD)
        except GPError as error:
            if error.code == "not_found":
                return None
            raise

    def get_vendor(self, vendor_id: str) -> GPVendor | None:
        raw = self._get_one(rm.VENDORS, vendor_id)
        return GPVendor.from_gp(raw) if raw else None

    def get_invoice(self, voucher: str) -> GPInvoice | None:
        raw = self._get_one(rm.PAYABLES_INVOICES, voucher)
        return GPInvoice.from_gp(raw) if raw else None

    def get_payment(self, payment_number: str) -> GPPayment | None:
        raw = self._get_one(rm.PAYABLES_PAYMENTS, payment_number)
        return GPPayment.from_gp(raw) if raw else None

    # --- writes ------------------------------------------------------------------------------------------------
    def patch_vendor(self, vendor_id: str, fields: dict[str, Any]) -> None:
        """Change a vendor; `fields` use Part B names (see resource_map.Vendor / Address)."""
        self.http.request("PATCH", _keyed(rm.VENDORS, vendor_id), body=fields)

    def create_payment(self, payment_number: str, vendor_id: str, checkbook_id: str, method: str,
                       document_number: str, date: dt.date, amount: Decimal, apply_to: list[tuple[str, Decimal]],
                       batch: str, card_name: str = "") -> GPPayment:
        """A manual payment applied to vouchers when its batch posts.

        A payment number GP already has raises GPError(code="duplicate"): look it up with
        `get_payment` to reconcile. A timeout raises a retryable GPError and is not retried here.
        """
        p = rm.Payment
        body = {
            rm.KEY: {rm.KEY_ID: payment_number}, p.VENDOR: {rm.KEY_ID: vendor_id},
            p.CHECKBOOK: {rm.KEY_ID: checkbook_id}, p.METHOD: method, p.DOCUMENT_NUMBER: document_number,
            p.DATE: date.isoformat(), p.AMOUNT: {rm.MONEY_VALUE: Decimal(amount)}, p.BATCH: {rm.KEY_ID: batch},
            p.APPLY_TO: [{p.APPLY_VOUCHER: {rm.KEY_ID: v}, p.APPLY_AMOUNT: {rm.MONEY_VALUE: Decimal(a)}}
                         for v, a in apply_to],
        }
        if card_name:
            body[p.CARD_NAME] = card_name
        answer = self.http.request("POST", rm.PAYABLES_PAYMENTS, body=body) or {}
        return GPPayment.from_gp(answer.get(rm.PAYLOAD) or {})

    def post_batch(self, source: str, batch: str | None = None) -> dict[str, Any]:
        """Post a batch (`GP-Custom-Action: POST`); answers GP's summary of what was posted.

        `post_batch("PM_Payment", "B1")`, or `post_batch("B1")` for a batch of manual payments.
        """
        if batch is None:
            source, batch = rm.PAYMENT_BATCH_SOURCE, source
        path = rm.BATCH.format(source=quote(source, safe=""), batch=quote(batch, safe=""))
        answer = self.http.request("POST", path, headers={rm.CUSTOM_ACTION_HEADER: rm.CUSTOM_ACTION_POST})
        return (answer or {}).get(rm.PAYLOAD) or {}

    # --- diagnosis ------------------------------------------------------------------------------------------------
    def test_connection(self) -> str | None:
        """None when GP answers for this company; otherwise one sentence saying what is wrong."""
        try:
            self.http.request("GET", rm.VENDORS, params={rm.TOP: 1}, tries=1)
        except GPError as error:
            return explain(error, self.http)
        return None


def diagnose(conn: GPConnection) -> str | None:
    """The admin's "Test connection": None when GP answers, else one sentence on what is wrong."""
    client = GPClient.for_connection(conn)
    try:
        return client.test_connection()
    finally:
        client.close()


def explain(error: GPError, http: GPHttp) -> str:
    """One sentence for an admin, by what went wrong."""
    sentences = {
        "auth": f"GP refused the password for {http.account}: check the domain, user name and password.",
        "forbidden": f"The Windows account {http.account} signs in, but is not mapped to a GP user with "
                     f"access to company '{http.company}'.",
        "company_not_found": f"GP has no company named '{http.company}': enter the display name exactly as GP shows it.",
        "tenant_not_found": f"GP has no tenant named '{http.tenant}' (a single-tenant install uses DefaultTenant).",
        "tls": "The GP server's certificate is not trusted: upload its CA bundle (PEM) on this connection.",
        "unreachable": f"The GP server at {http.host} cannot be reached: check the URL, port and firewall.",
        "timeout": f"The GP server at {http.host} did not answer within {http.timeout:g} seconds: it may be "
                   "starting up, so try again or raise the timeout.",
    }
    return sentences.get(error.code or "", error.message)


def _since(modified_since: dt.datetime | None, overlap: dt.timedelta) -> str | None:
    if modified_since is None:
        return None
    if modified_since.tzinfo is None:
        raise ValueError("modified_since must be timezone-aware (GP's ModifiedDate is UTC)")
    return (modified_since - overlap).astimezone(dt.UTC).strftime(rm.STAMP_FORMAT)


def _keyed(resource: str, key: str) -> str:
    return rm.KEYED.format(resource=resource, key=quote(key.strip(), safe=""))


def _quote_literal(value: str) -> str:
    return value.replace("'", "''")

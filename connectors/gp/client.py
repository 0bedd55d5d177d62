"""`GPClient`: what the sync flows ask of GP. Lists stream page by page and are incremental on
ModifiedDate; writes are a manual payment with apply lines, posting a batch, and patching a vendor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from connectors.relay.adapter import AgentAdapter

from . import resource_map as rm
from .http import GPError, GPHttp, refuse_unsafe_address
from .records import (
    GPApply,
    GPCheckbook,
    GPGLAccount,
    GPInvoice,
    GPPayment,
    GPVendor,
    moment,
    text,
)
from .resource_map import GPShapeError, Shape, describe

if TYPE_CHECKING:
    from connectors.models import GPConnection

T = TypeVar("T")
DEFAULT_OVERLAP = dt.timedelta(minutes=5)
# A page that brings nothing new this many times in a row means the server is not paging (e.g. it
# ignores $skip): reading on would repeat the same records for ever.
MAX_FRUITLESS_PAGES = 3
# A full page whose every ModifiedDate is midnight, this long or longer, means GP stamps dates only.
MIDNIGHT_PAGE_MIN = 5


class GPClient:
    """What the flows ask of GP. Its public methods are the GP client interface every transport keeps.

    `shape` (resource_map.Shape) is how this server spells envelopes, stamps and vocabularies: Part B
    unless the connection has confirmed overrides. An answer it does not describe raises GPShapeError.
    """

    interface = "sba"
    writes_payments = True  # SBA creates manual payments and posts their batch
    reads_apply_lines = True

    def __init__(self, http: GPHttp, page_size: int = rm.PAGE_SIZE, shape: Shape | None = None) -> None:
        self.http = http
        self.page_size = max(1, min(page_size, rm.MAX_TOP))
        self.shape = shape or Shape()

    @classmethod
    def for_connection(cls, conn: GPConnection, **options: Any) -> GPClient:
        """The client for a saved GPConnection (NTLM with its domain account)."""
        refuse_unsafe_address(conn.base_url)
        page_size = options.pop("page_size", rm.PAGE_SIZE)
        shape = options.pop("shape", None) or conn.resource_shape()
        if conn.route == conn.ROUTE_AGENT:
            options.setdefault("adapter", AgentAdapter(conn.tenant_id, conn.base_url))
        http = GPHttp(
            conn.base_url,
            conn.gp_tenant,
            conn.company,
            conn.account,
            conn.password or "",
            verify_tls=conn.verify_tls,
            ca_bundle_pem=conn.ca_bundle_pem or "",
            timeout=float(conn.timeout_seconds),
            **options,
        )
        return cls(http, page_size=page_size, shape=shape)

    def close(self) -> None:
        self.http.close()

    # --- incremental lists ---------------------------------------------------------------------------
    def iter_vendors(
        self, modified_since: dt.datetime | None = None, overlap: dt.timedelta = DEFAULT_OVERLAP
    ) -> Iterator[GPVendor]:
        return self._walk(rm.VENDORS, [], self._since(modified_since, overlap), self.parse_vendor)

    def iter_invoices(
        self,
        modified_since: dt.datetime | None = None,
        overlap: dt.timedelta = DEFAULT_OVERLAP,
        state: str | None = None,
    ) -> Iterator[GPInvoice]:
        extra = [rm.STATE_IS.format(state=_quote_literal(state))] if state else []
        return self._walk(
            rm.PAYABLES_INVOICES, extra, self._since(modified_since, overlap), self.parse_invoice
        )

    def iter_payments(
        self,
        modified_since: dt.datetime | None = None,
        overlap: dt.timedelta = DEFAULT_OVERLAP,
        vendor_id: str | None = None,
    ) -> Iterator[GPPayment]:
        extra = [rm.VENDOR_IS.format(vendor_id=_quote_literal(vendor_id))] if vendor_id else []
        return self._walk(
            rm.PAYABLES_PAYMENTS, extra, self._since(modified_since, overlap), self.parse_payment
        )

    def iter_gl_accounts(self) -> Iterator[GPGLAccount]:
        return self._walk(rm.GL_ACCOUNTS, [], None, GPGLAccount.from_gp)

    def iter_checkbooks(self) -> Iterator[GPCheckbook]:
        return self._walk(rm.CHECKBOOKS, [], None, GPCheckbook.from_gp)

    # --- records in the connector's words (the SOAP transport parses through the same Shape) ---------
    def parse_vendor(self, raw: dict[str, Any]) -> GPVendor:
        return GPVendor.from_gp(self.shape.vendor(self._with_addresses(_record(raw, "a vendor"))))

    def _with_addresses(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The vendor with its addresses, read from their own resource when this server lists them there."""
        if not self.shape.vendor_address_resource:
            return raw
        return {**raw, rm.Vendor.ADDRESSES: self.vendor_addresses(text(raw.get(rm.KEY)))}

    def vendor_addresses(self, vendor_id: str) -> list[dict[str, Any]]:
        """One vendor's rows of `vendor_address_resource` (`VendorId eq '…'`, one request).

        A row of another vendor (a server ignoring the filter) or a full page is an error, never
        addresses silently mixed up or cut short."""
        resource = self.shape.vendor_address_resource
        params = {
            rm.FILTER: rm.VENDOR_IS.format(vendor_id=_quote_literal(vendor_id)),
            rm.ORDERBY: rm.STABLE_ORDER,
            rm.TOP: rm.MAX_TOP,
        }
        rows = self.unwrap_list(resource, self.http.request("GET", resource, params=params))
        others = sorted({text(r.get(rm.ADDRESS_VENDOR)).upper() for r in rows} - {vendor_id.strip().upper()})
        if others:
            raise GPShapeError(
                f"the addresses of vendor {vendor_id} ({resource})",
                f"only rows whose {rm.ADDRESS_VENDOR} is {vendor_id}",
                f"rows of {', '.join(others[:3])} too (the server may ignore VendorId eq)",
            )
        if len(rows) >= rm.MAX_TOP:
            raise GPShapeError(
                f"the addresses of vendor {vendor_id} ({resource})",
                f"fewer than {rm.MAX_TOP} addresses",
                f"a full page of {len(rows)}",
            )
        return rows

    def parse_invoice(self, raw: dict[str, Any]) -> GPInvoice:
        return GPInvoice.from_gp(self.shape.invoice(_record(raw, "a payables invoice")))

    def parse_payment(self, raw: dict[str, Any]) -> GPPayment:
        return GPPayment.from_gp(self.shape.payment(_record(raw, "a payables payment")))

    def _since(self, modified_since: dt.datetime | None, overlap: dt.timedelta) -> str | None:
        """The `ModifiedDate ge` bound. With date-only stamps it floors to the day, and one day more
        (GP stamps its own local date, which may be behind UTC): nothing changed since is missed, and
        what is read again is recognised by its content hash and not sent again."""
        if modified_since is None:
            return None
        if modified_since.tzinfo is None:
            raise ValueError("modified_since must be timezone-aware (GP's ModifiedDate is UTC)")
        since = (modified_since - overlap).astimezone(dt.UTC)
        if self.shape.day_stamps:
            since = since.replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
        return since.strftime(rm.STAMP_FORMAT)

    def _walk(
        self, resource: str, extra: list[str], since: str | None, parse: Callable[[dict[str, Any]], T]
    ) -> Iterator[T]:
        """Page through `ModifiedDate ge since` in (ModifiedDate, Key) order, one page in memory.

        Each page re-queries from the newest ModifiedDate seen and skips the records already seen at
        that instant, re-reading the last one as an anchor. Records sharing a ModifiedDate across a page
        boundary are thus neither skipped nor repeated, and if a record seen at that instant changes
        meanwhile (moving the rest up by one), the missing anchor shows it and the instant is re-read.
        """
        cursor, seen, offset = (
            since,
            set[str](),
            0,
        )  # seen: keys yielded at `cursor`; offset: rows consumed in `ge cursor`
        cursor_at = moment(since)
        fruitless = 0  # requests in a row that brought nothing new
        while True:
            anchored = offset > 0  # re-read the last row seen as an anchor, on top of a full page
            top = min(self.page_size + anchored, rm.MAX_TOP)
            rows = self._page(resource, extra, cursor, offset - 1 if anchored else 0, top)
            self._check_stamps(resource, rows, top)
            before = (cursor, len(seen))
            if anchored:
                first = rows[0] if rows else {}
                if moment(first.get(rm.MODIFIED)) != cursor_at or text(first.get(rm.KEY)) not in seen:
                    offset = 0  # the listing shifted under us: re-read this instant, `seen` drops repeats
                    fruitless = self._fruitless(resource, fruitless + 1)
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
            fruitless = 0 if (cursor, len(seen)) != before else self._fruitless(resource, fruitless + 1)

    @staticmethod
    def _fruitless(resource: str, count: int) -> int:
        if count >= MAX_FRUITLESS_PAGES:
            raise GPShapeError(
                f"the pages of {resource}",
                "each page to continue where the last one ended ($skip)",
                f"the same records again {count} times in a row (the server seems to ignore $skip, so the "
                "list cannot be read to its end)",
            )
        return count

    def _check_stamps(self, resource: str, rows: list[dict[str, Any]], top: int) -> None:
        """A full page stamped only at midnight: GP keeps dates only, and reading with a time would
        miss today's changes for ever. Stop until the connection says `modified_precision: day`."""
        if self.shape.day_stamps or len(rows) < min(top, MIDNIGHT_PAGE_MIN):
            return
        stamps = [moment(r.get(rm.MODIFIED)) for r in rows if isinstance(r, dict)]
        if stamps and all(s is not None and s.time() == dt.time(0) for s in stamps):
            raise GPShapeError(
                f"ModifiedDate of {resource}",
                "a date and time",
                f"dates only ({len(stamps)} records all at 00:00:00); set modified_precision "
                "to 'day' so changes made later in a day are not missed",
            )

    def _page(
        self, resource: str, extra: list[str], since: str | None, skip: int, top: int
    ) -> list[dict[str, Any]]:
        clauses = ([rm.MODIFIED_SINCE.format(stamp=since)] if since else []) + extra
        params: dict[str, Any] = {rm.ORDERBY: rm.STABLE_ORDER, rm.TOP: top, rm.SKIP: skip}
        if clauses:
            params[rm.FILTER] = rm.FILTER_JOIN.join(clauses)
        return self.unwrap_list(resource, self.http.request("GET", resource, params=params))

    def unwrap_list(self, resource: str, answer: Any) -> list[dict[str, Any]]:
        """The records of a list answer, or GPShapeError: never an empty list for an unknown shape."""
        envelope = self.shape.envelope
        if envelope:
            if not isinstance(answer, dict) or envelope not in answer:
                raise GPShapeError(
                    f"the list {resource}",
                    f"a JSON object with the records under '{envelope}'",
                    describe(answer),
                )
            rows = answer[envelope]
        else:
            rows = answer
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            where = f" under '{envelope}'" if envelope else ""
            raise GPShapeError(f"the list {resource}", f"a JSON array of records{where}", describe(rows))
        return rows

    def unwrap_one(self, what: str, answer: Any) -> dict[str, Any]:
        """The record of a single-record answer, or GPShapeError."""
        envelope = self.shape.record_envelope
        if envelope:
            if not isinstance(answer, dict) or envelope not in answer:
                raise GPShapeError(
                    what, f"a JSON object with the record under '{envelope}'", describe(answer)
                )
            answer = answer[envelope]
        return _record(answer, what)

    # --- single records ----------------------------------------------------------------------------------
    def _get_one(self, resource: str, key: str) -> dict[str, Any] | None:
        try:
            answer = self.http.request("GET", _keyed(resource, key))
        except GPError as error:
            if error.code == "not_found":
                return None
            raise
        return self.unwrap_one(f"{resource}({key})", answer)

    def get_vendor(self, vendor_id: str) -> GPVendor | None:
        raw = self._get_one(rm.VENDORS, vendor_id)
        return self.parse_vendor(raw) if raw else None

    def get_invoice(self, voucher: str) -> GPInvoice | None:
        raw = self._get_one(rm.PAYABLES_INVOICES, voucher)
        return self.parse_invoice(raw) if raw else None

    def get_payment(self, payment_number: str) -> GPPayment | None:
        raw = self._get_one(rm.PAYABLES_PAYMENTS, payment_number)
        return self.parse_payment(raw) if raw else None

    # --- writes
    # ------------------------------------------------------------------------------------------------
    def patch_vendor(self, vendor_id: str, fields: dict[str, Any]) -> None:
        """Change a vendor; `fields` use Part B names (see resource_map.Vendor / Address)."""
        self.http.request("PATCH", _keyed(rm.VENDORS, vendor_id), body=fields)

    def create_payment(
        self,
        payment_number: str,
        vendor_id: str,
        checkbook_id: str,
        method: str,
        document_number: str,
        date: dt.date,
        amount: Decimal,
        apply_to: list[tuple[str, Decimal]],
        batch: str,
        card_name: str = "",
    ) -> GPPayment:
        """A manual payment applied to vouchers when its batch posts.

        A payment number GP already has raises GPError(code="duplicate"): look it up with
        `get_payment` to reconcile. A timeout raises a retryable GPError and is not retried here.
        The payment answered carries the key GP gave it: compare it with `payment_number`, since a
        server that numbers payments itself does not keep the one sent.
        """
        p = rm.Payment
        body = {
            rm.KEY: {rm.KEY_ID: payment_number},
            p.VENDOR: {rm.KEY_ID: vendor_id},
            p.CHECKBOOK: {rm.KEY_ID: checkbook_id},
            p.METHOD: self.shape.payment_method_out(method),
            p.DOCUMENT_NUMBER: document_number,
            p.DATE: date.isoformat(),
            p.AMOUNT: {rm.MONEY_VALUE: Decimal(amount)},
            p.BATCH: {rm.KEY_ID: batch},
            p.APPLY_TO: [
                {p.APPLY_VOUCHER: {rm.KEY_ID: v}, p.APPLY_AMOUNT: {rm.MONEY_VALUE: Decimal(a)}}
                for v, a in apply_to
            ],
        }
        if card_name:
            body[p.CARD_NAME] = card_name
        answer = self.http.request("POST", rm.PAYABLES_PAYMENTS, body=body)
        return self.parse_payment(self.unwrap_one(f"the new payment {payment_number}", answer))

    def get_apply(self, key: str) -> GPApply | None:
        raw = self._get_one(rm.PAYABLES_APPLIES, key)
        return GPApply.from_gp(_record(raw, "a payables apply")) if raw else None

    def create_apply(
        self, key: str, credit_voucher: str, apply_to: list[tuple[str, Decimal]], date: dt.date
    ) -> GPApply:
        """Apply a posted credit memo / return to vouchers (modelled resource, resource_map.PAYABLES_APPLIES).
        A key GP has raises GPError(code="duplicate"): look it up with `get_apply` to reconcile."""
        a = rm.Apply
        body = {
            rm.KEY: {rm.KEY_ID: key},
            a.CREDIT: {rm.KEY_ID: credit_voucher},
            a.DATE: date.isoformat(),
            a.APPLY_TO: [
                {a.APPLY_VOUCHER: {rm.KEY_ID: v}, a.APPLY_AMOUNT: {rm.MONEY_VALUE: Decimal(x)}}
                for v, x in apply_to
            ],
        }
        answer = self.http.request("POST", rm.PAYABLES_APPLIES, body=body)
        return GPApply.from_gp(_record(self.unwrap_one(f"the new apply {key}", answer), "a payables apply"))

    def post_batch(self, source: str, batch: str | None = None) -> dict[str, Any]:
        """Post a batch (`GP-Custom-Action: POST`); answers GP's summary of what was posted.

        `post_batch("PM_Payment", "B1")`, or `post_batch("B1")` for a batch of manual payments.
        """
        if batch is None:
            source, batch = rm.PAYMENT_BATCH_SOURCE, source
        path = rm.BATCH.format(source=quote(source, safe=""), batch=quote(batch, safe=""))
        answer = self.http.request("POST", path, headers={rm.CUSTOM_ACTION_HEADER: rm.CUSTOM_ACTION_POST})
        return self.unwrap_one(f"posting batch {batch}", answer) if answer is not None else {}

    # --- diagnosis
    # ------------------------------------------------------------------------------------------------
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
        "company_not_found": (
            f"GP has no company named '{http.company}': enter the display name exactly as GP shows it."
        ),
        "tenant_not_found": (
            f"GP has no tenant named '{http.tenant}' (a single-tenant install uses DefaultTenant)."
        ),
        "tls": "The GP server's certificate is not trusted: upload its CA bundle (PEM) on this connection.",
        "unreachable": f"The GP server at {http.host} cannot be reached: check the URL, port and firewall.",
        "timeout": f"The GP server at {http.host} did not answer within {http.timeout:g} seconds: it may be "
        "starting up, so try again or raise the timeout.",
    }
    return sentences.get(error.code or "", error.message)


def _record(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise GPShapeError(what, "a JSON object (one record)", describe(value))
    return value


def _keyed(resource: str, key: str) -> str:
    return rm.KEYED.format(resource=resource, key=quote(key.strip(), safe=""))


def _quote_literal(value: str) -> str:
    return value.replace("'", "''")

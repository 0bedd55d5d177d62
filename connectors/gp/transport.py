"""Which GP interface a connection uses, behind one protocol the flows rely on.

`gp_client_for(conn)` is the one place that chooses: SBA (`GPClient`), GP Web Services (`GPWSClient`),
or "auto", which asks SBA first and GP Web Services when SBA is not there. Both answer with the same
record types (`connectors.gp.records`). What differs is said by two flags: `writes_payments` (SBA
creates and posts manual payments; Web Services cannot) and `reads_apply_lines`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from .client import GPClient
from .http import GPError, GPHttp
from .soap.client import GPWSClient

if TYPE_CHECKING:
    from connectors.models import GPConnection

    from .records import GPApply, GPCheckbook, GPGLAccount, GPInvoice, GPPayment, GPVendor

SBA, WEB_SERVICES, AUTO = "sba", "web_services", "auto"
INTERFACES = (
    (SBA, "Service Based Architecture (REST, GP 2015 and later)"),
    (WEB_SERVICES, "GP Web Services (SOAP, GP 2010 and later)"),
    (AUTO, "Detect: SBA if present, else GP Web Services"),
)
NO_PAYMENT_WRITE_BACK = "Payments cannot be written back over GP Web Services."
HOLD_WAITS = (
    "It shows no invoice holds, so invoices wait in Needs attention until this tenant accepts sending "
    "them without a hold check."
)
HOLD_SENT = "It shows no invoice holds; this tenant sends invoices without a hold check, held ones too."


class GPTransport(Protocol):
    interface: str
    writes_payments: bool
    reads_apply_lines: bool
    http: GPHttp  # a dry run (preview, drift) sets `http.read_only`, which refuses every write

    def iter_vendors(
        self, modified_since: dt.datetime | None = ..., overlap: dt.timedelta = ...
    ) -> Iterator[GPVendor]: ...
    def iter_invoices(
        self, modified_since: dt.datetime | None = ..., overlap: dt.timedelta = ..., state: str | None = ...
    ) -> Iterator[GPInvoice]: ...
    def iter_payments(
        self,
        modified_since: dt.datetime | None = ...,
        overlap: dt.timedelta = ...,
        vendor_id: str | None = ...,
    ) -> Iterator[GPPayment]: ...
    def iter_gl_accounts(self) -> Iterator[GPGLAccount]: ...
    def iter_checkbooks(self) -> Iterator[GPCheckbook]: ...
    def get_vendor(self, vendor_id: str) -> GPVendor | None: ...
    def get_invoice(self, voucher: str) -> GPInvoice | None: ...
    def get_payment(self, payment_number: str) -> GPPayment | None: ...
    def get_apply(self, key: str) -> GPApply | None: ...  # a credit memo apply (None over Web Services)
    def patch_vendor(self, vendor_id: str, fields: dict[str, Any]) -> None: ...
    # The writes below raise GPError(code="unsupported") over Web Services (`writes_payments` False).
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
        card_name: str = ...,
    ) -> GPPayment: ...
    def post_batch(self, source: str, batch: str | None = ...) -> dict[str, Any]: ...
    def create_apply(
        self, key: str, credit_voucher: str, apply_to: list[tuple[str, Decimal]], date: dt.date
    ) -> GPApply: ...
    def test_connection(self) -> str | None: ...
    def close(self) -> None: ...


def find_posted_payment(
    gp: GPTransport, payment_number: str, vendor_id: str, document_number: str
) -> GPPayment | None:
    """A payment a GP user recorded for us: by our payment number, else by the vendor's payment whose
    document number is the BILL reference we gave (a clerk may let GP number the payment). Reads only,
    so it works over either interface (the manual way is taken over GP Web Services)."""
    found = gp.get_payment(payment_number)
    if found is not None or not document_number:
        return found
    return next(
        (
            p
            for p in gp.iter_payments(vendor_id=vendor_id)
            if p.document_number.strip().upper() == document_number.strip().upper()
        ),
        None,
    )


def gp_client_for(conn: GPConnection, **options: Any) -> GPClient | GPWSClient:
    """The client for a saved GP connection, by its `interface` (default SBA)."""
    interface = getattr(conn, "interface", SBA) or SBA
    if interface == WEB_SERVICES:
        return GPWSClient.for_connection(conn, **options)
    if interface == AUTO:
        return _probe(conn, **options)
    return GPClient.for_connection(conn, **options)


def _probe(conn: GPConnection, **options: Any) -> GPClient | GPWSClient:
    """SBA when it answers for this company; else Web Services when it does; else SBA (whose error says
    why)."""
    sba = GPClient.for_connection(conn, **options)
    problem = sba.test_connection()
    if problem is None:
        return sba
    soap = GPWSClient.for_connection(conn, **options)
    if soap.test_connection() is None:
        sba.close()
        return soap
    soap.close()
    return sba


def diagnose(conn: GPConnection) -> tuple[str | None, str]:
    """The admin's "Test connection": (problem or None, a note on what this interface cannot do)."""
    client = gp_client_for(conn)
    try:
        problem = client.test_connection()
        note = (
            ""
            if client.writes_payments
            else (
                f"Connected over GP Web Services. {NO_PAYMENT_WRITE_BACK} Each BILL payment becomes a "
                "'record in GP' task, with a manual-payments file to import in GP. "
                + (HOLD_SENT if conn.tenant.send_without_hold_check else HOLD_WAITS)
            )
        )
        return problem, note
    except GPError as error:
        return error.message, ""
    finally:
        client.close()

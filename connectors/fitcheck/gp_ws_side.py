"""The GP Web Services half of the fit check: the WSDL's operations against what the connector calls,
the companies the account sees, and one record of each kind read through `GPWSClient`.

Reads only (Get… operations and the WSDL); the counts then come from the same `_read_all` as SBA's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

from connectors.gp import resource_map as rm
from connectors.gp.http import GPError
from connectors.gp.soap import ws_map as ws
from connectors.gp.soap.client import GPWSClient

from .problems import BLOCKER, WARNING, Problems

# The connector's record kinds, by the Part B resource they stand for, and the Get… calls that read them.
KINDS: dict[str, tuple[str, Callable[[GPWSClient], Iterator[Any]]]] = {
    rm.VENDORS: (f"{ws.GET_VENDOR_LIST}, {ws.GET_VENDOR_BY_KEY}", lambda c: c.iter_vendors()),
    rm.PAYABLES_INVOICES: (
        f"{ws.GET_PAYABLES_INVOICE_LIST}, {ws.GET_PAYABLES_INVOICE_BY_KEY}",
        lambda c: c.iter_invoices(),
    ),
    rm.PAYABLES_PAYMENTS: (ws.GET_POSTED_PAYMENTS_LIST, lambda c: c.iter_payments()),
    rm.GL_ACCOUNTS: (ws.GET_GL_ACCOUNT_LIST, lambda c: c.iter_gl_accounts()),
    rm.CHECKBOOKS: (ws.GET_CHECKBOOK_LIST, lambda c: c.iter_checkbooks()),
}
KNOWN_DISTRIBUTION_TYPES = frozenset(rm.DISTRIBUTION_TYPES.values()) | frozenset(
    ws.Distribution.TYPES.values()
)
INVOICES_NOTE = (
    "GP Web Services documents no hold flag on a payables invoice, so the connector cannot tell an "
    "invoice on hold in GP from a free one. {hold} Open amounts are read from what it does document "
    "(document amount less TotalPayments, WriteoffAmount and the terms discount taken), so a partly paid "
    "voucher reaches BILL with only its open amount due; it shows no current (unapplied) amount, so a "
    "credit memo applied to a voucher is not seen unless GP counts it in TotalPayments. "
    "GetPayablesInvoiceList lists invoices only, not credit memos or returns."
)
HOLD_WAITS = (
    "Invoices read over it wait in Needs attention, not sent to BILL, until a connector admin turns "
    "on 'send invoices read over GP Web Services, which cannot show invoice holds' for this tenant."
)
HOLD_SENT = (
    "This tenant has turned on 'send invoices read over GP Web Services, which cannot show invoice "
    "holds': an invoice on hold in GP would be sent to BILL as approved."
)


def invoices_note(tenant: Any) -> str:
    """What Web Services cannot show about invoices, and what this tenant does about the hold flag."""
    return INVOICES_NOTE.format(
        hold=HOLD_SENT if getattr(tenant, "send_without_hold_check", False) else HOLD_WAITS
    )


def operations(client: GPWSClient, problems: Problems | None) -> dict[str, Any]:
    """The WSDL's operations against `ws.NEEDED`; problems only when this is the interface in use."""
    try:
        offered = client.offered_operations()
    except GPError as exc:
        if problems is not None:
            problems.add(
                "GP",
                BLOCKER,
                "GP Web Services description (WSDL)",
                f"Reading the WSDL failed: {exc.message}",
                "Check the GP Web Services URL.",
            )
        return {
            "source": "WSDL",
            "listed": [],
            "needed": ws.NEEDED,
            "missing": list(ws.NEEDED),
            "error": exc.message,
        }
    missing = [op for op in ws.NEEDED if op not in offered]
    if problems is not None:
        for op in missing:
            severity = WARNING if op in ws.NICE_TO_HAVE else BLOCKER
            problems.add(
                "GP",
                severity,
                f"GP Web Services {op}",
                f"The WSDL does not offer {op}, which the connector uses to {ws.NEEDED[op]}.",
                "Ask the GP administrator to install or allow it (Dynamics Security Console).",
            )
    return {"source": "WSDL", "listed": offered, "needed": ws.NEEDED, "missing": missing}


def companies(client: GPWSClient, company: str) -> dict[str, Any]:
    try:
        return {"configured": company, "visible": client.companies()}
    except GPError as exc:
        return {"configured": company, "visible": [company], "note": f"company list not read: {exc.message}"}


def records(client: GPWSClient, required: Mapping[str, Iterable[str]], problems: Problems) -> dict[str, Any]:
    """One record of each kind, read as the sync would read it, checked for fields and value words."""
    out: dict[str, Any] = {}
    for resource, (calls, first) in KINDS.items():
        try:
            sample = next(islice(first(client), 1), None)
        except GPError as exc:
            out[resource] = {"read": False, "operations": calls, "error": exc.message}
            problems.add(
                "GP",
                BLOCKER,
                resource,
                f"Reading {resource} over GP Web Services ({calls}) failed: {exc.message}",
                "Check the GP user's access (Dynamics Security Console).",
            )
            continue
        raw = getattr(sample, "raw", None)
        missing = [f for f in required[resource] if raw is not None and f not in raw]
        vocab = _vocabulary(resource, sample)
        for text in vocab:
            problems.add(
                "GP",
                BLOCKER,
                resource,
                text,
                "Report it: the Web Services mapping (ws_map) needs this value.",
            )
        out[resource] = {
            "read": True,
            "operations": calls,
            "sample_key": _key(sample),
            "records_probed": int(sample is not None),
            "fields_missing": missing,
            "vocabulary_problems": vocab,
        }
    return out


def modified_date(stamps: Iterable[dt.datetime | None], problems: Problems) -> str:
    """Whether GP's ModifiedDate carries a time, from every record read."""
    seen = [s for s in stamps if s is not None]
    if len(seen) >= 2 and all(s.time() == dt.time(0) for s in seen):
        problems.add(
            "GP",
            WARNING,
            "ModifiedDate",
            f"GP Web Services stamps ModifiedDate with a date only ({len(seen)} records, all at 00:00:00).",
            "Keep the poll overlap at a day or more.",
        )
        return "date only"
    return "date and time"


def _vocabulary(resource: str, sample: Any) -> list[str]:
    if sample is None:
        return []
    found: list[str] = []
    if resource == rm.VENDORS and sample.status not in rm.VENDOR_STATUS_WORDS:
        found.append(
            f"a vendor status: GP sent '{sample.status}' (expected one of "
            f"{', '.join(rm.VENDOR_STATUS_WORDS)})"
        )
    if (
        resource in (rm.PAYABLES_INVOICES, rm.PAYABLES_PAYMENTS)
        and sample.state not in rm.TRANSACTION_STATES.values()
    ):
        found.append(f"a transaction state: GP sent '{sample.state}' (expected Work, Open or History)")
    for line in getattr(sample, "distributions", ()) or ():
        if line.type not in KNOWN_DISTRIBUTION_TYPES:
            found.append(f"a distribution type: GP sent '{line.type}'")
    return found


def _key(sample: Any) -> str:
    for name in ("voucher", "payment_number", "checkbook_id", "account", "vendor_id"):
        if hasattr(sample, name):
            return str(getattr(sample, name))
    return ""

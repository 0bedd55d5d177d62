"""Turn one GP payables invoice into a BILL bill body — or say, in words, why it cannot be one yet.

Pure functions: no HTTP, no database beyond the mapping lookups the context caches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from audit import waits
from audit.waits import WaitFor
from audit.words import money_text
from connectors.gp.records import GPInvoice
from connectors.models import Tenant

from ..hashing import content_hash
from .line_classifications import DIMENSION_FIELDS, MappingLookups, classify_line

LINE_TYPES = {"PURCHASE": "Purchases", "FREIGHT": "Freight", "TAX": "Tax", "MISC": "Miscellaneous"}
DISCOUNT_TYPES = {"DISCOUNT", "TRADE"}
VOUCHER_MARK = "GP voucher "
HOLD_UNKNOWN = WaitFor(
    waits.GP_HOLD, "unknown"
)  # GP (Web Services) cannot say whether the invoice is on hold
MAX_DESCRIPTION = 255


def voucher_marker(voucher: str) -> str:
    """The text that ties a BILL bill to its GP voucher (read back when reconciling)."""
    return f"{VOUCHER_MARK}{voucher}"


def voucher_from_description(description: str | None) -> str | None:
    match = re.search(re.escape(VOUCHER_MARK) + r"(\S+)", description or "")
    return match.group(1) if match else None


def money(value: Decimal, digits: int) -> Decimal:
    """Round to the currency's decimals (GP stores 5; USD shows 2), half up like GP."""
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


@dataclass
class BillDraft:
    """A bill ready to send (payload) or the reason it must wait or be fixed."""

    voucher: str
    label: str
    payload: dict[str, Any] = field(default_factory=dict)
    amount: Decimal = Decimal(0)
    open_amount: Decimal = Decimal(0)  # GP's open (current) amount: what BILL may show due at most
    gp_vendor: str = ""
    invoice_number: str = ""
    waiting_on: list[WaitFor] = field(default_factory=list)  # what it waits for (audit.waits), vendor first
    blocked_reason: str = ""
    problem: str = ""
    fix: str = ""

    @property
    def hash(self) -> str:
        """What decides whether a bill in BILL must be updated: the body without the segment dimensions
        (department, location, class), so a later change of the tenant's segment setting or of a segment
        mapping never rewrites a bill already sent — paid or not. A GP change still sends them."""
        return content_hash(without_dimensions(self.payload))

    @property
    def ready(self) -> bool:
        return not self.problem and not self.waiting_on


LINE_KEYS = ("billLineItems", "vendorCreditLineItems")  # a bill's lines, a vendor credit's lines


def without_dimensions(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with departmentId/locationId/accountingClassId taken off every line (a bill's or a
    vendor credit's)."""
    out = dict(payload)
    for key in LINE_KEYS:
        if payload.get(key):
            out[key] = [
                {
                    **line,
                    "classifications": {
                        k: v
                        for k, v in (line.get("classifications") or {}).items()
                        if k not in DIMENSION_FIELDS
                    },
                }
                for line in payload[key]
            ]
    return out


def line_classifications(
    account: str, account_id: str | None, ctx: MappingLookups, waiting_on: list[WaitFor], problems: list[str]
) -> dict[str, str]:
    """A document line's BILL `classifications` for GP account `account`: the chart-of-accounts ID plus
    the department/location/class its segments map to (connectors.sync.gp_to_bill.line_classifications). What
    it
    waits on is added to `waiting_on`, what is wrong with it to `problems` (each once). Shared by every
    document built from GP distributions (bills, vendor credits)."""
    found = classify_line(account, ctx)
    own = [WaitFor(waits.ACCOUNT, account)] if account_id is None else []
    for wait in [*own, *found.waiting_on]:
        if wait not in waiting_on:
            waiting_on.append(wait)
    for problem in found.problems:
        if problem not in problems:
            problems.append(problem)
    return {"chartOfAccountId": account_id or "", **found.ids}


def waiting_sentence(waiting_on: list[WaitFor]) -> str:
    """ "Waiting for a mapping: GP vendor X, GP department 20 not mapped to BILL yet."""
    return "Waiting for a mapping: " + ", ".join(w.words for w in waiting_on) + " not mapped to BILL yet."


def is_approved(invoice: GPInvoice, tenant: Tenant) -> tuple[bool, str]:
    """Whether the tenant's policy makes this GP invoice a bill, and why not."""
    if invoice.is_voided:
        return False, "voided in GP"
    if invoice.is_on_hold:
        return False, "on hold in GP"
    if (invoice.document_type or "Invoice").lower() != "invoice":
        return False, f"GP document type {invoice.document_type} is not sent to BILL"
    return approved_by_policy(invoice, tenant)


def approved_by_policy(invoice: GPInvoice, tenant: Tenant) -> tuple[bool, str]:
    """The tenant's posting/workflow policy for a GP payables document (invoice or credit memo)."""
    if tenant.bill_policy == Tenant.BILL_POLICY_APPROVED_UNPOSTED:
        if invoice.state == "Work" and invoice.workflow_status in ("Approved", "NoApprovalNeeded"):
            return True, ""
        if invoice.state == "Work":
            return False, f"workflow status is {invoice.workflow_status}"
    if invoice.state == "Open":
        if invoice.document_amount <= 0:
            return True, ""  # not silently dropped: build_draft parks it with the reason
        if invoice.remaining <= 0:
            return False, "nothing remains to pay in GP"
        return True, ""
    if invoice.state == "History":
        return False, "already fully paid in GP"
    return False, "not posted in GP yet"


def hold_unknown(invoice: GPInvoice, tenant: Tenant | None) -> bool:
    """Whether this invoice must wait because GP could not say if it is on hold (GP Web Services documents no
    hold flag) and the tenant has not accepted sending without that check. Waiting is the safe default: a
    held invoice in BILL is one BILL may pay."""
    if getattr(invoice, "hold_known", True):
        return False
    return not bool(getattr(tenant, "send_without_hold_check", False))


def _label(invoice: GPInvoice) -> str:
    amount = money_text(invoice.document_amount, invoice.currency)
    return f"{invoice.vendor_id} invoice {invoice.invoice_number} ({amount})"


def _valid_date(value: date | None) -> bool:
    return isinstance(value, date) and 1990 <= value.year <= 2100


def build_lines(
    document: GPInvoice,
    ctx: MappingLookups,
    digits: int,
    waiting_on: list[WaitFor],
    problems: list[str],
    sign: int = 1,
) -> tuple[list[dict[str, Any]], Decimal]:
    """The BILL line items (amount, description, classifications) for a GP payables document's
    distributions, and their sum. What a line waits on (its GP account, a segment value) is added to
    `waiting_on`, what is wrong with it (a missing segment) to `problems`. Shared by bills and vendor
    credits (credit_payload.py): a credit memo's distributions are the reverse of an invoice's, so it
    passes sign=-1 and gets positive lines."""
    lines: list[dict[str, Any]] = []
    line_sum = Decimal(0)
    for dist in document.distributions:
        kind = (dist.type or "").upper()
        if kind in LINE_TYPES:
            amount = money(sign * (dist.debit - dist.credit), digits)
            description = (dist.reference or LINE_TYPES[kind]).strip()
        elif kind in DISCOUNT_TYPES:
            amount = money(sign * (dist.debit - dist.credit), digits)  # a discount: a negative line
            description = (dist.reference or "Trade discount").strip()
        else:
            continue  # the payable (AP) side is BILL's own
        if amount == 0:
            continue
        account_id = ctx.bill_account_id(dist.account)
        lines.append(
            {
                "amount": amount,
                "description": description[:MAX_DESCRIPTION],
                "classifications": line_classifications(dist.account, account_id, ctx, waiting_on, problems),
            }
        )
        line_sum += amount
    return lines, line_sum


def build_draft(invoice: GPInvoice, ctx: MappingLookups, org_currency: str = "USD") -> BillDraft:
    """The BILL bill for a GP invoice, with every problem a finance user could fix named."""
    draft = BillDraft(
        voucher=invoice.voucher,
        label=_label(invoice),
        gp_vendor=invoice.vendor_id,
        invoice_number=invoice.invoice_number,
    )
    digits = invoice.decimal_digits if invoice.decimal_digits is not None else 2
    total = money(invoice.document_amount, digits)
    draft.amount = total
    draft.open_amount = money(invoice.remaining, digits)

    problems: list[str] = []
    if invoice.currency and org_currency and invoice.currency.upper() != org_currency.upper():
        problems.append(
            f"the invoice is in {invoice.currency}, but the BILL organization pays in {org_currency}"
        )
    if total <= 0:
        problems.append(f"the document amount is {total}; BILL only takes bills above zero")
    if not (invoice.invoice_number or "").strip():
        problems.append("the invoice has no vendor document number")
    if not _valid_date(invoice.date):
        problems.append("the invoice date is empty or impossible")
    if invoice.due_date is not None and not _valid_date(invoice.due_date):
        problems.append("the due date is impossible")

    lines, line_sum = build_lines(invoice, ctx, digits, draft.waiting_on, problems)
    if not lines:
        problems.append("the invoice has no purchase, freight, tax or misc distributions")
    elif line_sum != total:
        problems.append(f"its distributions add up to {line_sum}, not the document amount {total}")

    vendor_id = ctx.bill_vendor_id(invoice.vendor_id)
    on_hold = vendor_id is not None and ctx.vendor_archived(invoice.vendor_id)
    if vendor_id is None or on_hold:
        draft.waiting_on.insert(0, WaitFor(waits.VENDOR, invoice.vendor_id))

    if problems:
        draft.problem = "GP invoice " + invoice.voucher + ": " + "; ".join(problems) + "."
        draft.fix = "Correct the invoice in GP (it is picked up again when it changes), or choose Don't sync."
        return draft
    if hold_unknown(invoice, getattr(ctx, "tenant", None)):
        draft.waiting_on.insert(0, HOLD_UNKNOWN)
        draft.blocked_reason = (
            f"Not sent to BILL: GP Web Services does not show whether invoice "
            f"{invoice.invoice_number} (voucher {invoice.voucher}) is on hold in GP, and a held "
            "invoice must not reach BILL."
        )
        draft.fix = (
            "Check the invoice in GP. If AP never puts invoices on hold, a connector admin can turn on "
            "'send invoices read over GP Web Services, which cannot show invoice holds' for this tenant, "
            "then choose Replay."
        )
        return draft
    if on_hold:
        draft.blocked_reason = (
            f"GP vendor {invoice.vendor_id} is on hold or inactive, so its BILL vendor is "
            "archived and BILL will not take the bill."
        )
        draft.fix = "Release the vendor in GP; this bill then goes to BILL by itself."
        return draft
    if draft.waiting_on:
        draft.blocked_reason = waiting_sentence(draft.waiting_on)
        draft.fix = "Approve the mapping in Mappings; this bill then goes to BILL by itself."
        return draft

    description = voucher_marker(invoice.voucher)
    if invoice.description:
        description += " — " + " ".join(invoice.description.split())
    assert invoice.date is not None  # an empty date is a problem above, and a draft with problems returned
    payload: dict[str, Any] = {
        "vendorId": vendor_id,
        "invoice": {"invoiceNumber": invoice.invoice_number.strip(), "invoiceDate": invoice.date.isoformat()},
        "dueDate": (invoice.due_date or invoice.date).isoformat(),
        "description": description[:MAX_DESCRIPTION],
        "billLineItems": lines,
    }
    if invoice.po_number:
        payload["purchaseOrderNumber"] = invoice.po_number.strip()
    draft.payload = payload
    return draft

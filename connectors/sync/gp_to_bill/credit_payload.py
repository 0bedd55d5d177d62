"""Turn one GP credit memo or return (payables document types 5 and 4) into a BILL vendor credit body — or
say, in words, why it cannot be one yet.

The lines come from the same code as a bill's (`bill_payload.build_lines`), so whatever a bill line carries
(GL account, and the classifications GP's account segments give) a credit line carries too. A credit memo's
distributions are the reverse of an invoice's (the purchase line is a credit), so its lines are built with
sign -1 and come out positive, as BILL's vendor credit lines are.
"""

from __future__ import annotations

from audit import waits
from audit.waits import WaitFor
from audit.words import money_text
from connectors.gp.records import GPInvoice
from connectors.models import Tenant

from .bill_payload import (
    HOLD_UNKNOWN,
    MAX_DESCRIPTION,
    BillDraft,
    approved_by_policy,
    build_lines,
    hold_unknown,
    money,
    voucher_marker,
    waiting_sentence,
)
from .line_classifications import MappingLookups

CREDIT_TYPES = {"creditmemo": "credit memo", "return": "return"}


def is_credit(document: GPInvoice) -> bool:
    """A GP credit memo or return (SBA's DocumentType CreditMemo / Return)."""
    return (document.document_type or "").replace(" ", "").lower() in CREDIT_TYPES


def kind_word(document: GPInvoice) -> str:
    return CREDIT_TYPES.get((document.document_type or "").replace(" ", "").lower(), "credit")


def is_credit_approved(memo: GPInvoice, tenant: Tenant) -> tuple[bool, str]:
    """Whether the tenant's policy makes this GP credit a BILL vendor credit, and why not."""
    if not is_credit(memo):
        return False, f"GP document type {memo.document_type} is not a credit memo or return"
    if memo.is_voided:
        return False, "voided in GP"
    if memo.is_on_hold:
        return False, "on hold in GP"
    approved, why = approved_by_policy(memo, tenant)
    if why == "nothing remains to pay in GP":
        why = "nothing of it is left to apply in GP"
    elif why == "already fully paid in GP":
        why = "already fully applied in GP"
    return approved, why


def label(memo: GPInvoice) -> str:
    amount = money_text(memo.document_amount, memo.currency)
    return f"{memo.vendor_id} {kind_word(memo)} {memo.invoice_number} ({amount})"


def build_credit_draft(memo: GPInvoice, ctx: MappingLookups, org_currency: str = "USD") -> BillDraft:
    """The BILL vendor credit for a GP credit memo / return. `open_amount` is what GP has left to apply:
    BILL may let at most that much be used."""
    draft = BillDraft(
        voucher=memo.voucher, label=label(memo), gp_vendor=memo.vendor_id, invoice_number=memo.invoice_number
    )
    digits = memo.decimal_digits if memo.decimal_digits is not None else 2
    draft.amount = money(memo.document_amount, digits)
    draft.open_amount = money(memo.remaining, digits)
    problems: list[str] = []
    if memo.currency and org_currency and memo.currency.upper() != org_currency.upper():
        problems.append(f"it is in {memo.currency}, but the BILL organization pays in {org_currency}")
    if draft.amount <= 0:
        problems.append(f"the document amount is {draft.amount}; BILL only takes credits above zero")
    if not (memo.invoice_number or "").strip():
        problems.append("it has no vendor document number")
    if memo.date is None:
        problems.append("its date is empty or impossible")
    lines, line_sum = build_lines(memo, ctx, digits, draft.waiting_on, problems, sign=-1)
    if not lines:
        problems.append("it has no purchase, freight, tax or misc distributions")
    elif line_sum != draft.amount:
        problems.append(f"its distributions add up to {line_sum}, not the document amount {draft.amount}")
    vendor_id = ctx.bill_vendor_id(memo.vendor_id)
    archived = vendor_id is not None and ctx.vendor_archived(memo.vendor_id)
    if vendor_id is None or archived:
        draft.waiting_on.insert(0, WaitFor(waits.VENDOR, memo.vendor_id))
    if problems:
        draft.problem = f"GP {kind_word(memo)} {memo.voucher}: " + "; ".join(problems) + "."
        draft.fix = "Correct it in GP (it is picked up again when it changes), or choose Don't sync."
        return draft
    if hold_unknown(memo, getattr(ctx, "tenant", None)):
        draft.waiting_on.insert(0, HOLD_UNKNOWN)
        draft.blocked_reason = (
            f"Not sent to BILL: GP cannot show whether {kind_word(memo)} {memo.voucher} is on hold."
        )
        draft.fix = "Check it in GP; a connector admin may accept sending without the hold check."
        return draft
    if archived:
        draft.blocked_reason = (
            f"GP vendor {memo.vendor_id} is on hold or inactive, so its BILL vendor is archived "
            "and BILL will not take the credit."
        )
        draft.fix = "Release the vendor in GP; the credit then goes to BILL by itself."
        return draft
    if draft.waiting_on:
        draft.blocked_reason = waiting_sentence(draft.waiting_on)
        draft.fix = "Approve the mapping in Mappings; this credit then goes to BILL by itself."
        return draft
    description = voucher_marker(memo.voucher)
    if memo.description:
        description += " — " + " ".join(memo.description.split())
    assert memo.date is not None  # an empty date is a problem above, and a draft with problems returned
    draft.payload = {
        "vendorId": vendor_id,
        "referenceNumber": memo.invoice_number.strip(),
        "creditDate": memo.date.isoformat(),
        "description": description[:MAX_DESCRIPTION],
        "vendorCreditLineItems": lines,
    }
    return draft

"""What a BILL payment means for GP: is its money really out, and which GP payment method books it.

BILL payments carry two statuses. `status` (SCHEDULED, PAID, VOID, CANCELLED…) says whether BILL
sent the money; `singleStatus` (BILL's "Single status payment values", added Dec 2024) follows the
money after that, and moves on its own: an ACH the vendor's bank returns becomes
DISBURSEMENT_FAILED_ACTION_NEEDED while `status` still says PAID. So a PAID payment is only money
out when its singleStatus agrees.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.bill.records import BillPayment
from connectors.gp import resource_map as rm

from ..keys import OUTSIDE_MARK

# The vendor never got (or gave back) the money: a GP payment for it must be voided.
NOT_DISBURSED = frozenset(
    {
        "DISBURSEMENT_FAILED_ACTION_NEEDED",  # returned, not voided yet: BILL may void & reissue
        "DISBURSEMENT_FAILED_VENDOR_BANK_REJECTED",
        "FUNDS_ESCHEATED",  # never claimed by the vendor
        "VOID_PENDING",
        "VOIDED",
        "FUNDING_FAILED_VOIDED",
        "CANCELED",
    }
)
# The vendor was paid, but BILL could not debit the payer: the GP payment is right, treasury must act.
FUNDING_FAILED = frozenset({"FUNDING_FAILED_ACTION_NEEDED"})
# Each of these reads as a short sentence in a reason.
SAYS = {
    "DISBURSEMENT_FAILED_ACTION_NEEDED": "its disbursement was returned",
    "DISBURSEMENT_FAILED_VENDOR_BANK_REJECTED": "the vendor's bank rejected it",
    "FUNDS_ESCHEATED": "the vendor never claimed the funds",
    "VOID_PENDING": "it is being voided",
    "VOIDED": "it was voided",
    "FUNDING_FAILED_VOIDED": "its funding failed and it was voided",
    "CANCELED": "it was cancelled",
    "FUNDING_FAILED_ACTION_NEEDED": "BILL could not debit your funding account (the vendor was paid)",
}


def single_status(payment: BillPayment) -> str:
    return (payment.single_status or "").upper()


def not_disbursed(payment: BillPayment) -> bool:
    """True when BILL says the money did not reach the vendor, whatever `status` says."""
    return single_status(payment) in NOT_DISBURSED


def what_happened(payment: BillPayment) -> str:
    """Plain words for what BILL reports about this payment after it was sent."""
    single = single_status(payment)
    if single in SAYS:
        return SAYS[single]
    return f"it was {(payment.status or 'changed').lower()}"


@dataclass(frozen=True)
class Method:
    """The GP payment method for a BILL payment, or why it must wait."""

    method: str = ""
    card_name: str = ""
    waiting: str = ""  # a sentence when a person must set something first


def gp_method(payment: BillPayment, card_name: str) -> Method:
    """From BILL's funding account type and disbursement type (values: resource_map.PaymentMethod)."""
    methods = rm.PaymentMethod
    funding = (payment.funding_type or "").upper()
    if funding in methods.CARD_FUNDING:
        if not card_name:
            return Method(
                waiting="the payment was charged to a card, and GP needs a card name for credit card "
                "payments: set 'GP card name' on the tenant"
            )
        return Method(methods.CREDIT_CARD, card_name)
    disbursement = (payment.disbursement_type or "").upper()
    return Method(methods.BANK_BY_DISBURSEMENT.get(disbursement, methods.BANK_DEFAULT))


# The description of a payment we record in BILL for what GP applied outside it (bill_due.py).


def is_ours(payment: BillPayment) -> bool:
    """A payment we recorded in BILL (`POST /v3/bills/record-payment`) to mirror GP: not BILL's money."""
    return not payment.online_payment and OUTSIDE_MARK in (payment.description or "")

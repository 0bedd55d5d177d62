"""The keys and markers our writes carry in GP and BILL, so that either direction finds them again.

A GP payment's number and a credit apply's key are made from BILL's IDs (17 characters GP accepts, the
same every time), the batch and document number from the BILL payment, and the description that marks
a payment we recorded in BILL for money GP applied outside it. GP → BILL (amounts due, credits) and
BILL → GP (payments, credit applies, manual payments) both use them; neither owns them.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    from connectors.bill.records import BillPayment

OUTSIDE_MARK = "Applied in GP outside BILL: voucher "


def gp_payment_number(bill_payment_id: str) -> str:
    """17 characters GP accepts, the same every time for one BILL payment."""
    return "BL" + hashlib.sha256(bill_payment_id.encode()).hexdigest()[:15].upper()


def gp_batch(day: date | None) -> str:
    """The GP batch a BILL payment goes in: one per process date, named so a clerk sees where it came from."""
    return f"BILL{(day or timezone.now().date()):%Y%m%d}"


def payment_reference(payment: BillPayment) -> str:
    """The GP document number of a payment: BILL's confirmation number, else its transaction number or ID."""
    return str(payment.confirmation_number or payment.transaction_number or payment.id)[:20]


def apply_key(payment_id: str, credit_id: str, bill_id: str) -> str:
    """17 characters GP accepts as a key, the same every time for one use of one credit on one bill."""
    return "CA" + hashlib.sha256(f"{payment_id}:{credit_id}:{bill_id}".encode()).hexdigest()[:15].upper()


def outside_marker(voucher: str, outside_total: Decimal) -> str:
    """Names the voucher and GP's running total applied outside BILL: a repeat of the same recording
    carries the same text, so an unconfirmed one is recognised when BILL is read back."""
    return f"{OUTSIDE_MARK}{voucher}, {outside_total} in all"

"""GP records as frozen dataclasses: Decimal money at GP's 5 decimals, trimmed strings (GP pads char
columns), and None for GP's empty date 1900-01-01. `raw` keeps the payload for the audit trail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import resource_map as rm

GP_PLACES = Decimal("0.00001")
Raw = dict[str, Any]


def text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get(rm.KEY_ID)
    return "" if value is None else str(value).strip()


def amount(value: Any) -> Decimal:
    """GP money ({"Value": …} or a bare number) as a Decimal with 5 places."""
    if isinstance(value, dict):
        value = value.get(rm.MONEY_VALUE)
    return Decimal(str(value if value not in (None, "") else 0)).quantize(GP_PLACES)


def moment(value: Any) -> dt.datetime | None:
    """An aware UTC datetime, or None for GP's empty date."""
    raw = text(value)
    if not raw or raw.startswith(rm.EMPTY_DATE_PREFIX):
        return None
    parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def day(value: Any) -> dt.date | None:
    parsed = moment(value)
    return parsed.date() if parsed else None


@dataclass(frozen=True)
class GPVendor:
    vendor_id: str
    name: str
    short_name: str
    check_name: str
    status: str  # Active | Inactive | Temporary
    is_on_hold: bool
    tax_id: str
    email: str
    phone: str
    line1: str
    line2: str
    line3: str
    city: str
    state: str
    postal_code: str
    country: str
    class_id: str
    payment_terms: str
    created_date: dt.datetime | None
    modified_date: dt.datetime | None
    raw: Raw = field(repr=False, compare=False)

    @property
    def is_active(self) -> bool:
        return self.status == "Active"

    @classmethod
    def from_gp(cls, r: Raw) -> GPVendor:
        v, a = rm.Vendor, rm.Address
        addresses = {text(x.get(rm.KEY)): x for x in r.get(v.ADDRESSES) or []}
        # Payments go to the remit-to address; fall back to the default one, then to any.
        address: Raw = (
            addresses.get(text(r.get(v.REMIT_TO_ADDRESS)))
            or addresses.get(text(r.get(v.DEFAULT_ADDRESS)))
            or next(iter(addresses.values()), {})
        )
        default = addresses.get(text(r.get(v.DEFAULT_ADDRESS))) or address
        return cls(
            vendor_id=text(r.get(rm.KEY)),
            name=text(r.get(v.NAME)),
            short_name=text(r.get(v.SHORT_NAME)),
            check_name=text(r.get(v.CHECK_NAME)),
            status=text(r.get(v.STATUS)),
            is_on_hold=bool(r.get(v.ON_HOLD)),
            tax_id=text(r.get(v.TAX_ID)),
            email=text(address.get(a.EMAIL)) or text(default.get(a.EMAIL)),
            phone=text(address.get(a.PHONE)) or text(default.get(a.PHONE)),
            line1=text(address.get(a.LINE1)),
            line2=text(address.get(a.LINE2)),
            line3=text(address.get(a.LINE3)),
            city=text(address.get(a.CITY)),
            state=text(address.get(a.STATE)),
            postal_code=text(address.get(a.POSTAL_CODE)),
            country=text(address.get(a.COUNTRY)),
            class_id=text(r.get(v.CLASS)),
            payment_terms=text(r.get(v.TERMS)),
            created_date=moment(r.get(rm.CREATED)),
            modified_date=moment(r.get(rm.MODIFIED)),
            raw=r,
        )


@dataclass(frozen=True)
class GPDistribution:
    account: str
    type: str  # Purchase | Payable | Freight | Tax | Misc | Discount
    debit: Decimal
    credit: Decimal
    reference: str

    @classmethod
    def from_gp(cls, r: Raw) -> GPDistribution:
        d = rm.Distribution
        return cls(
            account=text(r.get(d.ACCOUNT)),
            type=text(r.get(d.TYPE)),
            debit=amount(r.get(d.DEBIT)),
            credit=amount(r.get(d.CREDIT)),
            reference=text(r.get(d.REFERENCE)),
        )


@dataclass(frozen=True)
class GPInvoice:
    voucher: str
    vendor_id: str
    document_type: str
    invoice_number: str  # the vendor's own number (VendorDocumentNumber)
    description: str
    date: dt.date | None
    due_date: dt.date | None
    posting_date: dt.date | None
    batch: str
    po_number: str
    purchases: Decimal
    trade_discount: Decimal
    freight: Decimal
    misc: Decimal
    tax: Decimal
    document_amount: Decimal
    remaining: Decimal  # CurrentTransactionAmount
    currency: str
    decimal_digits: int
    state: str  # Work | Open | History
    workflow_status: str
    is_on_hold: bool
    is_voided: bool
    distributions: tuple[GPDistribution, ...]
    created_date: dt.datetime | None
    modified_date: dt.datetime | None
    raw: Raw = field(repr=False, compare=False)
    # False when the interface cannot say whether the invoice is on hold (GP Web Services documents no hold
    # flag; its conversion sends IsOnHold as None). A missing key keeps the old reading: not on hold.
    hold_known: bool = True

    @classmethod
    def from_gp(cls, r: Raw) -> GPInvoice:
        i = rm.Invoice
        doc = r.get(i.DOCUMENT_AMOUNT)
        digits = r.get(i.DIGITS) or (doc.get(rm.MONEY_DIGITS) if isinstance(doc, dict) else None) or 2
        currency = text(r.get(i.CURRENCY)) or (
            text(doc.get(rm.MONEY_CURRENCY)) if isinstance(doc, dict) else ""
        )
        return cls(
            voucher=text(r.get(rm.KEY)),
            vendor_id=text(r.get(i.VENDOR)),
            document_type=text(r.get(i.DOCUMENT_TYPE)),
            invoice_number=text(r.get(i.DOCUMENT_NUMBER)),
            description=text(r.get(i.DESCRIPTION)),
            date=day(r.get(i.DATE)),
            due_date=day(r.get(i.DUE_DATE)),
            posting_date=day(r.get(i.POSTING_DATE)),
            batch=text(r.get(i.BATCH)),
            po_number=text(r.get(i.PO_NUMBER)),
            purchases=amount(r.get(i.PURCHASES)),
            trade_discount=amount(r.get(i.TRADE_DISCOUNT)),
            freight=amount(r.get(i.FREIGHT)),
            misc=amount(r.get(i.MISC)),
            tax=amount(r.get(i.TAX)),
            document_amount=amount(doc),
            remaining=amount(r.get(i.REMAINING)),
            currency=currency or "USD",
            decimal_digits=int(digits),
            state=text(r.get(i.STATE)),
            workflow_status=text(r.get(i.WORKFLOW)),
            is_on_hold=bool(r.get(i.ON_HOLD)),
            is_voided=bool(r.get(i.VOIDED)),
            distributions=tuple(GPDistribution.from_gp(d) for d in r.get(i.DISTRIBUTIONS) or []),
            created_date=moment(r.get(rm.CREATED)),
            modified_date=moment(r.get(rm.MODIFIED)),
            raw=r,
            hold_known=r.get(i.ON_HOLD, False) is not None,
        )


@dataclass(frozen=True)
class GPPayment:
    payment_number: str
    vendor_id: str
    checkbook_id: str
    method: str  # Check | EFT | Cash | CreditCard
    document_number: str
    date: dt.date | None
    amount: Decimal
    batch: str
    state: str
    apply_to: tuple[tuple[str, Decimal], ...]  # (voucher, amount)
    created_date: dt.datetime | None
    modified_date: dt.datetime | None
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_gp(cls, r: Raw) -> GPPayment:
        p = rm.Payment
        return cls(
            payment_number=text(r.get(rm.KEY)),
            vendor_id=text(r.get(p.VENDOR)),
            checkbook_id=text(r.get(p.CHECKBOOK)),
            method=text(r.get(p.METHOD)),
            document_number=text(r.get(p.DOCUMENT_NUMBER)),
            date=day(r.get(p.DATE)),
            amount=amount(r.get(p.AMOUNT)),
            batch=text(r.get(p.BATCH)),
            state=text(r.get(p.STATE)),
            apply_to=tuple(
                (text(a.get(p.APPLY_VOUCHER)), amount(a.get(p.APPLY_AMOUNT))) for a in r.get(p.APPLY_TO) or []
            ),
            created_date=moment(r.get(rm.CREATED)),
            modified_date=moment(r.get(rm.MODIFIED)),
            raw=r,
        )


@dataclass(frozen=True)
class GPApply:
    """A credit memo or return applied to vouchers in GP (the modelled PayablesApplies resource)."""

    key: str
    vendor_id: str
    credit_voucher: str
    amount: Decimal
    apply_to: tuple[tuple[str, Decimal], ...]  # (voucher, amount)
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_gp(cls, r: Raw) -> GPApply:
        a = rm.Apply
        return cls(
            key=text(r.get(rm.KEY)),
            vendor_id=text(r.get(a.VENDOR)),
            credit_voucher=text(r.get(a.CREDIT)),
            amount=amount(r.get(a.AMOUNT)),
            apply_to=tuple(
                (text(x.get(a.APPLY_VOUCHER)), amount(x.get(a.APPLY_AMOUNT))) for x in r.get(a.APPLY_TO) or []
            ),
            raw=r,
        )


@dataclass(frozen=True)
class GPGLAccount:
    account: str
    description: str
    category: str
    is_active: bool
    allow_entry: bool
    modified_date: dt.datetime | None

    @property
    def can_post(self) -> bool:
        return self.is_active and self.allow_entry

    @classmethod
    def from_gp(cls, r: Raw) -> GPGLAccount:
        g = rm.GLAccount
        return cls(
            account=text(r.get(rm.KEY)),
            description=text(r.get(g.DESCRIPTION)),
            category=text(r.get(g.CATEGORY)),
            is_active=bool(r.get(g.ACTIVE)),
            allow_entry=bool(r.get(g.ALLOW_ENTRY)),
            modified_date=moment(r.get(rm.MODIFIED)),
        )


@dataclass(frozen=True)
class GPCheckbook:
    checkbook_id: str
    description: str
    bank_last4: str
    currency: str
    is_inactive: bool
    modified_date: dt.datetime | None

    @classmethod
    def from_gp(cls, r: Raw) -> GPCheckbook:
        c = rm.Checkbook
        return cls(
            checkbook_id=text(r.get(rm.KEY)),
            description=text(r.get(c.DESCRIPTION)),
            bank_last4=text(r.get(c.LAST4)),
            currency=text(r.get(c.CURRENCY)),
            is_inactive=bool(r.get(c.INACTIVE)),
            modified_date=moment(r.get(rm.MODIFIED)),
        )


@dataclass(frozen=True)
class GPPurchaseOrder:
    po_number: str
    vendor_id: str
    status: str
    date: dt.date | None
    total: Decimal
    modified_date: dt.datetime | None
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_gp(cls, r: Raw) -> GPPurchaseOrder:
        o = rm.PurchaseOrder
        return cls(
            po_number=text(r.get(rm.KEY)),
            vendor_id=text(r.get(o.VENDOR)),
            status=text(r.get(o.STATUS)),
            date=day(r.get(o.DATE)),
            total=amount(r.get(o.TOTAL)),
            modified_date=moment(r.get(rm.MODIFIED)),
            raw=r,
        )

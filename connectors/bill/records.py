"""Typed views of BILL's JSON: frozen dataclasses with Decimal money and parsed dates; `raw` keeps the
whole answer for anything not lifted out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")


def to_money(value: Any) -> Decimal:
    """BILL's JSON number (read as Decimal, never float) rounded to cents; None counts as zero."""
    if value is None or value == "":
        return Decimal("0.00")
    if isinstance(value, float):
        value = repr(value)  # only if a caller parsed without parse_float=Decimal
    return Decimal(str(value)).quantize(CENT)


def to_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def to_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class BillAddress:
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    country: str = ""

    @classmethod
    def from_api(cls, d: dict[str, Any] | None) -> BillAddress:
        d = d or {}
        return cls(
            d.get("line1") or "",
            d.get("line2") or "",
            d.get("city") or "",
            d.get("stateOrProvince") or "",
            d.get("zipOrPostalCode") or "",
            d.get("country") or "",
        )


@dataclass(frozen=True)
class BillVendor:
    id: str
    name: str
    archived: bool
    short_name: str
    email: str
    phone: str
    account_number: str
    account_type: str
    tax_id: str
    track_1099: bool
    payee_name: str
    bill_currency: str
    address: BillAddress
    updated_time: datetime | None
    raw: dict[str, Any]

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> BillVendor:
        extra = d.get("additionalInfo") or {}
        return cls(
            id=d["id"],
            name=d.get("name") or "",
            archived=bool(d.get("archived")),
            short_name=d.get("shortName") or "",
            email=d.get("email") or "",
            phone=d.get("phone") or "",
            account_number=str(d.get("accountNumber") or ""),
            account_type=d.get("accountType") or "",
            tax_id=extra.get("taxId") or "",
            track_1099=bool(extra.get("track1099")),
            payee_name=(d.get("paymentInformation") or {}).get("payeeName") or "",
            bill_currency=d.get("billCurrency") or "",
            address=BillAddress.from_api(d.get("address")),
            updated_time=to_datetime(d.get("updatedTime")),
            raw=d,
        )


@dataclass(frozen=True)
class BillLineItem:
    id: str
    amount: Decimal
    description: str
    chart_of_account_id: str | None
    department_id: str | None = None
    location_id: str | None = None
    accounting_class_id: str | None = None

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> BillLineItem:
        c = d.get("classifications") or {}
        return cls(
            d.get("id") or "",
            to_money(d.get("amount")),
            d.get("description") or "",
            c.get("chartOfAccountId"),
            c.get("departmentId") or None,
            c.get("locationId") or None,
            c.get("accountingClassId") or None,
        )


@dataclass(frozen=True)
class BillBill:
    id: str
    vendor_id: str
    invoice_number: str
    invoice_date: date | None
    due_date: date | None
    amount: Decimal
    paid_amount: Decimal
    due_amount: Decimal
    scheduled_amount: Decimal
    payment_status: str
    approval_status: str
    description: str
    purchase_order_number: str
    archived: bool
    line_items: tuple[BillLineItem, ...]
    updated_time: datetime | None
    raw: dict[str, Any]
    credit_amount: Decimal = Decimal(
        "0.00"
    )  # vendor credits used on the bill (lower its due as a payment does)

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> BillBill:
        invoice = d.get("invoice") or {}
        return cls(
            id=d["id"],
            vendor_id=d.get("vendorId") or "",
            invoice_number=str(invoice.get("invoiceNumber") or ""),
            invoice_date=to_date(invoice.get("invoiceDate")),
            due_date=to_date(d.get("dueDate")),
            amount=to_money(d.get("amount")),
            paid_amount=to_money(d.get("paidAmount")),
            due_amount=to_money(d.get("dueAmount")),
            scheduled_amount=to_money(d.get("scheduledAmount")),
            payment_status=d.get("paymentStatus") or "",
            approval_status=d.get("approvalStatus") or "",
            description=d.get("description") or "",
            purchase_order_number=d.get("purchaseOrderNumber") or "",
            archived=bool(d.get("archived")),
            line_items=tuple(BillLineItem.from_api(i) for i in d.get("billLineItems") or ()),
            updated_time=to_datetime(d.get("updatedTime")),
            raw=d,
            credit_amount=to_money(d.get("creditAmount")),
        )


@dataclass(frozen=True)
class BillPayment:
    id: str
    vendor_id: str
    status: str
    single_status: str
    amount: Decimal
    process_date: date | None
    funding_account_id: str | None
    funding_type: str
    transaction_number: str
    confirmation_number: str
    disbursement_type: str
    online_payment: bool  # False: a payment recorded in BILL as made outside it (no money moved)
    description: str
    bill_payments: tuple[tuple[str, Decimal], ...]
    updated_time: datetime | None
    raw: dict[str, Any]
    # Vendor credits used: (bill ID, vendor credit ID, amount) from billPayments[].vendorCredits[{id,
    # amount}].
    vendor_credits: tuple[tuple[str, str, Decimal], ...] = ()

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> BillPayment:
        funding = d.get("fundingAccount") or d.get("funding") or {}
        lines = tuple(
            (p["billId"], to_money(p.get("amount"))) for p in d.get("billPayments") or () if p.get("billId")
        )
        if not lines and d.get("billId"):
            lines = ((d["billId"], to_money(d.get("amount"))),)
        return cls(
            id=d["id"],
            vendor_id=d.get("vendorId") or (d.get("vendor") or {}).get("id") or "",
            status=d.get("status") or "",
            single_status=d.get("singleStatus") or "",
            amount=to_money(d.get("amount")),
            process_date=to_date(d.get("processDate")),
            funding_account_id=funding.get("id"),
            funding_type=funding.get("type") or "",
            transaction_number=d.get("transactionNumber") or "",
            confirmation_number=d.get("confirmationNumber") or "",
            disbursement_type=d.get("disbursementType") or "",
            online_payment=d.get("onlinePayment") is not False,
            description=d.get("description") or "",
            bill_payments=lines,
            updated_time=to_datetime(d.get("updatedTime")),
            raw=d,
            vendor_credits=tuple(
                (p["billId"], str(c.get("id") or ""), to_money(c.get("amount")))
                for p in d.get("billPayments") or ()
                if p.get("billId")
                for c in p.get("vendorCredits") or ()
                if c.get("id")
            ),
        )


@dataclass(frozen=True)
class BillVendorCredit:
    """A BILL vendor credit: its amount, what BILL has applied of it, and where (usage)."""

    id: str
    vendor_id: str
    reference_number: str
    credit_date: date | None
    description: str
    amount: Decimal
    applied_amount: Decimal
    status: str  # NOT_APPLIED | PARTIALLY_APPLIED | FULLY_APPLIED (BILL also shows IN_PROCESS)
    archived: bool
    line_items: tuple[BillLineItem, ...]
    usage: tuple[tuple[str, str, Decimal], ...]  # (bill ID, payment ID, amount)
    raw: dict[str, Any]

    @property
    def usable(self) -> Decimal:
        return Decimal(0) if self.archived else max(self.amount - self.applied_amount, Decimal(0))

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> BillVendorCredit:
        return cls(
            id=d["id"],
            vendor_id=d.get("vendorId") or "",
            reference_number=str(d.get("referenceNumber") or ""),
            credit_date=to_date(d.get("creditDate")),
            description=d.get("description") or "",
            amount=to_money(d.get("amount")),
            applied_amount=to_money(d.get("appliedAmount")),
            status=d.get("status") or "",
            archived=bool(d.get("archived")),
            line_items=tuple(BillLineItem.from_api(i) for i in d.get("vendorCreditLineItems") or ()),
            usage=tuple(
                (u.get("billId") or "", u.get("paymentId") or "", to_money(u.get("amount")))
                for u in d.get("usage") or ()
            ),
            raw=d,
        )


@dataclass(frozen=True)
class BillChartOfAccount:
    id: str
    name: str
    number: str | None
    account_type: str
    archived: bool
    parent_id: str | None
    description: str
    raw: dict[str, Any]

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> BillChartOfAccount:
        account = d.get("account") or {}
        return cls(
            d["id"],
            d.get("name") or "",
            account.get("number"),
            account.get("type") or "",
            bool(d.get("archived")),
            d.get("parentId"),
            d.get("description") or "",
            d,
        )


@dataclass(frozen=True)
class BillClassification:
    """A department or location."""

    id: str
    name: str
    short_name: str
    archived: bool
    raw: dict[str, Any]

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> BillClassification:
        return cls(d["id"], d.get("name") or "", d.get("shortName") or "", bool(d.get("archived")), d)


@dataclass(frozen=True)
class BillFundingAccount:
    """A bank account payments are funded from."""

    id: str
    bank_name: str
    name_on_account: str
    account_number: str
    status: str
    chart_of_account_id: str | None
    archived: bool
    raw: dict[str, Any]

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> BillFundingAccount:
        return cls(
            d["id"],
            d.get("bankName") or "",
            d.get("nameOnAccount") or "",
            d.get("accountNumber") or "",
            d.get("status") or "",
            d.get("chartOfAccountId"),
            bool(d.get("archived")),
            d,
        )


@dataclass(frozen=True)
class BillSubscription:
    id: str
    name: str
    notification_url: str
    enabled: bool
    events: tuple[str, ...]
    raw: dict[str, Any]

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> BillSubscription:
        return cls(
            d["id"],
            d.get("name") or "",
            d.get("notificationUrl") or "",
            bool((d.get("status") or {}).get("enabled")),
            tuple(e.get("type", "") for e in d.get("events") or ()),
            d,
        )

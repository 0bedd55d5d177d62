"""Every path, query parameter and field name of docs/gp_sba.md Part B, in one place (GP's words).

Pure vocabulary, no I/O: it sits below the clients so the tenant records can use it; the GP client reads
it as `connectors.gp.resource_map`, which re-exports it.

Part B is a model of SBA, not a capture. A deployment whose server's help page
(`/GPService/Tenants(<tenant>)/help`) names something differently is adjusted here, not in the sync code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

# --- URLs -------------------------------------------------------------------------------------------
COMPANY_ROOT = "GPService/Tenants({tenant})/Companies({company})/"
VENDORS = "Purchasing/Vendors"
PAYABLES_INVOICES = "Purchasing/PayablesInvoices"
PAYABLES_PAYMENTS = "Purchasing/PayablesPayments"
PURCHASE_ORDERS = "Purchasing/PurchaseOrders"
# MODELLED, not in gp_sba.md Part B: applying a posted credit memo or return to open vouchers. GP itself
# does this in Transactions › Purchasing › Apply Payables Documents, and eConnect offers it as taPMApply
# (PMApplyType); SBA's published resources and GP Web Services offer no apply. A deployment that exposes
# it (an SBA extension over taPMApply) names its path here. See docs/credits.md.
PAYABLES_APPLIES = "Purchasing/PayablesApplies"
GL_ACCOUNTS = "Financials/GLAccounts"
CHECKBOOKS = "Financials/Checkbooks"
BATCH = "PostingServices/System/Batches({source};{batch})"
KEYED = "{resource}({key})"
CUSTOM_ACTION_HEADER = "GP-Custom-Action"
CUSTOM_ACTION_POST = "POST"
PAYMENT_BATCH_SOURCE = "PM_Payment"  # manual payments
INVOICE_BATCH_SOURCE = "PM_Trxent"  # payables transaction entry

# --- list queries -------------------------------------------------------------------------------------
FILTER, ORDERBY, TOP, SKIP = "$filter", "$orderby", "$top", "$skip"
STABLE_ORDER = "ModifiedDate,Key"
MODIFIED_SINCE = "ModifiedDate ge {stamp}"
STATE_IS = "TransactionState eq '{state}'"
VENDOR_IS = "VendorId eq '{vendor_id}'"
FILTER_JOIN = " and "
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PAGE_SIZE = 500
MAX_TOP = 1000

# --- envelope and errors --------------------------------------------------------------------------------
PAYLOAD, PAGING = "Payload", "Paging"
ERROR, ERROR_CODE, ERROR_MESSAGE, ERROR_LOG_ID = "Error", "Code", "Message", "LogId"
CODE_DUPLICATE = "DuplicateKey"
CODES_LOCKED = ("RecordLocked", "BatchLocked")
CODE_POSTED = "DocumentPosted"
CODE_COMPANY_NOT_FOUND = "CompanyNotFound"
CODE_TENANT_NOT_FOUND = "TenantNotFound"

# --- shared value shapes ----------------------------------------------------------------------------------
KEY_ID = "Id"  # keys are {"Id": "…"}
MONEY_VALUE, MONEY_CURRENCY, MONEY_DIGITS = "Value", "Currency", "DecimalDigits"
EMPTY_DATE_PREFIX = "1900-01-01"
KEY, MODIFIED, CREATED = "Key", "ModifiedDate", "CreatedDate"


class Vendor:
    NAME, SHORT_NAME, CHECK_NAME, CLASS = "Name", "ShortName", "CheckName", "ClassKey"
    STATUS, ON_HOLD, TAX_ID, TERMS = "Status", "IsOnHold", "TaxIdNumber", "PaymentTermsKey"
    DEFAULT_ADDRESS, REMIT_TO_ADDRESS, ADDRESSES = "DefaultAddressKey", "RemitToAddressKey", "Addresses"


class Address:
    CONTACT, LINE1, LINE2, LINE3 = "ContactPerson", "Line1", "Line2", "Line3"
    CITY, STATE, POSTAL_CODE, COUNTRY, PHONE, EMAIL = (
        "City",
        "State",
        "PostalCode",
        "CountryCode",
        "Phone1",
        "Email",
    )


class Invoice:
    VENDOR, DOCUMENT_TYPE, DOCUMENT_NUMBER = "VendorKey", "DocumentType", "VendorDocumentNumber"
    DESCRIPTION, DATE, DUE_DATE, POSTING_DATE = "Description", "Date", "DueDate", "PostingDate"
    BATCH, PO_NUMBER, CURRENCY, DIGITS = "BatchKey", "PONumber", "CurrencyKey", "DecimalDigits"
    PURCHASES, TRADE_DISCOUNT, FREIGHT = "PurchasesAmount", "TradeDiscountAmount", "FreightAmount"
    MISC, TAX, DOCUMENT_AMOUNT, REMAINING = (
        "MiscellaneousAmount",
        "TaxAmount",
        "DocumentAmount",
        "CurrentTransactionAmount",
    )
    STATE, WORKFLOW, ON_HOLD, VOIDED = "TransactionState", "WorkflowStatus", "IsOnHold", "IsVoided"
    DISTRIBUTIONS = "Distributions"


class Distribution:
    ACCOUNT, TYPE, DEBIT, CREDIT, REFERENCE = (
        "GLAccountKey",
        "DistributionType",
        "DebitAmount",
        "CreditAmount",
        "Reference",
    )


class Payment:
    VENDOR, CHECKBOOK, METHOD, DOCUMENT_NUMBER = (
        "VendorKey",
        "CheckbookKey",
        "PaymentMethod",
        "DocumentNumber",
    )
    DATE, AMOUNT, BATCH, STATE, APPLY_TO = "Date", "Amount", "BatchKey", "TransactionState", "ApplyTo"
    APPLY_VOUCHER, APPLY_AMOUNT = "VoucherKey", "Amount"
    CARD_NAME = "CardName"  # GP's Credit Card Setup name; required when METHOD is CreditCard


class Apply:
    """A credit memo / return applied to vouchers (modelled; see PAYABLES_APPLIES). 409 DuplicateKey on a
    key GP has; 400 OverApplied above the credit's or a voucher's remaining amount."""

    VENDOR, CREDIT, DATE, AMOUNT, APPLY_TO = "VendorKey", "CreditVoucherKey", "Date", "Amount", "ApplyTo"
    APPLY_VOUCHER, APPLY_AMOUNT = "VoucherKey", "Amount"


class PaymentMethod:
    """GP manual payment methods, and which one a BILL payment becomes.

    GP books a payment by how *the payer* paid: money out of a bank checkbook is a Check (BILL mailed a
    check) or EFT (ACH, virtual card, RPPS, international, wallet: still bank money); money charged to a
    card is CreditCard, which GP only takes with a card name (a per-tenant rule: Tenant.gp_card_name).
    """

    CHECK, EFT, CASH, CREDIT_CARD = "Check", "EFT", "Cash", "CreditCard"
    # BILL fundingAccount.type → paid from a bank (GP checkbook) or charged to a card.
    BANK_FUNDING = frozenset({"BANK_ACCOUNT", "WALLET", ""})  # a payment without funding info: its checkbook
    CARD_FUNDING = frozenset({"CARD_ACCOUNT", "AP_CARD"})
    # BILL disbursementType of a bank-funded payment → GP method; anything else is EFT.
    BANK_BY_DISBURSEMENT = {"CHECK": CHECK}
    BANK_DEFAULT = EFT


class GLAccount:
    DESCRIPTION, CATEGORY, ACTIVE, ALLOW_ENTRY = "Description", "Category", "IsActive", "AllowAccountEntry"


class Checkbook:
    DESCRIPTION, LAST4, CURRENCY, INACTIVE = "Description", "BankAccountLast4", "CurrencyKey", "IsInactive"


class PurchaseOrder:
    VENDOR, STATUS, DATE, TOTAL = "VendorKey", "Status", "Date", "TotalAmount"


# --- how one GP server spells things (per-connection overrides) ------------------------------------------
# Part B is a model. These are the parts a real server may answer differently; a GP connection's
# confirmed overrides (connectors.models.GPResourceOverride) replace any of them, the fit check proposes
# them, and the SOAP transport reads the same vocabularies. Keys of each vocabulary are what GP sends
# (as text), values are the connector's own words.
ENVELOPE_BARE = ""  # the answer is the list (a JSON array) or the record itself
PRECISION_TIME, PRECISION_DAY = "time", "day"
VENDOR_STATUS_WORDS = ("Active", "Inactive", "Temporary")
# GP's PM distribution types (DISTTYPE): the names Part B uses and GP's own numbers for them.
DISTRIBUTION_TYPES = {
    "Cash": "Cash",
    "Payable": "Payable",
    "Discount": "Discount",
    "Misc": "Misc",
    "Freight": "Freight",
    "Tax": "Tax",
    "Purchase": "Purchase",
    "Other": "Other",
    "1": "Cash",
    "2": "Payable",
    "3": "DiscountAvailable",
    "4": "DiscountTaken",
    "5": "FinanceCharge",
    "6": "Purchase",
    "7": "Discount",
    "8": "Misc",
    "9": "Freight",
    "10": "Tax",
    "11": "Writeoff",
    "12": "Other",
    "13": "GSTDiscount",
    "14": "PPSAmount",
    "16": "Round",
    "17": "RealizedGain",
    "18": "RealizedLoss",
    "19": "DueTo",
    "20": "DueFrom",
}
TRANSACTION_STATES = {"Work": "Work", "Open": "Open", "History": "History"}
PAYMENT_METHODS = {"Check": "Check", "EFT": "EFT", "Cash": "Cash", "CreditCard": "CreditCard"}  # ours -> GP's
VENDOR_ADDRESSES_EMBEDDED = "Addresses"
# A server may list vendor addresses as a resource of their own (GP keeps them in PM00300), one row per
# address with the vendor's key, read with `VendorId eq '…'`: set `vendor_address_resource` to its path.
VENDOR_ADDRESS_RESOURCE = "Purchasing/VendorAddresses"
ADDRESS_VENDOR = "VendorKey"  # on an address row of that resource: whose address it is


@dataclass(frozen=True)
class Shape:
    """One GP server's envelope, stamp precision and value vocabularies (Part B by default)."""

    envelope: str = PAYLOAD  # key holding a list's records; ENVELOPE_BARE: the answer is the array
    record_envelope: str = PAYLOAD  # key holding a single record; ENVELOPE_BARE: the answer is the record
    modified_precision: str = PRECISION_TIME  # "day": ModifiedDate carries a date only (GP's MODIFDT)
    vendor_status_field: str = Vendor.STATUS  # or "IsActive" (a boolean)
    vendor_statuses: Mapping[str, str] = field(default_factory=lambda: {w: w for w in VENDOR_STATUS_WORDS})
    distribution_types: Mapping[str, str] = field(default_factory=lambda: dict(DISTRIBUTION_TYPES))
    transaction_states: Mapping[str, str] = field(default_factory=lambda: dict(TRANSACTION_STATES))
    payment_methods: Mapping[str, str] = field(default_factory=lambda: dict(PAYMENT_METHODS))
    vendor_addresses: str = VENDOR_ADDRESSES_EMBEDDED  # the vendor field listing its addresses
    vendor_address_resource: str = ""  # "": addresses come inside the vendor; else the resource listing them

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None) -> Shape:
        """Part B with `overrides` applied; an unknown key or a value of the wrong kind is a ValueError."""
        overrides = dict(overrides or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ValueError(
                f"Unknown GP resource map setting(s): {', '.join(unknown)}. Known: {', '.join(known)}."
            )
        base = cls()
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            default = getattr(base, name)
            if isinstance(default, Mapping):
                if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
                    raise ValueError(f'{name} must map what GP sends to a word, e.g. {{"1": "Work"}}.')
                values[name] = {**default, **{str(k): v for k, v in value.items()}}
            elif not isinstance(value, str):
                raise ValueError(f"{name} must be text, e.g. {default!r}.")
            else:
                values[name] = value
        if values.get("modified_precision", PRECISION_TIME) not in (PRECISION_TIME, PRECISION_DAY):
            raise ValueError("modified_precision is 'time' or 'day'.")
        if values.get("vendor_status_field", Vendor.STATUS) not in (Vendor.STATUS, VENDOR_IS_ACTIVE):
            raise ValueError(f"vendor_status_field is '{Vendor.STATUS}' or '{VENDOR_IS_ACTIVE}'.")
        resource = values.get("vendor_address_resource", "")
        if resource and not _RESOURCE_PATH.match(resource):
            raise ValueError(
                f"vendor_address_resource is a GP resource path such as '{VENDOR_ADDRESS_RESOURCE}', "
                "or blank when addresses come inside the vendor."
            )
        return cls(**values)

    @property
    def day_stamps(self) -> bool:
        return self.modified_precision == PRECISION_DAY

    def differences(self) -> dict[str, Any]:
        """The settings that differ from Part B (what an override row stores)."""
        base = Shape()
        out: dict[str, Any] = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(base, f.name)
            if isinstance(mine, Mapping):
                changed = {k: v for k, v in mine.items() if theirs.get(k) != v}
                if changed:
                    out[f.name] = changed
            elif mine != theirs:
                out[f.name] = mine
        return out

    # --- records into Part B words (raises GPShapeError naming what came) -------------------------
    def vendor(self, raw: dict[str, Any]) -> dict[str, Any]:
        """A vendor in Part B words. Its addresses are under `vendor_addresses`, or, with
        `vendor_address_resource`, under Addresses where the client put them after reading that resource;
        a vendor without the field is an error, never a vendor without addresses."""
        field_name = Vendor.ADDRESSES if self.vendor_address_resource else self.vendor_addresses
        if field_name not in raw:
            where = (
                f"the addresses read from {self.vendor_address_resource}"
                if self.vendor_address_resource
                else f"its addresses under '{field_name}'"
            )
            raise GPShapeError(
                "a vendor",
                where,
                f"no '{field_name}' (fields: {', '.join(list(raw)[:8])}); GP may "
                f"list vendor addresses in a resource of their own (vendor_address_resource)",
                _record_key(raw),
            )
        if (
            field_name != Vendor.ADDRESSES
        ):  # the server names the field listing a vendor's addresses differently
            raw = {**raw, Vendor.ADDRESSES: raw[field_name] or []}
        if self.vendor_status_field == VENDOR_IS_ACTIVE:
            if VENDOR_IS_ACTIVE not in raw or not isinstance(raw[VENDOR_IS_ACTIVE], bool):
                raise GPShapeError(
                    "a vendor",
                    f"'{VENDOR_IS_ACTIVE}' true or false",
                    _fields_of(raw, VENDOR_IS_ACTIVE),
                    _record_key(raw),
                )
            return {**raw, Vendor.STATUS: "Active" if raw[VENDOR_IS_ACTIVE] else "Inactive"}
        if Vendor.STATUS not in raw:
            raise GPShapeError(
                "a vendor",
                f"a '{Vendor.STATUS}' field ({', '.join(self.vendor_statuses)})",
                _fields_of(raw, Vendor.STATUS),
                _record_key(raw),
            )
        word = self._word("vendor status", self.vendor_statuses, raw[Vendor.STATUS], raw)
        return {**raw, Vendor.STATUS: word}

    def invoice(self, raw: dict[str, Any]) -> dict[str, Any]:
        out = dict(raw)
        if Invoice.STATE in raw:
            out[Invoice.STATE] = self._word(
                "transaction state", self.transaction_states, raw[Invoice.STATE], raw
            )
        out[Invoice.DISTRIBUTIONS] = [
            {
                **d,
                Distribution.TYPE: self._word(
                    "distribution type", self.distribution_types, d.get(Distribution.TYPE), raw
                ),
            }
            for d in raw.get(Invoice.DISTRIBUTIONS) or []
        ]
        return out

    def payment(self, raw: dict[str, Any]) -> dict[str, Any]:
        out = dict(raw)
        if Payment.STATE in raw:
            out[Payment.STATE] = self._word(
                "transaction state", self.transaction_states, raw[Payment.STATE], raw
            )
        if Payment.METHOD in raw:
            back = {gp: ours for ours, gp in self.payment_methods.items()}
            out[Payment.METHOD] = self._word("payment method", back, raw[Payment.METHOD], raw)
        return out

    def payment_method_out(self, method: str) -> str:
        return self.payment_methods.get(method, method)

    @staticmethod
    def _word(what: str, vocabulary: Mapping[str, str], value: Any, raw: dict[str, Any]) -> str:
        said = "" if value is None else str(value).strip()
        if said not in vocabulary:
            raise GPShapeError(
                f"a {what}",
                "one of " + ", ".join(sorted(set(vocabulary))),
                f"'{said}'" if said else "nothing",
                _record_key(raw),
            )
        return vocabulary[said]


VENDOR_IS_ACTIVE = "IsActive"
_RESOURCE_PATH = re.compile(r"^(?:Purchasing|Financials|Administration)/[A-Za-z]+$")


class GPShapeError(Exception):
    """GP answered in a shape or with a value the resource map does not describe.

    Never read as "nothing there": the run stops, and the message names what was expected and what
    came, so an admin can set the connection's resource map (or report a server that is not GP).
    """

    retryable = False
    code = "shape"

    def __init__(self, what: str, expected: str, came: str, key: str = "") -> None:
        where = f" (record {key})" if key else ""
        self.what, self.expected, self.came = what, expected, came
        self.message = (
            f"GP answered differently from the resource map for {what}{where}: expected {expected}, "
            f"but GP sent {came}. Nothing was read as empty; set this connection's GP resource map "
            "(Connector admins) or run the fit check."
        )
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def describe(value: Any) -> str:
    """What GP sent, in a few words (never the whole body)."""
    if value is None:
        return "an empty answer"
    if isinstance(value, list):
        return f"a JSON array of {len(value)} item(s)"
    if isinstance(value, dict):
        keys = ", ".join(list(value)[:6]) + (", …" if len(value) > 6 else "")
        return f"a JSON object with keys {keys}" if value else "an empty JSON object"
    return f"a JSON {type(value).__name__}"


def _record_key(raw: Any) -> str:
    key = raw.get(KEY) if isinstance(raw, dict) else None
    key = key.get(KEY_ID) if isinstance(key, dict) else key
    return str(key or "").strip()


def _fields_of(raw: dict[str, Any], missing: str) -> str:
    near = [k for k in raw if k in (Vendor.STATUS, VENDOR_IS_ACTIVE)]
    if near:
        return ", ".join(f"{k}={raw[k]!r}" for k in near)
    return f"no '{missing}' (fields: {', '.join(list(raw)[:8])})"

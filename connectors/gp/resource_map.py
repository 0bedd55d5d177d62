"""Every path, query parameter and field name of gp_sba.md Part B, in one place.

Part B is a model of SBA, not a capture. A deployment whose server's help page
(`/GPService/Tenants(<tenant>)/help`) names something differently is adjusted here, not in the sync code.
"""

from __future__ import annotations

# --- URLs -------------------------------------------------------------------------------------------
COMPANY_ROOT = "GPService/Tenants({tenant})/Companies({company})/"
VENDORS = "Purchasing/Vendors"
PAYABLES_INVOICES = "Purchasing/PayablesInvoices"
PAYABLES_PAYMENTS = "Purchasing/PayablesPayments"
PURCHASE_ORDERS = "Purchasing/PurchaseOrders"
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
    CITY, STATE, POSTAL_CODE, COUNTRY, PHONE, EMAIL = "City", "State", "PostalCode", "CountryCode", "Phone1", "Email"


class Invoice:
    VENDOR, DOCUMENT_TYPE, DOCUMENT_NUMBER = "VendorKey", "DocumentType", "VendorDocumentNumber"
    DESCRIPTION, DATE, DUE_DATE, POSTING_DATE = "Description", "Date", "DueDate", "PostingDate"
    BATCH, PO_NUMBER, CURRENCY, DIGITS = "BatchKey", "PONumber", "CurrencyKey", "DecimalDigits"
    PURCHASES, TRADE_DISCOUNT, FREIGHT = "PurchasesAmount", "TradeDiscountAmount", "FreightAmount"
    MISC, TAX, DOCUMENT_AMOUNT, REMAINING = "MiscellaneousAmount", "TaxAmount", "DocumentAmount", "CurrentTransactionAmount"
    STATE, WORKFLOW, ON_HOLD, VOIDED = "TransactionState", "WorkflowStatus", "IsOnHold", "IsVoided"
    DISTRIBUTIONS = "Distributions"


class Distribution:
    ACCOUNT, TYPE, DEBIT, CREDIT, REFERENCE = "GLAccountKey", "DistributionType", "DebitAmount", "CreditAmount", "Reference"


class Payment:
    VENDOR, CHECKBOOK, METHOD, DOCUMENT_NUMBER = "VendorKey", "CheckbookKey", "PaymentMethod", "DocumentNumber"
    DATE, AMOUNT, BATCH, STATE, APPLY_TO = "Date", "Amount", "BatchKey", "TransactionState", "ApplyTo"
    APPLY_VOUCHER, APPLY_AMOUNT = "VoucherKey", "Amount"
    CARD_NAME = "CardName"  # GP's Credit Card Setup name; required when METHOD is CreditCard


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

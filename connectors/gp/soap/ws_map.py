"""Every operation, element and namespace of GP Web Services the connector uses, in one place.

The names follow Microsoft's "Web Service Reference" for Dynamics GP (learn.microsoft.com,
previous-versions/dynamicsgp/developer: GetVendorList cc508561, GetVendorByKey cc508560,
VendorSummary cc533835, GetLoggedValidationResultByKey cc508495, "Validation exceptions" cc508745)
and the types of the real WSDL as public generated code shows them (JAXB packages
`com.microsoft.schemas.dynamics.gp._2006._01` and `com.microsoft.schemas.dynamics._2006._01`).
`docs/gp_web_services.md` lists which facts are documented and which are modelled. A deployment
whose WSDL differs is adjusted here, not in the client or the flows.
"""

from __future__ import annotations

# --- endpoint ------------------------------------------------------------------------------------
# Legacy (ASMX-compatible, BasicHttpBinding) endpoint; the native WCF one is …/Dynamics/GPService/GPService.
LEGACY_PATH = "/DynamicsGPWebServices/DynamicsGPService.asmx"
DEFAULT_PORT = 48620
WSDL_QUERY = "?wsdl"

# --- namespaces ------------------------------------------------------------------------------------
NS_GP = "http://schemas.microsoft.com/dynamics/gp/2006/01"  # business objects, criteria, operations
NS_DYNAMICS = "http://schemas.microsoft.com/dynamics/2006/01"  # Context, OrganizationKey, CompanyKey
NS_SECURITY = "http://schemas.microsoft.com/dynamics/security/2006/01"  # RoleKey
NS_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"

# --- the Context every call takes -----------------------------------------------------------------
CONTEXT_TYPE = f"{{{NS_DYNAMICS}}}Context"
COMPANY_KEY_TYPE = f"{{{NS_DYNAMICS}}}CompanyKey"  # an OrganizationKey with an *integer* Id
CURRENCY_TYPE_LOCAL = "Local"  # Context.CurrencyType: Local | Transactional
CULTURE = "en-US"

# --- operations ----------------------------------------------------------------------------------
GET_COMPANY_LIST = "GetCompanyList"
GET_VENDOR_LIST, GET_VENDOR_BY_KEY, UPDATE_VENDOR = "GetVendorList", "GetVendorByKey", "UpdateVendor"
GET_PAYABLES_DOCUMENT_LIST = "GetPayablesDocumentList"
GET_PAYABLES_INVOICE_LIST, GET_PAYABLES_INVOICE_BY_KEY = "GetPayablesInvoiceList", "GetPayablesInvoiceByKey"
GET_GL_ACCOUNT_LIST = "GetGLAccountList"
GET_CHECKBOOK_LIST = "GetCheckbookList"
GET_POSTED_PAYMENTS_LIST = "GetPostedPayablesVendorPaymentsList"
GET_POLICY_BY_OPERATION = "GetPolicyByOperation"
GET_LOGGED_VALIDATION_RESULT = "GetLoggedValidationResultByKey"
# GP Web Services names every read Get…; everything else (Create…, Update…, Delete…, Void…) writes.
READ_OPERATION_PREFIXES = ("Get",)
# What the connector calls, and what for: the fit check holds these against the operations in the WSDL.
NEEDED = {
    GET_COMPANY_LIST: "find the company",
    GET_VENDOR_LIST: "list vendors",
    GET_VENDOR_BY_KEY: "read a vendor",
    UPDATE_VENDOR: "change a vendor a person confirmed",
    GET_POLICY_BY_OPERATION: "the policy UpdateVendor needs",
    GET_PAYABLES_INVOICE_LIST: "list payables invoices",
    GET_PAYABLES_INVOICE_BY_KEY: "read a payables invoice",
    GET_POSTED_PAYMENTS_LIST: "find payments recorded in GP",
    GET_GL_ACCOUNT_LIST: "list GL accounts",
    GET_CHECKBOOK_LIST: "list checkbooks",
    GET_LOGGED_VALIDATION_RESULT: "GP's own words for a refused call",
}
NICE_TO_HAVE = (GET_LOGGED_VALIDATION_RESULT,)  # without it a refusal is reported without GP's details
# What a Web-Services-only install cannot do (there is no Create…/Post… method for these).
MISSING_OPERATIONS = ("create a payables manual payment", "post a batch")

# --- criteria and restrictions --------------------------------------------------------------------
VENDOR_CRITERIA, INVOICE_CRITERIA = "VendorCriteria", "PayablesInvoiceCriteria"
DOCUMENT_CRITERIA, POSTED_PAYMENT_CRITERIA = "PayablesDocumentCriteria", "PostedPayablesVendorPaymentCriteria"
GL_ACCOUNT_CRITERIA, CHECKBOOK_CRITERIA, COMPANY_CRITERIA = (
    "GLAccountCriteria",
    "CheckbookCriteria",
    "CompanyCriteria",
)
BETWEEN_DATETIME = "BetweenRestrictionOfNullableOfDateTime"  # From, To (inclusive)
BETWEEN_STRING = "BetweenRestrictionOfString"  # EqualValue, From, To
LIKE_STRING = "LikeRestrictionOfString"  # BetweenRestrictionOfString + Like
TRANSACTION_STATE_RESTRICTION = "ListRestrictionOfNullableOfPayablesTransactionState"  # EqualValue, Items
C_MODIFIED, C_ID, C_DOCUMENT_ID, C_VENDOR_ID, C_STATE, C_SCOPE = (
    "ModifiedDate",
    "Id",
    "DocumentId",
    "VendorId",
    "TransactionState",
    "Scope",
)
R_EQUAL, R_FROM, R_TO = "EqualValue", "From", "To"
SCOPE_ALL = "Return All"  # PayablesVendorPaymentScope: "Return All" | "Return Based on VendorId"
LIST_LIMIT = 1000  # a GetList answers at most this many summaries (the service's default)

# --- policies ----------------------------------------------------------------------------------------
POLICY_UPDATE_VENDOR = "UpdateVendor"
# GetPolicyByOperation(operationName, context) -> Policy; UpdateVendor(vendor, context, policy).

# --- business objects (element names inside the gp namespace) ----------------------------------------
KEY, ID, MODIFIED, CREATED = "Key", "Id", "ModifiedDate", "CreatedDate"
MONEY_VALUE, MONEY_CURRENCY, MONEY_DIGITS = "Value", "Currency", "DecimalDigits"  # MoneyAmount


class Company:
    KEY, NAME = "Key", "Name"  # CompanySummary: Key is a CompanyKey (integer Id)


class Vendor:
    NAME, SHORT_NAME, CHECK_NAME, CLASS = "Name", "ShortName", "CheckName", "ClassKey"
    STATUS, ON_HOLD, TAX_ID, TERMS = "Status", "IsOnHold", "TaxIdentificationNumber", "PaymentTermsKey"
    DEFAULT_ADDRESS, REMIT_TO_ADDRESS, ADDRESSES = "DefaultAddressKey", "RemitToAddressKey", "Addresses"


class Address:  # VendorAddress
    CONTACT, LINE1, LINE2, LINE3 = "ContactPerson", "Line1", "Line2", "Line3"
    CITY, STATE, POSTAL_CODE, COUNTRY = "City", "State", "PostalCode", "CountryRegion"
    PHONE, PHONE_VALUE, EMAIL = "Phone1", "Value", "EmailAddress"


class Invoice:  # PayablesInvoice (PayablesDocument + PayablesDebitDocument)
    VENDOR, DOCUMENT_NUMBER, DESCRIPTION, DATE = "VendorKey", "VendorDocumentNumber", "Description", "Date"
    POSTING_DATE, BATCH, PO_NUMBER, CURRENCY = (
        "GeneralLedgerPostingDate",
        "BatchKey",
        "PONumber",
        "CurrencyKey",
    )
    PURCHASES, TRADE_DISCOUNT, FREIGHT = "PurchasesAmount", "TradeDiscountAmount", "FreightAmount"
    MISC, TAX, DOCUMENT_AMOUNT = "MiscellaneousAmount", "TaxAmount", "DocumentAmount"
    TYPE, STATE, VOIDED, DISTRIBUTIONS = "Type", "TransactionState", "IsVoided", "Distributions"
    TERMS, TERMS_DUE_DATE = "Terms", "DueDate"  # PayablesTerms
    # PayablesDebitDocument (cc533873): "the total of all payments on the document" (read-only) and the
    # writeoff amount; PayablesTerms (cc533898): the terms discount taken. With DocumentAmount, the
    # documented parts of what is still open on a voucher. No documented property carries a hold flag.
    TOTAL_PAYMENTS, WRITEOFF, TERMS_DISCOUNT_TAKEN = "TotalPayments", "WriteoffAmount", "DiscountTakenAmount"


class Distribution:  # PayablesDistribution
    ACCOUNT, TYPE, DEBIT, CREDIT, REFERENCE = (
        "GLAccountKey",
        "DistributionTypeKey",
        "DebitAmount",
        "CreditAmount",
        "Reference",
    )
    ACCOUNT_NUMBER = "Id"  # GLAccountNumberKey.Id: the formatted account number
    # DistributionTypeKey.Id is an integer in GP; the connector's records use SBA's names.
    TYPES = {
        1: "Cash",
        2: "Payable",
        3: "Discount",
        4: "Discount",
        5: "Writeoff",
        6: "Purchase",
        7: "Tax",
        8: "Freight",
        9: "Misc",
        10: "Tax",
        11: "Other",
        12: "Rounding",
        13: "Realized",
        14: "Unrealized",
    }


class Payment:  # PostedPayablesVendorPaymentSummary
    VENDOR, CHECKBOOK, DOCUMENT_NUMBER = "VendorKey", "CheckbookKey", "VendorDocumentNumber"
    DATE, AMOUNT, BATCH, STATE = "Date", "DocumentAmount", "BatchKey", "TransactionState"


class GLAccount:  # GLAccountSummary
    DESCRIPTION, CATEGORY, ACTIVE, ALLOW_ENTRY = "Description", "CategoryKey", "IsActive", "IsPostingAccount"


class Checkbook:  # CheckbookSummary
    DESCRIPTION, CURRENCY, INACTIVE, LAST4 = "Description", "CurrencyKey", "IsInactive", "BankAccountLast4"


# --- faults ------------------------------------------------------------------------------------------
# GP answers every error as a SOAP fault. A validation fault's detail carries the GUID of the logged
# exception; GetLoggedValidationResultByKey(logId) gives its ValidationResult (Errors/Warnings).
FAULT_LOG_ID = "LogId"
VALIDATION_ERRORS, VALIDATION_WARNINGS = "Errors", "Warnings"
VALIDATION_MESSAGE = "Message"
# Texts the sandbox and a real server put in faultstring; the client classifies by them.
FAULT_CODES = {
    "duplicate": "already exists",
    "locked": "is being edited by another user",
    "not_found": "was not found",
    "company_not_found": "company",
    "access": "access denied",
}

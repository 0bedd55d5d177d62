"""Starting data. `small`: a few BILL vendors that resemble GP's sample vendors, a chart of accounts
and two funding bank accounts. `demo`: small plus open bills and one payment. `bench`: accounts only."""

from __future__ import annotations

from decimal import Decimal

from .payments import Payments
from .store import Store

ACCOUNTS = [
    ("1100", "Cash - Operating Account", "BANK"),
    ("1110", "Cash - Payroll Account", "BANK"),
    ("2100", "Accounts Payable", "OTHER_CURRENT_LIABILITY"),
    ("6100", "Office Supplies", "EXPENSE"),
    ("6170", "Computer Supplies and Software", "EXPENSE"),
    ("6300", "Travel", "EXPENSE"),
    ("6500", "Professional Fees", "EXPENSE"),
]
VENDORS = [
    {
        "name": "Advanced Office Systems",
        "email": "ap@advancedoffice.example",
        "phone": "3125550187",
        "accountNumber": "AOS-7781",
        "additionalInfo": {"taxId": "36-4478123", "taxIdType": "EIN", "track1099": False},
        "address": {
            "line1": "456 Oak Street",
            "city": "Chicago",
            "stateOrProvince": "IL",
            "zipOrPostalCode": "60601",
            "country": "US",
        },
    },
    {
        "name": "Contoso Ltd.",
        "email": "billing@contoso.example",
        "phone": "4255550100",
        "additionalInfo": {"taxId": "91-1144442", "taxIdType": "EIN", "track1099": True},
        "address": {
            "line1": "1 Microsoft Way",
            "city": "Redmond",
            "stateOrProvince": "WA",
            "zipOrPostalCode": "98052",
            "country": "US",
        },
    },
    {
        "name": "Northwind Traders",
        "email": "accounts@northwind.example",
        "address": {
            "line1": "2 Harbor Road",
            "city": "Seattle",
            "stateOrProvince": "WA",
            "zipOrPostalCode": "98101",
            "country": "US",
        },
    },
]
SEEDS = ("small", "demo", "bench")


def load(store: Store, seed: str) -> None:
    if seed not in SEEDS:
        raise ValueError(f"unknown seed {seed!r}; use one of {', '.join(SEEDS)}")
    by_number = {}
    for number, name, kind in ACCOUNTS:
        account = store.create_classification(
            "chart-of-accounts", {"name": name, "account": {"type": kind, "number": number}}
        )
        by_number[number] = account["id"]
    store.add_bank_account("First National Bank", "4321", by_number["1100"])
    store.add_bank_account("First National Bank", "9876", by_number["1110"])
    if seed == "bench":
        return
    store.create_classification("departments", {"name": "Administration", "shortName": "ADMIN"})
    store.create_classification("departments", {"name": "Sales", "shortName": "SALES"})
    store.create_classification("locations", {"name": "Headquarters", "shortName": "HQ"})
    vendors = [store.create_vendor(v) for v in VENDORS]
    if seed == "demo":
        # Departments and a location whose short names are the demo GP company's segment codes (10, 20, 100);
        # GP department 30 and location 200 have none, so the demo creates them in BILL.
        store.create_classification("departments", {"name": "Finance", "shortName": "10"})
        store.create_classification("departments", {"name": "Marketing", "shortName": "20"})
        store.create_classification("locations", {"name": "Chicago", "shortName": "100"})
        store.create_classification("accounting-classes", {"name": "Retail", "shortName": "R"})
        bills = store.create_bills(
            [
                {
                    "vendorId": vendors[0]["id"],
                    "dueDate": "2025-12-31",
                    "invoice": {"invoiceNumber": "AOS-1001", "invoiceDate": "2025-12-01"},
                    "billLineItems": [
                        {
                            "amount": Decimal("149.00"),
                            "description": "Toner",
                            "classifications": {"chartOfAccountId": by_number["6100"]},
                        }
                    ],
                },
                {
                    "vendorId": vendors[1]["id"],
                    "dueDate": "2025-12-31",
                    "invoice": {"invoiceNumber": "C-2002", "invoiceDate": "2025-12-02"},
                    "billLineItems": [
                        {
                            "amount": Decimal("1200.00"),
                            "description": "Consulting",
                            "classifications": {"chartOfAccountId": by_number["6500"]},
                        }
                    ],
                },
            ],
            limit=100,
        )
        Payments(store).pay([{"billId": bills[0]["id"]}], status="PAID")

"""Deterministic seed data: `small` (hand-made, every case once), `demo` (~50 vendors, ~300 invoices),
`bench` (100,000 vendors and 50,000 invoices, lazy: only the index is built up front)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import TYPE_CHECKING

from .builders import build_address, build_invoice, build_vendor
from .store import EMPTY_DATE, Record, money, stamp

if TYPE_CHECKING:
    from .company import GPCompany

SEEDS = ("small", "demo", "bench")
BASE = dt.datetime(2025, 6, 2, 8, 0, 0, tzinfo=dt.UTC)


def at(minutes: int) -> str:
    """A seed ModifiedDate: minutes after BASE. Equal values on purpose test paging boundaries."""
    return stamp(BASE + dt.timedelta(minutes=minutes))


def gl_accounts() -> list[Record]:
    rows = [
        ("000-1100-00", "Cash - Operating Account", "Cash", True, True),
        ("000-2100-00", "Accounts Payable", "Accounts Payable", True, True),
        ("000-4000-00", "Expenses (heading)", "Expenses", True, False),
        ("000-4910-00", "Trade Discounts Taken", "Purchase Discounts", True, True),
        ("000-6100-00", "Office Supplies", "Operating Expenses", True, True),
        ("000-6150-00", "Software Subscriptions", "Operating Expenses", True, True),
        ("000-6200-00", "Travel", "Operating Expenses", True, True),
        ("000-6500-00", "Freight In", "Cost of Goods Sold", True, True),
        ("000-6600-00", "Sales Tax Expense", "Operating Expenses", True, True),
        ("000-6700-00", "Miscellaneous Expense", "Operating Expenses", True, True),
        ("000-6900-00", "Old Telephone Expense", "Operating Expenses", False, True),
    ]
    return [
        {
            "Key": {"Id": k},
            "Description": d,
            "Category": c,
            "IsActive": a,
            "AllowAccountEntry": e,
            "ModifiedDate": at(i),
        }
        for i, (k, d, c, a, e) in enumerate(rows)
    ]


# The demo company spells location and department as segments of its expense accounts
# (location-account-department, e.g. 100-6100-20), as GP companies do: GP has no separate dimensions.
DEMO_LOCATIONS = ("100", "200")
DEMO_DEPARTMENTS = ("10", "20", "30")


def segmented_accounts() -> list[Record]:
    """Office-supplies accounts per location and department (demo seed only)."""
    rows = [f"{loc}-6100-{dept}" for loc in DEMO_LOCATIONS for dept in DEMO_DEPARTMENTS]
    return [
        {
            "Key": {"Id": k},
            "Description": "Office Supplies",
            "Category": "Operating Expenses",
            "IsActive": True,
            "AllowAccountEntry": True,
            "ModifiedDate": at(20 + i),
        }
        for i, k in enumerate(rows)
    ]


def checkbooks() -> list[Record]:
    rows = [
        ("UPTOWN TRUST", "Uptown Trust Operating", "4321", False),
        ("FIRST NATIONAL", "First National EFT", "1234", False),
        ("OLD SAVINGS", "Old Savings (closed)", "9876", True),
    ]
    return [
        {
            "Key": {"Id": k},
            "Description": d,
            "BankAccountLast4": l4,
            "CurrencyKey": {"Id": "USD"},
            "IsInactive": off,
            "ModifiedDate": at(i),
        }
        for i, (k, d, l4, off) in enumerate(rows)
    ]


def small_vendors() -> list[Record]:
    a = build_address
    return [
        build_vendor(
            "ACETRAVE0001",
            "A Travel Company",
            modified=at(10),
            tax_id="12-3456789",
            address=a(
                "123 Riverside Dr",
                "Chicago",
                "IL",
                "60601",
                contact="Greg Wilson",
                phone="31255501010000",
                email="ap@atravel.example",
            ),
        ),
        build_vendor(
            "ADVANCED0001",
            "Advanced Office Systems",
            modified=at(10),
            on_hold=True,
            address=a("456 Commerce Way", "Fargo", "ND", "58102", email="billing@aos.example"),
        ),
        build_vendor(
            "AMERICAN0001",
            "American Electrical Contractor",
            modified=at(10),
            status="Inactive",
            address=a("789 Volt Ave", "Denver", "CO", "80202"),
        ),
        build_vendor(
            "TEMPVEND0001", "Temporary Vendor", modified=at(20), status="Temporary", class_id="TEMP"
        ),
        build_vendor(
            "ASSOCIAT0001",
            "Associated Insurance Agency",
            modified=at(20),
            tax_id="98-7654321",
            address=a("1 Insurance Plz", "Hartford", "CT", "06103", email="ar@assoc.example"),
        ),
        build_vendor(
            "ASSOCIAT0002",
            "Associated Insurance Agency",
            modified=at(20),
            address=a("2 Insurance Plz", "Boston", "MA", "02110", line2="Suite 400"),
        ),
        build_vendor(
            "CONTOSO0001",
            "Contoso, Ltd.",
            modified=at(30),
            tax_id="",
            address=a(
                "100 King St W",
                "Toronto",
                "ON",
                "M5X 1A9",
                "CA",
                line2="Floor 12",
                line3="Attn: Receivables",
                email="ap@contoso.example",
            ),
        ),
        build_vendor(
            "MULLERBU0001",
            "Büro Müller & Söhne GmbH",
            modified=at(30),
            class_id="EU",
            address=a("Königstraße 5", "Stuttgart", "", "70173", "DE", email="rechnung@mueller.example"),
        ),
    ]


def small_invoices() -> list[Record]:
    inv = build_invoice
    split = [("000-6100-00", "600.00"), ("000-6150-00", "400.00")]
    return [
        # Open and approved: the ordinary case, several sharing one ModifiedDate.
        inv(
            "00000000000000301",
            "ACETRAVE0001",
            modified=at(40),
            date="2025-05-01",
            purchases="1250.00",
            doc_number="INV-1001",
            description="May travel",
            batch="APR25INV",
        ),
        inv(
            "00000000000000302",
            "ACETRAVE0001",
            modified=at(40),
            date="2025-05-03",
            purchases="1000.00",
            freight="35.50",
            tax="82.50",
            misc="12.00",
            discount="50.00",
            doc_number="INV-1002",
            description="Office furniture",
            po="PO2001",
            purchase_lines=split,
            batch="APR25INV",
        ),
        inv(
            "00000000000000303",
            "ASSOCIAT0001",
            modified=at(40),
            date="2025-05-05",
            purchases="4800.00",
            doc_number="POL-2025-77",
            description="Annual premium",
            workflow="NoApprovalNeeded",
        ),
        inv(
            "00000000000000304",
            "ASSOCIAT0002",
            modified=at(41),
            date="2025-05-06",
            purchases="310.25",
            doc_number="POL-2025-77",
            description="Rider, same number other vendor",
        ),
        inv(
            "00000000000000305",
            "CONTOSO0001",
            modified=at(41),
            date="2025-05-07",
            purchases="2000.00",
            tax="260.00",
            doc_number="CT-88120",
            description="Consulting",
            po="PO2002",
        ),
        inv(
            "00000000000000306",
            "CONTOSO0001",
            modified=at(41),
            date="2025-05-08",
            purchases="999.99",
            doc_number="CT-88121",
            description="Partly paid",
            paid="500.00",
        ),
        inv(
            "00000000000000307",
            "MULLERBU0001",
            modified=at(42),
            date="2025-05-09",
            purchases="145.50",
            freight="20.00",
            doc_number="RE-2025-0042",
            description="Büromaterial",
        ),
        inv(
            "00000000000000308",
            "ADVANCED0001",
            modified=at(42),
            date="2025-05-10",
            purchases="89.99",
            doc_number="AOS-5521",
            description="Vendor on hold",
        ),
        inv(
            "00000000000000309",
            "ACETRAVE0001",
            modified=at(42),
            date="2025-05-11",
            purchases="300.00",
            doc_number="INV-1003",
            description="Invoice on hold",
            on_hold=True,
        ),
        inv(
            "00000000000000310",
            "AMERICAN0001",
            modified=at(43),
            date="2025-05-12",
            purchases="5400.00",
            doc_number="AEC-778",
            description="Inactive vendor's bill",
            po="PO2003",
        ),
        inv(
            "00000000000000311",
            "ACETRAVE0001",
            modified=at(43),
            date="2025-05-13",
            purchases="75.00",
            doc_type="CreditMemo",
            doc_number="CM-1001",
            description="Refund of fare",
        ),
        inv(
            "00000000000000312",
            "TEMPVEND0001",
            modified=at(43),
            date="2025-05-14",
            purchases="60.00",
            doc_number="T-1",
            description="One-off supplier",
        ),
        # Work (unposted): every workflow status.
        inv(
            "00000000000000401",
            "ACETRAVE0001",
            modified=at(50),
            date="2025-05-20",
            purchases="410.00",
            state="Work",
            workflow="NotSubmitted",
            doc_number="INV-1010",
            batch="MAY25INV",
        ),
        inv(
            "00000000000000402",
            "ASSOCIAT0001",
            modified=at(50),
            date="2025-05-21",
            purchases="220.00",
            state="Work",
            workflow="PendingApproval",
            doc_number="POL-2025-80",
            batch="MAY25INV",
        ),
        inv(
            "00000000000000403",
            "CONTOSO0001",
            modified=at(50),
            date="2025-05-22",
            purchases="1500.00",
            tax="195.00",
            state="Work",
            workflow="Approved",
            doc_number="CT-88130",
            batch="MAY25INV",
        ),
        inv(
            "00000000000000404",
            "MULLERBU0001",
            modified=at(51),
            date="2025-05-23",
            purchases="80.00",
            state="Work",
            workflow="Rejected",
            doc_number="RE-2025-0050",
            batch="MAY25INV",
        ),
        # History: fully paid, and a voided one.
        inv(
            "00000000000000201",
            "ACETRAVE0001",
            modified=at(5),
            date="2025-03-01",
            purchases="640.00",
            state="History",
            doc_number="INV-0901",
            description="Paid in March",
            paid="640.00",
        ),
        inv(
            "00000000000000202",
            "CONTOSO0001",
            modified=at(5),
            date="2025-03-02",
            purchases="120.00",
            state="History",
            doc_number="CT-87001",
            description="Voided",
            voided=True,
        ),
        inv(
            "00000000000000203",
            "ASSOCIAT0001",
            modified=at(6),
            date="2025-03-05",
            purchases="900.00",
            state="History",
            doc_number="POL-2025-10",
            paid="900.00",
        ),
        inv(
            "00000000000000204",
            "ASSOCIAT0002",
            modified=at(6),
            date="2025-03-06",
            purchases="45.00",
            state="History",
            doc_number="POL-2025-11",
            paid="45.00",
        ),
    ]


def small_payments() -> list[Record]:
    return [
        {
            "Key": {"Id": "PMT00000000000001"},
            "VendorKey": {"Id": "ACETRAVE0001"},
            "CheckbookKey": {"Id": "UPTOWN TRUST"},
            "PaymentMethod": "Check",
            "DocumentNumber": "10045",
            "Date": "2025-03-20T00:00:00Z",
            "Amount": money("640.00"),
            "BatchKey": {"Id": "MAR25PAY"},
            "TransactionState": "History",
            "ApplyTo": [{"VoucherKey": {"Id": "00000000000000201"}, "Amount": money("640.00")}],
            "CreatedDate": at(5),
            "ModifiedDate": at(5),
        }
    ]


def purchase_orders() -> list[Record]:
    def po(key: str, vendor: str, status: str, lines: list[tuple[str, str, int, str]], minute: int) -> Record:
        out = [
            {
                "ItemKey": {"Id": i},
                "Description": d,
                "Quantity": q,
                "UnitCost": money(c),
                "ExtendedCost": money(Decimal(c) * q),
            }
            for i, d, q, c in lines
        ]
        total = sum((Decimal(c) * q for _, _, q, c in lines), Decimal(0))
        return {
            "Key": {"Id": key},
            "VendorKey": {"Id": vendor},
            "Status": status,
            "Date": at(0)[:10] + "T00:00:00Z",
            "RequiredDate": EMPTY_DATE,
            "Lines": out,
            "TotalAmount": money(total),
            "ModifiedDate": at(minute),
        }

    return [
        po(
            "PO2001",
            "ACETRAVE0001",
            "Received",
            [("DESK-01", "Desk", 2, "400.00"), ("CHAIR-02", "Chair", 2, "100.00")],
            1,
        ),
        po("PO2002", "CONTOSO0001", "Released", [("CONSULT", "Consulting hours", 20, "100.00")], 2),
        po("PO2003", "AMERICAN0001", "Closed", [("WIRING", "Rewiring", 1, "5400.00")], 3),
    ]


def _generated(company: GPCompany, vendors: int, invoices: int, rng: random.Random) -> tuple[list, list]:
    names = [
        "Adatum",
        "Alpine Ski",
        "Blue Yonder",
        "Coho Winery",
        "Fourth Coffee",
        "Litware",
        "Lucerne",
        "Margie's Travel",
        "Northwind",
        "Proseware",
        "Tailspin",
        "Wide World",
        "Wingtip",
        "Woodgrove",
    ]
    vs = [
        build_vendor(
            f"GEN{i:05d}",
            f"{names[i % len(names)]} {'Inc.' if i % 2 else 'LLC'} #{i}",
            modified=at(100 + i // 3),
            on_hold=i % 17 == 0,
            status="Inactive" if i % 23 == 0 else "Active",
            address=build_address(f"{i} Main St", "Fargo", "ND", "58102", email=f"ap{i}@example.com"),
        )
        for i in range(vendors)
    ]
    invs = []
    for i in range(invoices):
        state = "Work" if i % 10 == 0 else "History" if i % 7 == 0 else "Open"
        amount = Decimal(rng.randint(1000, 900000)) / 100
        # Every third invoice is bought for one location and department (a segmented account).
        segmented = (
            [(f"{DEMO_LOCATIONS[i % 2]}-6100-{DEMO_DEPARTMENTS[(i // 3) % 3]}", amount)]
            if i % 3 == 1
            else None
        )
        invs.append(
            build_invoice(
                f"{1000 + i:017d}",
                f"GEN{(i * 7) % vendors:05d}",
                modified=at(200 + i // 4),
                date=(BASE - dt.timedelta(days=i % 60)).date().isoformat(),
                purchases=amount,
                tax=(amount * Decimal("0.07")).quantize(Decimal("0.01")) if i % 3 == 0 else 0,
                freight=Decimal("15.00") if i % 5 == 0 else 0,
                state=state,
                doc_number=f"G-{i:06d}",
                workflow="PendingApproval" if state == "Work" and i % 20 else "Approved",
                paid=amount if state == "History" else 0,
                description=f"Generated {i}",
                purchase_lines=segmented,
            )
        )
    return vs, invs


def load(company: GPCompany, seed: str) -> None:
    t = company.tables
    if seed not in SEEDS:
        raise ValueError(f"unknown seed {seed!r}; use one of {', '.join(SEEDS)}")
    t["GLAccounts"].load(gl_accounts())
    t["Checkbooks"].load(checkbooks())
    t["PurchaseOrders"].load(purchase_orders())
    t["PayablesPayments"].load(small_payments())
    t["PayablesApplies"].load([])
    if seed == "bench":
        load_bench(company, vendors=100_000, invoices=50_000)
        return
    vendors, invoices = small_vendors(), small_invoices()
    if seed == "demo":
        t["GLAccounts"].load(gl_accounts() + segmented_accounts())
        more_v, more_i = _generated(company, 42, 280, random.Random(42))
        vendors, invoices = vendors + more_v, invoices + more_i
    t["Vendors"].load(vendors)
    t["PayablesInvoices"].load(invoices)


def load_bench(company: GPCompany, vendors: int, invoices: int) -> None:
    """Only (ModifiedDate, Key) pairs are built; records come from their number when asked for."""
    stamps = [at(100 + n) for n in range(vendors // 3 + 2)]
    company.tables["Vendors"].load_lazy([(stamps[i // 3], f"B{i:07d}") for i in range(vendors)], bench_vendor)
    stamps = [at(100 + n) for n in range(invoices // 4 + 2)]
    company.tables["PayablesInvoices"].load_lazy(
        [(stamps[i // 4], f"{i + 1:017d}") for i in range(invoices)], lambda key: bench_invoice(key, vendors)
    )


def bench_vendor(key: str) -> Record:
    i = int(key[1:])
    return build_vendor(
        key,
        f"Bench Vendor {i}",
        modified=at(100 + i // 3),
        on_hold=i % 101 == 0,
        address=build_address(f"{i} Bench Rd", "Fargo", "ND", "58102", email=f"v{i}@bench.example"),
    )


def bench_invoice(key: str, vendors: int) -> Record:
    i = int(key) - 1
    amount = Decimal(100 + (i * 7919) % 900000) / 100
    return build_invoice(
        key,
        f"B{(i * 13) % vendors:07d}",
        modified=at(100 + i // 4),
        date="2025-05-01",
        purchases=amount,
        doc_number=f"BI-{i}",
        state="Work" if i % 10 == 0 else "Open",
        workflow="Approved",
    )

"""Bad GP data: each record gets a reason a finance user can act on, the rest of the batch goes on,
the worker never crashes, and nothing is lost or sent twice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit.models import State, SyncRecord
from sandbox.gp.builders import build_address, build_invoice, build_vendor
from tests.sync.conftest import approve_all, bills_by_voucher, record, run

GOOD_VENDOR = "ACETRAVE0001"


def _invoice(voucher: str, number: str, amount: str = "100.00", vendor: str = GOOD_VENDOR, **extra) -> dict:
    raw = build_invoice(
        voucher,
        vendor,
        modified="2025-06-01T00:00:00Z",
        date=extra.pop("date", "2025-06-01"),
        purchases=Decimal(amount),
        doc_number=number,
        description=f"Bad input {voucher}",
        **extra,
    )
    for name in ("ModifiedDate", "CreatedDate"):
        raw.pop(name, None)
    return raw


def _ready(wired) -> None:
    """Mappings approved and the seed synced: what follows is a later run meeting bad data."""
    run(wired)
    approve_all(wired)
    run(wired)


# (what is wrong, how to make it, words the reason must contain)
BAD_INVOICES = [
    ("no distributions", {"Distributions": []}, "no purchase, freight, tax or misc distributions"),
    # Distributions made for 100.00 on a document of 150.00.
    (
        "lines that do not add up",
        {"PurchasesAmount": Decimal("150.00")},
        "add up to 100.00, not the document amount 150.00",
    ),
    ("a zero amount", {"_amount": "0.00"}, "BILL only takes bills above zero"),
    ("a negative amount", {"_amount": "-25.00"}, "BILL only takes bills above zero"),
    ("another currency", {"CurrencyKey": {"Id": "EUR"}}, "in EUR, but the BILL organization pays in USD"),
    ("an empty date", {"Date": "1900-01-01T00:00:00Z"}, "invoice date is empty or impossible"),
    ("an impossible date", {"Date": "2999-02-01T00:00:00Z"}, "invoice date is empty or impossible"),
    ("no invoice number", {"VendorDocumentNumber": "  "}, "no vendor document number"),
]


def _bad(n: int, change: dict) -> dict:
    change = dict(change)
    raw = _invoice(f"BAD{n:014d}", f"BAD-{n}", amount=change.pop("_amount", "100.00"))
    raw.update(change)
    return raw


def test_every_bad_invoice_is_parked_with_its_reason_and_the_good_ones_still_go(wired, gp_sandbox):
    _ready(wired)
    for n, (_, change, _) in enumerate(BAD_INVOICES):
        gp_sandbox.insert_invoice(_bad(n, change))
    gp_sandbox.insert_invoice(_invoice("GOOD0000000000001", "GOOD-1"))

    run(wired)  # returns: no bad record stops the run

    for n, (what, _, words) in enumerate(BAD_INVOICES):
        r = record(wired, "bill", f"BAD{n:014d}")
        assert r.state == State.FLAGGED, what
        assert words in r.reason, (what, r.reason)
        assert r.fix, what
        assert r.needs_attention
    found = bills_by_voucher(wired)
    assert [b.invoice_number for b in found["GOOD0000000000001"]] == ["GOOD-1"]
    assert not any(v.startswith("BAD") for v in found)


def test_a_bad_invoice_corrected_in_gp_goes_by_itself(wired, gp_sandbox):
    _ready(wired)
    gp_sandbox.insert_invoice(_bad(0, {"CurrencyKey": {"Id": "EUR"}}))
    run(wired)
    assert record(wired, "bill", "BAD00000000000000").state == State.FLAGGED
    gp_sandbox.update_invoice("BAD00000000000000", CurrencyKey={"Id": "USD"})
    run(wired)
    assert record(wired, "bill", "BAD00000000000000").state == State.SYNCED
    assert len(bills_by_voucher(wired)["BAD00000000000000"]) == 1


def test_the_same_invoice_number_twice_for_one_vendor_is_two_bills_each_tied_to_its_voucher(
    wired, gp_sandbox
):
    _ready(wired)
    gp_sandbox.insert_invoice(_invoice("DUP00000000000001", "INV-SAME", amount="50.00"))
    gp_sandbox.insert_invoice(_invoice("DUP00000000000002", "INV-SAME", amount="50.00"))
    run(wired)
    run(wired)
    found = bills_by_voucher(wired)
    assert len(found["DUP00000000000001"]) == 1 and len(found["DUP00000000000002"]) == 1
    assert found["DUP00000000000001"][0].id != found["DUP00000000000002"][0].id


def test_when_bill_refuses_a_duplicate_invoice_number_only_that_bill_waits_for_a_person(
    wired, gp_sandbox, bill_sandbox
):
    _ready(wired)
    bill_sandbox.configure(duplicate_invoice_check=True)
    gp_sandbox.insert_invoice(_invoice("DUP00000000000001", "INV-SAME", amount="50.00"))
    gp_sandbox.insert_invoice(_invoice("DUP00000000000002", "INV-SAME", amount="50.00"))
    gp_sandbox.insert_invoice(_invoice("DUP00000000000003", "INV-OTHER", amount="75.00"))
    run(wired)
    states = {
        v: record(wired, "bill", v).state
        for v in ("DUP00000000000001", "DUP00000000000002", "DUP00000000000003")
    }
    assert sorted(states.values()) == [State.FLAGGED, State.SYNCED, State.SYNCED]
    refused = next(v for v, s in states.items() if s == State.FLAGGED)
    assert "BILL refused the bill" in record(wired, "bill", refused).reason
    assert states["DUP00000000000003"] == State.SYNCED


@pytest.mark.parametrize(
    "account, words",
    [
        ("000-6900-00", "inactive in GP"),
        ("000-4000-00", "does not allow account entry"),
    ],
)
def test_an_invoice_on_an_inactive_or_heading_account_waits_and_says_why(wired, gp_sandbox, account, words):
    from mappings.models import GLAccountMapping

    _ready(wired)
    gp_sandbox.insert_invoice(
        _invoice("ACCT0000000000001", "ACCT-1", purchase_lines=[(account, Decimal("100.00"))])
    )
    run(wired)
    r = record(wired, "bill", "ACCT0000000000001")
    assert r.state == State.BLOCKED and f"account:{account}" in r.waiting_on
    mapping = GLAccountMapping.objects.get(tenant=wired, gp_account=account)
    assert words in mapping.note
    assert "ACCT0000000000001" not in bills_by_voucher(wired)


ODD_NAMES = [
    'O\'Brien & "Sons" Supply',
    "Line one\nLine two\tTabbed",
    "Café Ünïcode ☕ 🚚 Logistics",
    "A" * 40 + " Very Long Vendor Name Beyond Sixty-Four Characters Ltd",
]


def test_vendors_with_quotes_newlines_emoji_and_long_names_reach_bill_cleaned(wired, gp_sandbox):
    from connectors.bill.client import BillClient

    wired.auto_create_vendors = True
    wired.save()
    for n, name in enumerate(ODD_NAMES):
        gp_sandbox.insert_vendor(
            build_vendor(
                f"ODD{n:04d}",
                name,
                modified="2025-06-01T00:00:00Z",
                address=build_address("1 Main St", "Fargo", "ND", "58102", email=f"odd{n}@example.com"),
            )
        )
    run(wired)
    run(wired)
    bill = {v.id: v for v in BillClient.for_connection(wired.bill_connection).iter_vendors()}
    for n, name in enumerate(ODD_NAMES):
        r = record(wired, "vendor", f"ODD{n:04d}")
        assert r.state == State.SYNCED, (name, r.reason)
        expected = " ".join(name[:64].split())  # GP keeps 64 characters; BILL gets one clean line
        assert bill[r.target_id].name == expected
        assert "\n" not in bill[r.target_id].name


def test_an_odd_vendor_name_whose_create_answer_was_lost_is_found_not_created_twice(
    wired, gp_sandbox, bill_sandbox
):
    from connectors.bill.client import BillClient

    wired.auto_create_vendors = True
    wired.save()
    run(wired)
    gp_sandbox.insert_vendor(
        build_vendor(
            "ODD0000",
            ODD_NAMES[0],
            modified="2025-06-01T00:00:00Z",
            address=build_address("1 Main St", "Fargo", "ND", "58102", email="odd@example.com"),
        )
    )
    bill_sandbox.add_fault("reset_after_commit", methods=["POST"], path_contains="/v3/vendors")
    run(wired)
    run(wired)
    names = [v.name for v in BillClient.for_connection(wired.bill_connection).iter_vendors()]
    assert names.count(ODD_NAMES[0]) == 1
    assert record(wired, "vendor", "ODD0000").state == State.SYNCED


def test_nothing_bad_leaves_a_record_sending_or_failed(wired, gp_sandbox):
    _ready(wired)
    for n, (_, change, _) in enumerate(BAD_INVOICES):
        gp_sandbox.insert_invoice(_bad(n, change))
    run(wired)
    run(wired, full=True)
    assert not SyncRecord.objects.filter(
        tenant=wired, state__in=[State.SENDING, State.FAILED, State.IN_DOUBT]
    ).exists()

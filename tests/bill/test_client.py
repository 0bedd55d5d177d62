"""BillClient against the sandbox: typed records, Decimal money, paging, filters, errors that say what to
do."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.bill.filters import Filter, Sort, encode_filters
from connectors.bill.http import Backoff, BillError, encode_json, error_from_response


def test_filters_serialise_the_way_bill_reads_them():
    # As BILL's search guide and Postman collection write them: eq values bare
    # (accountType:eq:BUSINESS, id:eq:…); quotes for date-times, in/nin lists and sw.
    when = datetime(2025, 12, 30, 8, 5, 1, 250000, tzinfo=UTC)
    assert str(Filter("vendorId", "eq", "009x")) == "vendorId:eq:009x"
    assert str(Filter("accountType", "eq", "BUSINESS")) == "accountType:eq:BUSINESS"
    assert str(Filter("name", "eq", "Contoso Ltd.")) == "name:eq:Contoso Ltd."
    assert str(Filter("updatedTime", "gt", when)) == 'updatedTime:gt:"2025-12-30T08:05:01.250Z"'
    assert str(Filter("invoiceCurrency", "in", ["USD", "CAD"])) == 'invoiceCurrency:in:"USD,CAD"'
    assert str(Filter("archived", "eq", False)) == "archived:eq:false"
    assert str(Filter("amount", "gte", Decimal("10.50"))) == "amount:gte:10.50"
    assert (
        encode_filters([("name", "sw", "Hap"), Filter("archived", "eq", True)])
        == 'name:sw:"Hap",archived:eq:true'
    )
    assert str(Sort("createdTime", descending=True)) == "createdTime:desc"
    with pytest.raises(ValueError):
        Filter("name", "like", "x")
    # A bare value cannot hold a comma (it separates filters) or a quote: refused, not mis-sent.
    for awkward in ("Smith, Jones & Co", 'The "Best" Supply'):
        with pytest.raises(ValueError, match="bare"):
            Filter("name", "eq", awkward)


def test_a_name_bill_syntax_cannot_hold_is_looked_up_by_prefix_and_compared(bill_client, bill_sandbox):
    from connectors.bill.filters import text_lookup

    bill_sandbox.store.bulk_create_vendors(
        [{"name": "Smith, Jones & Co"}, {"name": 'The "Best" Supply'}, {"name": "Smith, Jones & Company"}]
    )
    for name in ("Smith, Jones & Co", 'The "Best" Supply', "Contoso Ltd."):
        found = [
            v.name for v in bill_client.iter_vendors(filters=text_lookup("name", name)) if v.name == name
        ]
        assert found == [name]


def test_money_goes_out_as_exact_numbers_and_floats_are_refused():
    assert (
        encode_json({"amount": Decimal("0.10"), "n": [Decimal("228.99")]}) == b'{"amount":0.10,"n":[228.99]}'
    )
    with pytest.raises(TypeError):
        encode_json({"amount": 0.1})


def test_rate_limits_are_read_from_the_body_whatever_the_status():
    for status in (400, 422, 429, 503):
        error = error_from_response(
            status, b'[{"code":"BDC_1322","message":"Max number of concurrent requests"}]'
        )
        assert (error.retryable, error.code, error.status) == (True, "BDC_1322", status)
    assert error_from_response(422, b'[{"code":"BDC_1144","message":"x"}]').retryable


def test_backoff_grows_with_jitter_and_stops_at_permanent_errors():
    waits: list[float] = []
    backoff = Backoff(base=1, cap=8, attempts=5, sleep=waits.append, random=lambda: 1.0)
    calls = iter([BillError("busy", retryable=True)] * 4 + [None])

    def attempt():
        error = next(calls)
        if error:
            raise error
        return "done"

    assert backoff.run(attempt) == "done" and waits == [1, 2, 4, 8]
    with pytest.raises(BillError):
        Backoff(sleep=waits.append).run(lambda: (_ for _ in ()).throw(BillError("no", retryable=False)))
    assert len(waits) == 4


def test_it_reads_vendors_across_pages_as_typed_records(bill_client, bill_sandbox):
    bill_sandbox.store.bulk_create_vendors([{"name": f"Paged {i:03d}"} for i in range(20)])
    for _ in range(6):
        bill_sandbox.store.bulk_create_vendors([{"name": f"More {i:03d}"} for i in range(20)])
    vendors = list(bill_client.iter_vendors())
    assert len(vendors) == 3 + 140 and len({v.id for v in vendors}) == len(vendors)
    assert bill_client.stats.by_operation["list_vendors"] == 2  # 100 per page
    contoso = list(bill_client.iter_vendors(filters=[("name", "eq", "Contoso Ltd.")]))
    assert [(v.name, v.tax_id, v.address.city) for v in contoso] == [
        ("Contoso Ltd.", "91-1144442", "Redmond")
    ]


def test_bills_round_trip_with_decimal_money_and_line_item_accounts(bill_client):
    vendor = next(bill_client.iter_vendors(filters=[("name", "eq", "Advanced Office Systems")]))
    account = next(a for a in bill_client.iter_chart_of_accounts() if a.number == "6100")
    bill = bill_client.create_bill(
        {
            "vendorId": vendor.id,
            "dueDate": "2026-01-31",
            "description": "GP voucher 00000123",
            "invoice": {"invoiceNumber": "AOS-77", "invoiceDate": "2026-01-02"},
            "billLineItems": [
                {"amount": Decimal("0.10"), "classifications": {"chartOfAccountId": account.id}},
                {"amount": Decimal("0.20"), "description": "freight"},
            ],
        }
    )
    assert bill.amount == Decimal("0.30") and isinstance(bill.amount, Decimal)
    assert bill.line_items[0].chart_of_account_id == account.id and bill.payment_status == "UNPAID"
    assert bill.invoice_number == "AOS-77" and str(bill.due_date) == "2026-01-31"
    found = list(bill_client.iter_bills(filters=[("vendorId", "eq", vendor.id)]))
    assert [b.id for b in found] == [bill.id]


def test_bulk_helpers_refuse_batches_over_bills_limits(bill_client):
    with pytest.raises(ValueError, match="at most 20 vendors"):
        bill_client.bulk_create_vendors([{"name": str(i)} for i in range(21)])
    with pytest.raises(ValueError, match="at most 100 bills"):
        bill_client.bulk_create_bills([{}] * 101)


def test_bulk_create_bills_reads_the_plain_array(bill_client, bill_sandbox):
    vendors = list(bill_sandbox.store.vendors)
    payloads = [
        {
            "vendorId": vendors[i % 2],
            "dueDate": "2026-02-01",
            "invoice": {"invoiceNumber": f"B{i}", "invoiceDate": "2026-01-01"},
            "billLineItems": [{"amount": Decimal("1.00")}],
        }
        for i in range(5)
    ]
    made = bill_client.bulk_create_bills(payloads)
    # The suite's sandbox answers bulk creates in another order (BILL documents none).
    assert sorted(b.invoice_number for b in made) == ["B0", "B1", "B2", "B3", "B4"]


def test_payments_are_read_with_their_bill_lines(bill_client, bill_sandbox):
    store = bill_sandbox.store
    vendor = next(iter(store.vendors))
    bills = store.create_bills(
        [
            {
                "vendorId": vendor,
                "dueDate": "2026-02-01",
                "invoice": {"invoiceNumber": n, "invoiceDate": "2026-01-01"},
                "billLineItems": [{"amount": Decimal("30")}],
            }
            for n in "XY"
        ],
        100,
    )
    before = datetime.now(UTC)
    paid = bill_sandbox.pay_bills([{"billId": bills[0]["id"], "amount": "12.34"}, {"billId": bills[1]["id"]}])
    [payment] = list(bill_client.iter_payments(updated_since=before))
    assert (
        payment.id == paid["id"] and payment.status == "PAID" and payment.funding_account_id.startswith("bac")
    )
    assert payment.bill_payments == ((bills[0]["id"], Decimal("12.34")), (bills[1]["id"], Decimal("30.00")))
    assert bill_client.get_bill(bills[0]["id"]).payment_status == "PARTIAL"


def test_a_timeout_after_the_write_committed_is_in_doubt_and_not_repeated(bill_client, bill_sandbox):
    bill_client.http.timeout = 0.5
    bill_sandbox.add_fault(
        "timeout_after_commit", path_contains="/v3/vendors", methods=["POST"], hold_seconds=1.0
    )
    with pytest.raises(BillError) as caught:
        bill_client.create_vendor({"name": "Written But Unheard"})
    assert caught.value.in_doubt and caught.value.retryable
    assert [v["name"] for v in bill_sandbox.store.vendors.values()].count("Written But Unheard") == 1


def test_a_reset_on_a_read_is_retried(bill_client, bill_sandbox):
    bill_client.session_info()
    bill_sandbox.add_fault("reset", count=2, methods=["GET"])
    bill_sandbox.add_fault("5xx", count=1, methods=["GET"], status=502)
    assert bill_client.session_info()["organizationId"] == bill_sandbox.credentials.org_id
    assert bill_client.stats.retries == 3


def test_a_5xx_on_a_create_is_in_doubt(bill_client, bill_sandbox):
    bill_sandbox.add_fault("5xx", methods=["POST"], path_contains="/v3/vendors")
    with pytest.raises(BillError) as caught:
        bill_client.create_vendor({"name": "Maybe"})
    assert caught.value.in_doubt and caught.value.status == 500


def test_an_untrusted_session_is_permanent_and_does_not_log_in_again(bill_client, bill_sandbox):
    bill_client.session_info()
    with pytest.raises(BillError) as caught:
        bill_client.call("create_payment", "POST", "/v3/payments", body={"billId": "x"})
    assert caught.value.code == "BDC_1361" and not caught.value.retryable
    assert "not trusted (MFA)" in caught.value.message
    assert bill_sandbox.stats()["logins"] == 1


def test_archive_and_restore_vendor(bill_client):
    vendor = bill_client.create_vendor({"name": "Short Lived"})
    assert bill_client.archive_vendor(vendor.id).archived
    assert bill_client.archive_vendor(vendor.id).archived  # archiving twice changes nothing
    assert not bill_client.restore_vendor(vendor.id).archived
    assert bill_client.patch_vendor(vendor.id, {"email": "a@b.example"}).email == "a@b.example"

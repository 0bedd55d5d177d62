"""The GP client against GP servers that differ from the modelled Part B contract (sandbox variants).

Each variant is either read correctly (with the connection's confirmed resource map overrides, or by
default where GP's own codes are known) or stopped with a GPShapeError naming what was expected and
what came: never an empty list read as "nothing there".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.gp.client import GPClient
from connectors.gp.resource_map import GPShapeError, Shape


def _client(conn, shape: Shape | None = None, page_size: int = 500) -> GPClient:
    return GPClient.for_connection(conn, sleep=lambda s: None, shape=shape, page_size=page_size)


def _vendors(client: GPClient) -> dict[str, tuple[str, bool]]:
    return {v.vendor_id: (v.status, v.is_on_hold) for v in client.iter_vendors()}


@pytest.mark.parametrize(
    "lists, came", [("bare", "a JSON array of 8 item(s)"), ("value", "a JSON object with keys value, Count")]
)
def test_a_list_without_the_payload_envelope_is_an_error_naming_both_shapes(
    gp_connection, gp_sandbox, lists, came
):
    gp_sandbox.set_variant(lists=lists)
    with pytest.raises(GPShapeError) as caught:
        list(_client(gp_connection).iter_vendors())
    assert "expected a JSON object with the records under 'Payload'" in str(caught.value)
    assert came in str(caught.value)


@pytest.mark.parametrize("lists, envelope", [("bare", ""), ("value", "value")])
def test_the_envelope_in_the_resource_map_reads_lists_and_records(gp_connection, gp_sandbox, lists, envelope):
    expected = _vendors(_client(gp_connection))
    invoice = _client(gp_connection).get_invoice("00000000000000301")
    gp_sandbox.set_variant(lists=lists)
    client = _client(gp_connection, Shape.from_overrides({"envelope": envelope, "record_envelope": ""}))
    assert _vendors(client) == expected and len(expected) == 8
    assert client.get_invoice("00000000000000301") == invoice
    assert client.get_vendor("NOSUCHVENDOR") is None


def test_a_record_without_the_envelope_is_not_read_as_missing(gp_connection, gp_sandbox):
    gp_sandbox.set_variant(lists="bare")
    with pytest.raises(GPShapeError, match="record under 'Payload'"):
        _client(gp_connection).get_invoice("00000000000000301")


def test_is_active_instead_of_status_is_an_error_until_mapped_then_inactive_stays_inactive(
    gp_connection, gp_sandbox
):
    gp_sandbox.set_variant(vendor_status="IsActive")
    with pytest.raises(GPShapeError) as caught:
        list(_client(gp_connection).iter_vendors())
    assert "a 'Status' field" in str(caught.value) and "IsActive=True" in str(caught.value)
    client = _client(gp_connection, Shape.from_overrides({"vendor_status_field": "IsActive"}))
    vendors = {v.vendor_id: v for v in client.iter_vendors()}
    assert vendors["AMERICAN0001"].status == "Inactive" and not vendors["AMERICAN0001"].is_active
    assert vendors["ACETRAVE0001"].status == "Active"


def test_integer_distribution_types_are_read_as_gp_s_own_codes(gp_connection, gp_sandbox):
    by_name = {i.voucher: i.distributions for i in _client(gp_connection).iter_invoices()}
    gp_sandbox.set_variant(distribution_types="integers")
    by_number = {i.voucher: i.distributions for i in _client(gp_connection).iter_invoices()}
    assert by_number == by_name
    assert {d.type for ds in by_number.values() for d in ds} >= {"Purchase", "Payable"}


def test_an_unknown_vocabulary_value_names_the_record_and_the_value(gp_connection, gp_sandbox):
    gp_sandbox.update_invoice("00000000000000301", TransactionState="Posted")
    with pytest.raises(GPShapeError) as caught:
        list(_client(gp_connection).iter_invoices())
    message = str(caught.value)
    assert "transaction state (record 00000000000000301)" in message and "'Posted'" in message
    assert "History, Open, Work" in message
    mapped = _client(gp_connection, Shape.from_overrides({"transaction_states": {"Posted": "Open"}}))
    assert mapped.get_invoice("00000000000000301").state == "Open"


def test_date_only_stamps_are_detected_instead_of_missing_todays_changes(gp_connection, gp_sandbox):
    gp_sandbox.set_variant(stamps="day")
    with pytest.raises(GPShapeError, match="dates only"):
        list(_client(gp_connection).iter_vendors())


def test_with_date_only_stamps_the_cursor_floors_to_the_day_and_sees_a_change_made_after_it(
    gp_connection, gp_sandbox
):
    gp_sandbox.set_variant(stamps="day")
    client = _client(gp_connection, Shape.from_overrides({"modified_precision": "day"}))
    assert len(list(client.iter_vendors())) == 8
    cursor = dt.datetime.now(dt.UTC)
    gp_sandbox.update_vendor("CONTOSO0001", Name="Contoso Renamed")  # stamped today 00:00:00
    changed = {v.vendor_id: v.name for v in client.iter_vendors(modified_since=cursor)}
    assert changed == {"CONTOSO0001": "Contoso Renamed"}
    plain = _client(gp_connection, Shape())  # what the old client did: `ge <cursor - 5 min>`
    with pytest.raises(GPShapeError):
        list(plain.iter_vendors())


def test_skip_ignored_with_many_records_per_stamp_stops_with_an_error_not_a_loop(gp_connection, gp_sandbox):
    gp_sandbox.set_variant(stamps="day", skip="ignored")
    client = _client(gp_connection, Shape.from_overrides({"modified_precision": "day"}), page_size=3)
    gp_sandbox.reset_stats()
    with pytest.raises(GPShapeError) as caught:
        list(client.iter_vendors())
    assert "ignore $skip" in str(caught.value)
    requests = gp_sandbox.stats()["requests"]["by_path"]["GET Purchasing/Vendors"]["200"]
    assert requests <= 5


def test_skip_ignored_reads_everything_when_no_stamp_is_shared_by_more_than_a_page(gp_connection, gp_sandbox):
    expected = {v.vendor_id for v in _client(gp_connection).iter_vendors()}
    gp_sandbox.set_variant(skip="ignored")
    client = _client(gp_connection, page_size=4)  # the seed shares a stamp among at most 3 vendors
    got = [v.vendor_id for v in client.iter_vendors()]
    assert sorted(got) == sorted(expected)  # every vendor once: pages continue from the newest stamp


def test_a_payment_number_gp_assigns_itself_is_answered(gp_connection, gp_sandbox):
    gp_sandbox.set_variant(payment_numbers="gp_assigns")
    client = _client(gp_connection)
    invoice = client.get_invoice("00000000000000301")
    payment = client.create_payment(
        "BLOURS0000000001",
        invoice.vendor_id,
        "FIRST NATIONAL",
        "EFT",
        "REF-1",
        dt.date(2026, 1, 5),
        Decimal("10.00"),
        [(invoice.voucher, Decimal("10.00"))],
        "B1",
    )
    assert payment.payment_number.startswith("PYMNT") and payment.payment_number != "BLOURS0000000001"
    assert client.get_payment("BLOURS0000000001") is None


def test_resource_map_overrides_refuse_what_the_client_cannot_use():
    with pytest.raises(ValueError, match="Unknown GP resource map setting"):
        Shape.from_overrides({"statuss": "x"})
    with pytest.raises(ValueError, match="modified_precision"):
        Shape.from_overrides({"modified_precision": "hour"})
    assert Shape.from_overrides({"vendor_status_field": "IsActive"}).differences() == {
        "vendor_status_field": "IsActive"
    }


def test_payment_methods_and_states_map_both_ways_through_the_resource_map():
    shape = Shape.from_overrides({"payment_methods": {"EFT": "3"}, "transaction_states": {"2": "Open"}})
    assert shape.payment_method_out("EFT") == "3" and shape.payment_method_out("Check") == "Check"
    read = shape.payment({"Key": {"Id": "P1"}, "PaymentMethod": "3", "TransactionState": "2"})
    assert read["PaymentMethod"] == "EFT" and read["TransactionState"] == "Open"
    with pytest.raises(GPShapeError, match="payment method"):
        shape.payment({"Key": {"Id": "P2"}, "PaymentMethod": "Wire"})


def _addresses(client: GPClient) -> dict[str, tuple[str, str, str, str]]:
    return {v.vendor_id: (v.line1, v.city, v.postal_code, v.email) for v in client.iter_vendors()}


def test_addresses_listed_in_a_resource_of_their_own_are_an_error_until_mapped_then_read_the_same(
    gp_connection, gp_sandbox
):
    embedded = _addresses(_client(gp_connection))
    assert any(line1 for line1, *_ in embedded.values())
    gp_sandbox.set_variant(vendor_addresses="separate")
    with pytest.raises(GPShapeError) as caught:
        list(_client(gp_connection).iter_vendors())
    assert "its addresses under 'Addresses'" in str(caught.value) and "vendor_address_resource" in str(
        caught.value
    )

    client = _client(
        gp_connection, Shape.from_overrides({"vendor_address_resource": "Purchasing/VendorAddresses"})
    )
    assert _addresses(client) == embedded
    one = next(iter(embedded))
    assert (client.get_vendor(one).line1, client.get_vendor(one).city) == embedded[one][:2]


def test_an_address_resource_that_ignores_the_vendor_filter_is_an_error_not_mixed_addresses(
    gp_connection, gp_sandbox, monkeypatch
):
    gp_sandbox.set_variant(vendor_addresses="separate")
    client = _client(
        gp_connection, Shape.from_overrides({"vendor_address_resource": "Purchasing/VendorAddresses"})
    )
    request = client.http.request

    def without_filter(method, resource, params=None, **kw):
        if resource == "Purchasing/VendorAddresses":
            params = {k: v for k, v in (params or {}).items() if k != "$filter"}
        return request(method, resource, params=params, **kw)

    monkeypatch.setattr(client.http, "request", without_filter)
    with pytest.raises(GPShapeError, match="may ignore VendorId eq"):
        list(client.iter_vendors())


def test_the_address_resource_is_refused_unless_it_is_a_resource_path():
    with pytest.raises(ValueError, match="vendor_address_resource"):
        Shape.from_overrides({"vendor_address_resource": "https://elsewhere/addresses"})
    assert Shape.from_overrides({"vendor_address_resource": "Purchasing/VendorAddresses"}).differences() == {
        "vendor_address_resource": "Purchasing/VendorAddresses"
    }

"""Incremental listing on ModifiedDate: streamed pages, a stable order, nothing lost at page boundaries."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from connectors.gp.client import GPClient
from tests.gp.clients import sba_client

SEED_VENDOR_ORDER = [
    "ACETRAVE0001",
    "ADVANCED0001",
    "AMERICAN0001",
    "ASSOCIAT0001",
    "ASSOCIAT0002",
    "TEMPVEND0001",
    "CONTOSO0001",
    "MULLERBU0001",
]


def client(sandbox, page_size: int) -> GPClient:
    return sba_client(
        sandbox.url,
        sandbox.tenant,
        sandbox.company,
        sandbox.account,
        sandbox.password,
        page_size=page_size,
        timeout=5,
    )


def test_the_seed_shares_modified_dates_so_boundaries_are_tested(gp_client):
    stamps = Counter(v.modified_date for v in gp_client.iter_vendors())
    assert sorted(stamps.values()) == [2, 3, 3]


@pytest.mark.parametrize("page_size", [1, 2, 3, 4, 5, 7, 100])
def test_it_loses_and_repeats_nothing_when_equal_modified_dates_straddle_a_page(gp_sandbox, page_size):
    vendors = [v.vendor_id for v in client(gp_sandbox, page_size).iter_vendors()]
    assert vendors == SEED_VENDOR_ORDER


@pytest.mark.parametrize("page_size", [2, 3])
def test_it_pages_invoices_by_state_without_gaps(gp_sandbox, gp_client, page_size):
    everything = [i.voucher for i in gp_client.iter_invoices(state="Open")]
    assert len(everything) == 12
    assert [i.voucher for i in client(gp_sandbox, page_size).iter_invoices(state="Open")] == everything


def test_it_streams_one_page_at_a_time(gp_sandbox):
    pages = client(gp_sandbox, 2).iter_vendors()
    next(pages)
    assert gp_sandbox.stats()["requests"]["by_path"]["GET Purchasing/Vendors"].get("200") == 1


def test_it_reads_from_the_cursor_minus_the_overlap(gp_sandbox, gp_client):
    gp_sandbox.set_clock("2026-01-10T12:00:00Z")
    gp_sandbox.update_vendor("CONTOSO0001", Name="Contoso, Ltd. (renamed)")
    cursor = dt.datetime(2026, 1, 10, 12, 3, tzinfo=dt.UTC)
    assert [v.name for v in gp_client.iter_vendors(modified_since=cursor)] == ["Contoso, Ltd. (renamed)"]
    assert list(gp_client.iter_vendors(modified_since=cursor, overlap=dt.timedelta(0))) == []
    query = gp_sandbox.stats()["requests"]["by_path"]
    assert "GET Purchasing/Vendors" in query


def test_it_does_not_lose_a_record_when_a_seen_one_changes_mid_listing(gp_sandbox):
    listing = client(gp_sandbox, 2).iter_vendors()
    first_two = [next(listing).vendor_id, next(listing).vendor_id]
    gp_sandbox.update_vendor(first_two[0], IsOnHold=True)  # moves to the end: the rest shift up by one
    rest = [v.vendor_id for v in listing]
    assert set(first_two + rest) == set(SEED_VENDOR_ORDER)
    assert rest[-1] == first_two[0]  # seen again with its change, at its new ModifiedDate


def test_the_bench_seed_answers_a_modified_date_filter_without_a_scan(gp_sandbox):
    from sandbox.gp.company import GPCompany

    company = GPCompany("Bench", seed="bench")
    table = company.tables["Vendors"]
    assert len(table) == 100_000 and len(company.tables["PayablesInvoices"]) == 50_000
    rows, total = table.query("2025-06-15T00:00:00Z", None, (), 0, 3)
    assert total < 100_000 and [r["ModifiedDate"] for r in rows] == ["2025-06-15T00:00:00Z"] * 3

"""Ranking BILL departments/locations/classes for a GP segment value, and reading segments from an account."""

from __future__ import annotations

from decimal import Decimal

from audit.waits import WAITING_ON_MAX, fit_waiting
from mappings.matching import Classification, means_none, rank_classifications
from mappings.segments import segment_value, segments


def test_the_same_code_ranks_first_and_strong_enough_to_approve_without_a_second_look():
    bill = [
        Classification("0de1", "Sales", "20"),
        Classification("0de2", "Admin", "ADMIN"),
        Classification("0de3", "20", ""),
    ]
    ranked = rank_classifications("20", "", bill)
    assert [c.bill_id for c in ranked] == ["0de1", "0de3"]
    assert ranked[0].score >= Decimal("0.7") and ranked[0].reasons == ("same code",)


def test_a_gp_description_like_the_bill_name_counts_and_nothing_alike_is_not_suggested():
    bill = [Classification("loc1", "Chicago Warehouse", "CHI"), Classification("loc2", "Denver", "DEN")]
    assert [c.bill_id for c in rank_classifications("300", "Chicago Warehouse", bill)] == ["loc1"]
    assert rank_classifications("300", "", bill) == []


def test_segments_are_read_by_position_whatever_the_separator():
    assert segments("100-6100-20") == ["100", "6100", "20"]
    assert segment_value("100.6100.20", 3) == "20" and segment_value("100-6100-20", 1) == "100"
    assert segment_value("6100", 3) is None and segment_value("100-6100-20", 0) is None
    assert means_none("000") and not means_none("010") and not means_none("")


def test_a_bill_waiting_on_more_mappings_than_the_ledger_column_holds_keeps_whole_tokens_in_order():
    tokens = ["vendor:ACME0001"] + [f"account:{n:03d}-6100-{n:02d}" for n in range(20)] + ["department:20"]
    kept = fit_waiting(tokens)
    assert len(kept) <= WAITING_ON_MAX and kept.startswith("vendor:ACME0001 account:000-6100-00")
    assert all(t in tokens for t in kept.split())
    assert fit_waiting(["vendor:A", "department:20"]) == "vendor:A department:20"

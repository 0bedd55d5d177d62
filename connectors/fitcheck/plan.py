"""The plan: what the first sync would create, what would wait for which mapping, and how many BILL
calls and how long the first load would take at BILL's limits (3 calls in flight, an hourly budget)."""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal
from typing import Any

from django.conf import settings

from connectors.bill.client import MAX_BULK_BILLS, MAX_BULK_VENDORS
from connectors.bill.client import PAGE_SIZE as BILL_PAGE_SIZE
from connectors.sync.gp_to_bill.bill_payload import DISCOUNT_TYPES, LINE_TYPES, hold_unknown, is_approved
from connectors.sync.suggest import gp_party
from mappings.matching import Account, rank_accounts, rank_vendors
from mappings.models import GLAccountMapping, MappingState, VendorMapping

from .bill_side import BillFacts
from .gp_side import GPFacts
from .problems import WARNING, Problems

AUTO_MATCH = Decimal("0.8")  # a suggestion this strong is what `make demo` approves without a person
# A bulk create at BILL takes about this long (bench/RESULTS.md measures ~1-2 s per 100-bill call).
SECONDS_PER_CALL = 2.0
HOLD_REASON = (
    "hold not shown by GP Web Services"  # waits until the tenant accepts sending without a hold check
)


def make_plan(
    gp: GPFacts, bill: BillFacts, tenant: Any, problems: Problems, concurrency: int
) -> dict[str, Any]:
    approved_vendors = set(
        VendorMapping.objects.filter(tenant=tenant, state=MappingState.APPROVED).values_list(
            "gp_vendor_id", flat=True
        )
    )
    approved_accounts = set(
        GLAccountMapping.objects.filter(tenant=tenant, state=MappingState.APPROVED).values_list(
            "gp_account", flat=True
        )
    )
    vendor_match: dict[str, bool] = {}
    for v in gp.vendors:
        ranked = rank_vendors(gp_party(v), bill.parties, limit=1)
        vendor_match[v.vendor_id] = v.vendor_id in approved_vendors or bool(
            ranked and ranked[0].score >= AUTO_MATCH
        )
    account_match: dict[str, bool] = {}

    def account_ready(account: str) -> bool:
        if account not in account_match:
            gp_account = gp.accounts.get(account)
            ranked = rank_accounts(
                Account(account, gp_account.description if gp_account else ""), bill.accounts, limit=1
            )
            usable = gp_account is None or gp_account.can_post
            account_match[account] = account in approved_accounts or (
                usable and bool(ranked and ranked[0].score >= AUTO_MATCH)
            )
        return account_match[account]

    held = {v.vendor_id for v in gp.vendors if v.is_on_hold or v.status == "Inactive"}
    parked_vouchers = gp.parked_vouchers
    waiting: Counter[str] = Counter()
    waiting_on_vendors: set[str] = set()
    waiting_on_accounts: set[str] = set()
    ready = 0
    for inv in gp.invoices:
        if not is_approved(inv, tenant)[0] or inv.voucher in parked_vouchers:
            continue
        reasons = []
        if hold_unknown(inv, tenant):
            reasons.append(HOLD_REASON)
        if inv.vendor_id in held:
            reasons.append("vendor on hold or inactive in GP")
        elif not vendor_match.get(inv.vendor_id, False):
            reasons.append("vendor mapping")
            waiting_on_vendors.add(inv.vendor_id)
        accounts = {
            d.account
            for d in inv.distributions
            if d.type.upper() in LINE_TYPES or d.type.upper() in DISCOUNT_TYPES
        }
        missing = {a for a in accounts if not account_ready(a)}
        if missing:
            reasons.append("GL account mapping")
            waiting_on_accounts |= missing
        for reason in reasons:
            waiting[reason] += 1
        ready += not reasons
    to_create = [v for v in gp.vendors if v.status != "Inactive" and not vendor_match[v.vendor_id]]
    # Every bill of a vendor not held is created once its mappings are approved.
    bills = sum(
        1
        for inv in gp.invoices
        if is_approved(inv, tenant)[0] and inv.voucher not in parked_vouchers and inv.vendor_id not in held
    )
    calls = _calls(len(to_create), bills, len(gp.vendors), len(bill.parties), len(waiting_on_accounts))
    seconds = math.ceil(calls["total"] * SECONDS_PER_CALL / max(1, concurrency))
    left = (bill.report.get("calls") or {}).get("left_this_hour")
    if left is not None and calls["total"] > left:
        problems.add(
            "Plan",
            WARNING,
            "BILL hourly budget",
            f"The first load needs about {calls['total']} BILL calls, "
            f"more than the {left} left this hour: it will pause and go on next hour.",
            "Nothing to do.",
        )
    return {
        "vendors_matching_automatically": sum(vendor_match.values()),
        "vendors_to_create": len(to_create),
        "bills_to_create": bills,
        "bills_ready": ready,
        "bills_waiting": dict(waiting),
        "vendors_waited_for": len(waiting_on_vendors),
        "gl_accounts_waited_for": sorted(waiting_on_accounts),
        "bills_parked": len(parked_vouchers),
        "bills_held_vendor": waiting.get("vendor on hold or inactive in GP", 0),
        "bills_waiting_hold_check": waiting.get(HOLD_REASON, 0),
        "bill_calls": calls,
        "first_load_seconds": seconds,
        "first_load_hours_of_budget": math.ceil(calls["total"] / max(1, settings.BILL_HOURLY_BUDGET)),
        "assumptions": f"{SECONDS_PER_CALL:g} s per BILL call, {concurrency} calls in flight, "
        f"{MAX_BULK_VENDORS} vendors and {MAX_BULK_BILLS} bills per bulk call",
    }


def _calls(vendors: int, bills: int, gp_vendors: int, bill_vendors: int, accounts: int) -> dict[str, int]:
    reads = (
        1 + math.ceil(max(1, bill_vendors) / BILL_PAGE_SIZE) + 2
    )  # sign in, vendors, chart of accounts, banks
    creates = math.ceil(vendors / MAX_BULK_VENDORS) + math.ceil(bills / MAX_BULK_BILLS) + accounts
    return {
        "reads": reads,
        "vendor_creates": math.ceil(vendors / MAX_BULK_VENDORS),
        "bill_creates": math.ceil(bills / MAX_BULK_BILLS),
        "account_creates": accounts,
        "total": reads + creates,
    }

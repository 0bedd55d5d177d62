"""`python -m bench initial_load --vendors 2000 --invoices 20000 --latency-ms 100 --per-item-ms 5`

The first sync of a company: GP seeded with N vendors and M open invoices (each sandbox in its own
process), every vendor mapping approved as "create in BILL" and every GL account linked, in bulk;
then one GP → BILL run creates the vendors and bills. Reports wall time, BILL calls against the least
the bulk sizes allow, slot utilisation = BILL service time / (3 × wall time), peak RSS of this (the
worker) process, agreement read back from both APIs, and the speed-up over a naive client (one
record per call, sequential) timed on a sample in the same run and extrapolated.
"""

from __future__ import annotations

import argparse
import math
import resource
import time
from typing import Any

from . import _env
from ._servers import Served, start_bill, start_gp
from ._tenant import approve_vendors_as_create, link_accounts, wire

TARGET_UTILISATION = 0.9
TARGET_CALL_RATIO = 1.05


def make_parser() -> argparse.ArgumentParser:
    p = _env.bench_parser(
        "initial_load", __doc__, vendors=2000, invoices=20000, latency_ms=100, per_item_ms=5
    )
    p.add_argument(
        "--naive-sample",
        type=int,
        default=200,
        help="records the naive client creates (a tenth vendors, the rest bills); 0 skips it",
    )
    p.add_argument("--no-agreement", action="store_true", help="skip reading both systems back")
    return p


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bill_calls(stats: dict[str, Any]) -> dict[str, int]:
    """Requests BILL's API answered (the control API not counted), by operation."""
    out: dict[str, int] = {}
    for label, counts in stats["requests"]["by_path"].items():
        if " /connect" in label:
            out[label] = sum(counts.values())
    return out


def run(args: argparse.Namespace, env: dict[str, Any] | None = None) -> dict[str, Any]:
    env = env or _env.setup(args)
    rss_at_start = peak_rss_mb()
    gp = start_gp(args.vendors, args.invoices)
    bill = start_bill(args.latency_ms, args.per_item_ms)
    try:
        return _measure(args, env, gp, bill, rss_at_start)
    finally:
        gp.stop()
        bill.stop()


def _measure(
    args: argparse.Namespace, env: dict[str, Any], gp: Served, bill: Served, rss_at_start: float
) -> dict[str, Any]:
    from django.conf import settings

    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors.sync.context import SyncContext
    from connectors.sync.runner import run_gp_to_bill

    tenant = wire(gp.info, bill.info)
    setup_ctx = SyncContext.for_tenant(tenant)
    vendor_ids = [f"B{i:07d}" for i in range(args.vendors)]  # the bench seed's GP vendor IDs
    approve_vendors_as_create(tenant, vendor_ids)
    link_accounts(tenant, setup_ctx.gp, setup_ctx.bill)
    setup_ctx.gp.close()
    bill.control("POST", "stats/reset")

    ctx = SyncContext.for_tenant(tenant, trigger="manual")
    started = time.monotonic()
    tally = run_gp_to_bill(tenant, trigger="manual", full=True, ctx=ctx)
    wall = time.monotonic() - started
    rss = peak_rss_mb()
    stats = bill.control("GET", "stats")

    calls = bill_calls(stats)
    total_calls = sum(calls.values())
    vendors_created = tally.get("vendor_created", 0)
    bills_created = tally.get("bill_created", 0)
    bulk_minimum = math.ceil(vendors_created / 20) + math.ceil(bills_created / 100)
    # A GP vendor on hold becomes an archived BILL vendor: one archive call each, as BILL has no bulk
    # archive for vendors. Those calls are part of the least this load can take.
    minimum = bulk_minimum + tally.get("vendor_archived", 0)
    service = ctx.bill.stats.service_seconds
    limit = settings.BILL_CONCURRENCY_LIMIT
    result: dict[str, Any] = {
        "benchmark": "initial_load",
        "setup": {
            **{k: v for k, v in env.items() if not k.endswith("_url")},
            "gp_vendors": args.vendors,
            "gp_invoices": args.invoices,
            "bill_latency_ms": args.latency_ms,
            "bill_per_item_ms": args.per_item_ms,
            "bill_concurrency_limit": limit,
            "mappings": (
                "vendors approved as 'create in BILL' and GL accounts linked, in bulk, before the run"
            ),
        },
        "wall_seconds": round(wall, 2),
        "vendors_created": vendors_created,
        "bills_created": bills_created,
        "records_per_second": round((vendors_created + bills_created) / wall, 1),
        "tally": dict(tally),
        "bill_calls": total_calls,
        "bill_calls_by_operation": calls,
        "bill_calls_minimum": minimum,
        "bill_calls_ratio": round(total_calls / minimum, 3) if minimum else None,
        "bill_calls_minimum_bulk_creates_only": bulk_minimum,
        "bill_calls_ratio_bulk_creates_only": round(total_calls / bulk_minimum, 3) if bulk_minimum else None,
        "bill_service_seconds": round(service, 2),
        "slot_utilisation": round(service / (limit * wall), 3),
        "max_in_flight": max(stats["max_in_flight"].values() or [0]),
        "refused_by_bill": {org: o["refused"] for org, o in stats["orgs"].items() if o["refused"]},
        "retries": ctx.bill.stats.retries,
        "peak_rss_mb": rss,
        "peak_rss_mb_before_run": rss_at_start,
    }
    ctx.gp.close()
    if not args.no_agreement:
        bill.control("POST", "latency", {"ms": 0, "per_item_ms": 0})
        # after django.setup(): a bench module is imported before it has chosen its database
        from connectors.devtools.agreement import measure_bills

        check = SyncContext.for_tenant(tenant)
        result["agreement"] = measure_bills(tenant, check)
        check.gp.close()
    if args.naive_sample:
        bill.control("POST", "latency", {"ms": args.latency_ms, "per_item_ms": args.per_item_ms})
        naive = naive_client(tenant, args.naive_sample)
        estimate = naive["seconds_per_vendor"] * vendors_created + naive["seconds_per_bill"] * bills_created
        result["naive"] = {
            **naive,
            "estimated_seconds_for_this_load": round(estimate, 1),
            "speedup": round(estimate / wall, 1),
        }
    result["targets"] = {
        "slot_utilisation>=0.9": result["slot_utilisation"] >= TARGET_UTILISATION,
        "bill_calls<=1.05xminimum": (result["bill_calls_ratio"] or 99) <= TARGET_CALL_RATIO,
        "max_in_flight<=3": result["max_in_flight"] <= limit,
    }
    return result


def naive_client(tenant: Any, sample: int) -> dict[str, Any]:
    """One create_vendor / create_bill per record, one after another, through the same BillClient."""
    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors.bill.client import BillClient
    from connectors.sync import vendor_fields as vf
    from connectors.sync.context import SyncContext
    from connectors.sync.gp_to_bill.bill_payload import build_draft

    ctx = SyncContext.for_tenant(tenant)
    client = BillClient.for_connection(tenant.bill_connection)
    n_vendors = max(1, sample // 10)
    n_bills = max(1, sample - n_vendors)
    vendors = []
    for vendor in ctx.gp.iter_vendors():
        vendors.append(vendor)
        if len(vendors) >= n_vendors:
            break
    drafts = []
    for invoice in ctx.gp.iter_invoices():
        draft = build_draft(invoice, ctx)
        if draft.ready:
            drafts.append(draft)
        if len(drafts) >= n_bills:
            break
    ctx.gp.close()
    client.session_info()  # signed in before the clock starts, as the bulk run was
    started = time.monotonic()
    for vendor in vendors:
        client.create_vendor(vf.bill_body(vf.from_gp(vendor)))
    vendor_seconds = time.monotonic() - started
    started = time.monotonic()
    for draft in drafts:
        client.create_bill(draft.payload)
    bill_seconds = time.monotonic() - started
    return {
        "vendors": len(vendors),
        "bills": len(drafts),
        "vendor_seconds": round(vendor_seconds, 2),
        "bill_seconds": round(bill_seconds, 2),
        "seconds_per_vendor": round(vendor_seconds / len(vendors), 4),
        "seconds_per_bill": round(bill_seconds / len(drafts), 4),
        "note": "measured on this sample at the same latency, extrapolated linearly to the full load",
    }


def main(argv: list[str]) -> int:
    return _env.run_main(make_parser, run, argv)

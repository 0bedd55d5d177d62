"""`python -m bench incremental [--changes 10]`

The GP `bench` seed (100,000 vendors, 50,000 invoices) already synced: BILL holds a vendor per GP
vendor and a bill per approved invoice, and the ledger, mappings and cursors are as a finished
initial sync leaves them (loaded in bulk, not re-synced: that is `initial_load`'s job). Then N vendors
and N invoices change in GP, and one GP → BILL poll cycle runs. Reports the GP requests it made (and
HTTP exchanges, NTLM legs included), BILL calls, and time; also for a cycle with nothing changed and
one with ten times the changes, to show the cost follows the changes, not the size of GP.
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal
from typing import Any

from sandbox.bill import start_bill_sandbox
from sandbox.gp.control import GPSandboxControl
from sandbox.gp.seeds import bench_invoice, bench_vendor

from . import _env
from ._servers import fresh_org_id, start_gp
from ._tenant import bill_info, link_accounts, wire

GP_VENDORS, GP_INVOICES = 100_000, 50_000
TARGET_SECONDS = 2.0


def make_parser() -> argparse.ArgumentParser:
    p = _env.bench_parser("incremental", __doc__, latency_ms=100)
    p.add_argument(
        "--changes", type=int, default=10, help="vendors and invoices changed before the measured cycle"
    )
    return p


def load_synced_state(tenant: Any, bill_sandbox: Any) -> dict[str, int]:
    """What a finished initial sync of the bench seed leaves: BILL objects, mappings, ledger rows, cursors."""
    from django.utils import timezone

    # after django.setup(): a bench module is imported before it has chosen its database
    from audit.models import Kind, PollCursor, State, SyncRecord
    from connectors.gp.records import GPInvoice, GPVendor
    from connectors.sync import vendor_fields as vf
    from connectors.sync.context import SyncContext
    from connectors.sync.gp_to_bill.bill_payload import build_draft, is_approved
    from connectors.sync.gp_to_bill.vendors import is_archived_in_gp
    from connectors.sync.hashing import content_hash
    from mappings.models import MappingAction, MappingState, VendorMapping

    store = bill_sandbox.store
    now = timezone.now()
    vendors = [GPVendor.from_gp(bench_vendor(f"B{i:07d}")) for i in range(GP_VENDORS)]
    aligned = [vf.from_gp(v) for v in vendors]
    made = store.bulk_create_vendors([vf.bill_body(a) for a in aligned], limit=len(aligned))
    for vendor, bill_vendor in zip(vendors, made, strict=True):
        if is_archived_in_gp(vendor):
            store.set_vendor_archived(bill_vendor["id"], True)
    VendorMapping.objects.bulk_create(
        [
            VendorMapping(
                tenant=tenant,
                gp_vendor_id=v.vendor_id,
                gp_name=a["name"][:100],
                action=MappingAction.LINK,
                bill_vendor_id=b["id"],
                bill_name=a["name"][:200],
                state=MappingState.APPROVED,
                approved_at=now,
            )
            for v, a, b in zip(vendors, aligned, made, strict=True)
        ],
        batch_size=5000,
    )
    SyncRecord.objects.bulk_create(
        [
            SyncRecord(
                tenant=tenant,
                kind=Kind.VENDOR,
                source_key=v.vendor_id,
                target_id=b["id"],
                state=State.SYNCED,
                synced_hash=content_hash(a),
                snapshot={"agreed": a, "archived": is_archived_in_gp(v)},
                label=f"{v.vendor_id} {a['name']}",
            )
            for v, a, b in zip(vendors, aligned, made, strict=True)
        ],
        batch_size=5000,
    )
    del vendors, aligned, made

    ctx = SyncContext.for_tenant(tenant)
    bills = 0
    for start in range(0, GP_INVOICES, 1000):
        invoices = [
            GPInvoice.from_gp(bench_invoice(f"{i + 1:017d}", GP_VENDORS))
            for i in range(start, min(start + 1000, GP_INVOICES))
        ]
        ctx.prefetch_vendor_maps({i.vendor_id for i in invoices})
        ctx.prefetch_account_maps({d.account for i in invoices for d in i.distributions})
        drafts = [d for d in (build_draft(i, ctx) for i in invoices if is_approved(i, tenant)[0]) if d.ready]
        created = store.create_bills([d.payload for d in drafts], limit=len(drafts))
        SyncRecord.objects.bulk_create(
            [
                SyncRecord(
                    tenant=tenant,
                    kind=Kind.BILL,
                    source_key=d.voucher,
                    target_id=b["id"],
                    state=State.SYNCED,
                    synced_hash=d.hash,
                    label=d.label,
                )
                for d, b in zip(drafts, created, strict=True)
            ]
        )
        bills += len(drafts)
        ctx._vendor_maps.clear()  # noqa: SLF001 - keep the loader's memory flat
    ctx.gp.close()
    for flow in ("gp_vendors", "gp_bills", "bill_payments", "bill_vendors"):
        PollCursor.objects.update_or_create(
            tenant=tenant, flow=flow, defaults={"cursor": now, "last_success_at": now}
        )
    return {"bill_vendors": GP_VENDORS, "bill_bills": bills, "ledger_rows": SyncRecord.objects.count()}


def change(gp: Any, n: int, round_: int) -> list[str]:
    """Change n vendors (name) and n invoices (amount) in GP, spread over the seed."""
    control = GPSandboxControl(gp.info["url"])
    step_v, step_i = GP_VENDORS // max(n, 1), GP_INVOICES // max(n, 1)
    vouchers = []
    for k in range(n):
        i = 1 + k * step_v + round_
        if i % 101 == 0:  # held vendors' bills wait; change an ordinary one
            i += 1
        control.update_vendor(f"B{i:07d}", Name=f"Bench Vendor {i} (renamed {round_})")
        j = 1 + k * step_i + round_
        if ((j * 13) % GP_VENDORS) % 101 == 0 or j % 10 == 0:
            j += 1
        voucher = f"{j + 1:017d}"
        control.update_invoice(
            voucher,
            PurchasesAmount={"Value": str(Decimal(500 + k + round_)), "Currency": "USD", "DecimalDigits": 2},
        )
        vouchers.append(voucher)
    return vouchers


def cycle(tenant: Any, gp: Any, bill_sandbox: Any) -> dict[str, Any]:
    """One scheduled GP → BILL poll, counted on both sandboxes."""
    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors.sync.context import SyncContext
    from connectors.sync.runner import run_gp_to_bill

    gp.control("POST", "stats/reset")
    bill_sandbox.reset_stats()
    ctx = SyncContext.for_tenant(tenant)
    started = time.monotonic()
    tally = run_gp_to_bill(tenant, ctx=ctx)
    seconds = time.monotonic() - started
    gp_stats = gp.control("GET", "stats")["requests"]
    bill_stats = bill_sandbox.stats()["requests"]
    result = {
        "seconds": round(seconds, 3),
        "gp_requests": ctx.gp.http.request_count,
        "gp_http_exchanges_with_ntlm": ctx.gp.http.wire_count,
        "gp_requests_by_path": {
            k: sum(v.values()) for k, v in gp_stats["by_path"].items() if "/_sandbox" not in k
        },
        "bill_calls": sum(sum(v.values()) for k, v in bill_stats["by_path"].items() if " /connect" in k),
        "tally": dict(tally),
    }
    ctx.gp.close()
    return result


def run(args: argparse.Namespace, env: dict[str, Any] | None = None) -> dict[str, Any]:
    env = env or _env.setup(args)

    gp = start_gp(GP_VENDORS, GP_INVOICES)
    bill = start_bill_sandbox(
        seed="bench", org_id=fresh_org_id()
    )  # in this process: loaded straight into its store
    try:
        tenant = wire(gp.info, bill_info(bill))
        # after django.setup(): a bench module is imported before it has chosen its database
        from connectors.sync.context import SyncContext

        setup_ctx = SyncContext.for_tenant(tenant)
        link_accounts(tenant, setup_ctx.gp, setup_ctx.bill)
        setup_ctx.gp.close()
        started = time.monotonic()
        loaded = load_synced_state(tenant, bill)
        load_seconds = time.monotonic() - started

        bill.set_latency(args.latency_ms)
        quiet = cycle(tenant, gp, bill)
        change(gp, args.changes, round_=1)
        measured = cycle(tenant, gp, bill)
        change(gp, args.changes * 10, round_=2)
        tenfold = cycle(tenant, gp, bill)
    finally:
        gp.stop()
        bill.stop()
    return {
        "benchmark": "incremental",
        "setup": {
            **{k: v for k, v in env.items() if not k.endswith("_url")},
            "gp_vendors": GP_VENDORS,
            "gp_invoices": GP_INVOICES,
            **loaded,
            "load_seconds": round(load_seconds, 1),
            "bill_latency_ms": args.latency_ms,
            "gp_latency_ms": 0,
            "synced_state": "BILL objects, mappings, ledger rows and cursors loaded in bulk as a "
            "finished initial sync leaves them",
        },
        "changes": args.changes,
        "cycle_no_changes": quiet,
        "cycle": measured,
        f"cycle_{args.changes * 10}_changes": tenfold,
        "targets": {
            "seconds<2": measured["seconds"] < TARGET_SECONDS,
            "gp_requests<=5": measured["gp_requests"] <= 5,
        },
    }


def main(argv: list[str]) -> int:
    return _env.run_main(make_parser, run, argv)

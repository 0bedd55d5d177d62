"""`python -m bench retention`: the database after a simulated year of 100 tenants, before and after the
retention prune (`audit.retention.prune`, the defaults: trail and events 13 months, jobs 90 days,
refusal counters and task results 30 days).

Assumed rates per tenant per day (a mid-sized AP department; `--scale` multiplies them all):

| what                       | per day | rows written                                                     |
|----------------------------|---------|------------------------------------------------------------------|
| GP invoices → BILL bills   | 20      | a ledger record + a `created` attempt; 1 in 5 first had a        |
|                            |         | failed attempt, 1 in 10 a later `updated` one                    |
| BILL payments → GP         | 15      | a ledger record + a `created` attempt, and its webhook event     |
| vendor changes             | 2       | a webhook event (and a record + attempt for a new vendor, 1 a day) |
| background jobs            | 3       | Sync now, replays, previews                                      |
| refused deliveries         | 1       | an hourly counter                                                |
| failed tasks (django-q2)   | 0.5     | a task result (successes are not stored)                         |
| alert digests              | 1       | a digest                                                         |

Idle polls write nothing (`bench tenants`), so polling adds no rows. Payloads are the sizes the
connector stores (redacted request, snapshot, webhook body: ~0.5-1 KB each). `--days` over 396 shows
the steady state, where the trail and events start to be pruned too. "After" is measured after the
prune and a `VACUUM FULL` of the pruned tables (what the space would settle to; a plain VACUUM
leaves the files their size and re-uses the space).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ._env import bench_parser, emit, machine, setup

TABLES = (
    "audit_syncrecord",
    "audit_attempt",
    "audit_webhookevent",
    "audit_job",
    "audit_webhookrejection",
    "audit_alertdigest",
    "django_q_task",
)
BATCH = 2000
RATES = {
    "bills": 20,
    "payments": 15,
    "vendor_events": 2,
    "new_vendors": 1,
    "jobs": 3,
    "rejections": 1,
    "failed_tasks": 0.5,
    "digests": 1,
}


def make_parser() -> argparse.ArgumentParser:
    p = bench_parser("retention", __doc__, tenants=100)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--scale", type=float, default=1.0, help="multiply every daily rate")
    return p


@contextmanager
def own_timestamps() -> Any:
    """Let the fill set the creation times a year of use would have left (auto_now fields off)."""
    # after django.setup(): a bench module is imported before it has chosen its database
    from audit.models import AlertDigest, Job, SyncRecord, WebhookEvent, WebhookRejection

    fields = [
        (SyncRecord, "created_at"),
        (SyncRecord, "updated_at"),
        (WebhookEvent, "received_at"),
        (Job, "created_at"),
        (WebhookRejection, "last_at"),
        (AlertDigest, "sent_at"),
    ]
    saved = []
    for model, name in fields:
        f = model._meta.get_field(name)
        saved.append((f, f.auto_now, f.auto_now_add))
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, now_add in saved:
            f.auto_now, f.auto_now_add = now, now_add


def _count(rate: float, day: int) -> int:
    """`rate` per day as whole rows: fractional rates land on some days only."""
    return int(rate * (day + 1)) - int(rate * day)


def fill(tenants: list[Any], days: int, scale: float = 1.0) -> dict[str, int]:
    """A year (or `days`) of rows per tenant at the rates above, oldest first; returns rows written."""
    from django.utils import timezone
    from django_q.models import Task

    # after django.setup(): a bench module is imported before it has chosen its database
    from audit.models import AlertDigest, Attempt, Job, State, SyncRecord, WebhookEvent, WebhookRejection

    rates = {k: v * scale for k, v in RATES.items()}
    now = timezone.now()
    written = dict.fromkeys(TABLES, 0)
    with own_timestamps():
        for tenant in tenants:
            records, events, attempts, jobs, rejections, tasks, digests = [], [], [], [], [], [], []
            for day in range(days):
                at = now - timedelta(days=days - day, hours=-9)
                for i in range(_count(rates["bills"], day)):
                    key = f"{day:04d}{i:03d}"
                    records.append(
                        SyncRecord(
                            tenant=tenant,
                            kind="bill",
                            source_key=f"V{key}",
                            target_id=f"00n01BILL{key}",
                            state=State.SYNCED,
                            label=f"Vendor {i} · INV-{key} · $1,234.56",
                            gp_vendor=f"VEND{i:03d}",
                            document_number=f"INV-{key}",
                            amount=Decimal("1234.56"),
                            currency="USD",
                            synced_hash="a" * 64,
                            snapshot={
                                "voucher": key,
                                "vendor": f"VEND{i:03d}",
                                "lines": [
                                    {
                                        "account": "000-6100-00",
                                        "amount": "1234.56",
                                        "description": "Office supplies",
                                    }
                                ]
                                * 3,
                            },
                            created_at=at,
                            updated_at=at,
                        )
                    )
                for i in range(_count(rates["payments"], day)):
                    key = f"{day:04d}{i:03d}"
                    records.append(
                        SyncRecord(
                            tenant=tenant,
                            kind="gp_payment",
                            source_key=f"0pmt{key}",
                            target_id=f"PMT{key}",
                            state=State.SYNCED,
                            label=f"Payment {key} · $980.00",
                            amount=Decimal("980.00"),
                            currency="USD",
                            snapshot={"payment": key, "bills": [{"id": f"00n{key}", "amount": "980.00"}]},
                            created_at=at,
                            updated_at=at,
                        )
                    )
                    events.append(
                        WebhookEvent(
                            tenant=tenant,
                            event_id=f"evp{key}",
                            event_type="payment.updated",
                            entity_id=f"0pmt{key}",
                            received_at=at,
                            processed_at=at,
                            state=WebhookEvent.PROCESSED,
                            payload={
                                "metadata": {"eventId": f"evp{key}", "organizationId": "00802BENCH"},
                                "payment": {
                                    "id": f"0pmt{key}",
                                    "amount": 980.0,
                                    "status": "PAID",
                                    "bills": [{"id": f"00n{key}", "amount": 980.0}],
                                },
                            },
                        )
                    )
                for i in range(_count(rates["new_vendors"], day)):
                    records.append(
                        SyncRecord(
                            tenant=tenant,
                            kind="vendor",
                            source_key=f"N{day:04d}{i}",
                            target_id=f"009V{day:04d}{i}",
                            state=State.SYNCED,
                            label=f"New vendor {day}-{i}",
                            snapshot={"name": f"New vendor {day}"},
                            created_at=at,
                            updated_at=at,
                        )
                    )
                for i in range(_count(rates["vendor_events"], day)):
                    events.append(
                        WebhookEvent(
                            tenant=tenant,
                            event_id=f"evv{day:04d}{i}",
                            event_type="vendor.updated",
                            entity_id=f"009V{i}",
                            received_at=at,
                            processed_at=at,
                            state=WebhookEvent.PROCESSED,
                            payload={
                                "metadata": {"eventId": f"evv{day:04d}{i}"},
                                "vendor": {"id": f"009V{i}"},
                            },
                        )
                    )
                jobs += [
                    Job(
                        tenant=tenant,
                        kind=Job.SYNC_NOW,
                        state=Job.DONE,
                        total=1,
                        done=1,
                        created_at=at,
                        started_at=at,
                        finished_at=at,
                        result={"gp_to_bill": {"bill_created": 3}},
                    )
                    for _ in range(_count(rates["jobs"], day))
                ]
                rejections += [
                    WebhookRejection(
                        tenant=tenant,
                        reason="bad_signature",
                        hour=at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=i),
                        count=3,
                        last_at=at,
                    )
                    for i in range(_count(rates["rejections"], day))
                ]
                tasks += [
                    Task(
                        id=f"{tenant.pk:06d}{day:05d}{i:021d}",
                        name=f"failed-{tenant.pk}-{day}-{i}",
                        func="connectors.tasks.sync_tenant",
                        args=(tenant.pk,),
                        started=at,
                        stopped=at,
                        result="GP answered 503",
                        success=False,
                    )
                    for i in range(_count(rates["failed_tasks"], day))
                ]
                digests += [
                    AlertDigest(
                        tenant=tenant, started_at=at, sent_at=at, records=2, recipients="ap@example.com"
                    )
                    for _ in range(_count(rates["digests"], day))
                ]
            # One tenant's year at a time, in batches (the primary keys come back for the attempts).
            SyncRecord.objects.bulk_create(records, batch_size=BATCH)
            request = {"method": "POST", "path": "/v3/bills", "body": {"vendorId": "009V", "lines": 3}}
            for n, r in enumerate(records):
                at = r.created_at
                if r.kind == "bill" and n % 5 == 0:
                    attempts.append(
                        Attempt(
                            record=r,
                            flow="bills",
                            trigger="schedule",
                            outcome="failed",
                            started_at=at - timedelta(minutes=5),
                            request=request,
                            response_status="503",
                            error="BILL answered 503",
                        )
                    )
                attempts.append(
                    Attempt(
                        record=r,
                        flow=r.kind,
                        trigger="schedule",
                        outcome="created",
                        started_at=at,
                        duration_ms=180,
                        request=request,
                        response_status="200",
                    )
                )
                if r.kind == "bill" and n % 10 == 1:
                    attempts.append(
                        Attempt(
                            record=r,
                            flow="bills",
                            trigger="schedule",
                            outcome="updated",
                            started_at=at + timedelta(days=2),
                            request=request,
                            response_status="200",
                        )
                    )
            for model, rows in (
                (Attempt, attempts),
                (WebhookEvent, events),
                (Job, jobs),
                (WebhookRejection, rejections),
                (Task, tasks),
                (AlertDigest, digests),
            ):
                model.objects.bulk_create(rows, batch_size=BATCH)
            for table, rows in (
                ("audit_syncrecord", records),
                ("audit_attempt", attempts),
                ("audit_webhookevent", events),
                ("audit_job", jobs),
                ("audit_webhookrejection", rejections),
                ("django_q_task", tasks),
                ("audit_alertdigest", digests),
            ):
                written[table] += len(rows)
    return written


def sizes(vacuum: bool = False) -> dict[str, int]:
    """Bytes per table (with its indexes), and `total` for them all; `vacuum`: reclaim freed space first."""
    from django.db import connection

    out: dict[str, int] = {}
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            for table in TABLES:
                if vacuum:
                    c.execute(f'VACUUM FULL "{table}"')
                c.execute("SELECT pg_total_relation_size(%s)", [table])
                out[table] = c.fetchone()[0]
            out["total"] = sum(out.values())
            c.execute("SELECT pg_database_size(current_database())")
            out["database"] = c.fetchone()[0]
        else:
            if vacuum:
                c.execute("VACUUM")
            c.execute("PRAGMA page_count")
            pages = c.fetchone()[0]
            c.execute("PRAGMA page_size")
            out["total"] = out["database"] = pages * c.fetchone()[0]
    return out


def simulate(tenants: int, days: int, scale: float = 1.0) -> dict[str, Any]:
    """Fill, measure, prune with the configured policy, measure again (the bench and its test)."""
    from django.db.models import Count

    # after django.setup(): a bench module is imported before it has chosen its database
    from audit.models import AlertDigest, Attempt, Job, SyncRecord, WebhookEvent, WebhookRejection
    from audit.retention import RetentionPolicy, prune
    from connectors.models import Tenant

    made = [
        Tenant.objects.get_or_create(slug=f"ret{i:04d}", defaults={"name": f"Retention {i}"})[0]
        for i in range(tenants)
    ]
    started = time.monotonic()
    written = fill(made, days, scale)
    fill_s = time.monotonic() - started
    before = sizes(vacuum=False)
    started = time.monotonic()
    deleted = prune(RetentionPolicy.from_settings())
    prune_s = time.monotonic() - started
    after = sizes(vacuum=True)
    rows_left = {
        m._meta.db_table: m.objects.count()
        for m in (SyncRecord, Attempt, WebhookEvent, Job, WebhookRejection, AlertDigest)
    }
    attempts_per_record = Attempt.objects.aggregate(n=Count("id"))["n"] / max(
        rows_left["audit_syncrecord"], 1
    )
    mb = 1024 * 1024
    return {
        "benchmark": "retention",
        "tenants": tenants,
        "days": days,
        "scale": scale,
        "rates_per_tenant_day": RATES,
        "rows_written": written,
        "rows_deleted": deleted,
        "rows_left": rows_left,
        "attempts_per_record_left": round(attempts_per_record, 2),
        "fill_s": round(fill_s, 1),
        "prune_s": round(prune_s, 1),
        "size_before": before,
        "size_after": after,
        "size_before_mb": round(before["total"] / mb, 1),
        "size_after_mb": round(after["total"] / mb, 1),
        "mb_per_tenant_year_after": round(after["total"] / mb / max(tenants, 1) * 365 / max(days, 1), 2),
    }


def main(argv: list[str]) -> int:
    args = make_parser().parse_args(argv)
    info = setup(args)
    result = simulate(args.tenants, args.days, args.scale)
    result["setup"] = {k: v for k, v in info.items() if not k.endswith("_url")}
    result["machine"] = machine()
    emit(result)
    keys = ("tenants", "days", "size_before_mb", "size_after_mb", "mb_per_tenant_year_after")
    print(json.dumps({k: result[k] for k in keys}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`python -m bench fairness`: one tenant's 20,000-invoice initial load must not slow the others.

Tenant A runs its first load (GP sandbox: `--vendors` vendors, `--invoices` open invoices; its own
BILL sandbox at `--latency-ms` + `--per-item-ms`), started as the admin's "Initial load" job. Meanwhile
tenants B…K (`--tenants`, each with its own small GP company and its own BILL sandbox process) are
polled on their schedules, receive GP changes (a vendor's e-mail, every `--gp-change-every` s) and
BILL payments: the bench pays $1.00 of one of their bills in their BILL sandbox and delivers the signed
`payment.updated` webhook to the real endpoint (gunicorn) at once, every `--payment-every` s per tenant.
All tenants share one BILL developer key.

The real path: two qcluster processes (the short queue: schedules, webhooks; the long queue,
`Q_CLUSTER_NAME=long`, started with `nice -n --long-nice`: jobs and first loads), django-q2 on Redis,
PostgreSQL. Time is compressed 5x for the polls only: each tenant's poll interval is 1 minute (it
stands for 5); webhooks, BILL and GP latency are real time. The hourly budget of the developer key is
scaled by 5 for the same reason.

Measured while A's load runs (at most `--window` s): webhook sent → its GP payment applied (ledger row
settled `synced`), p50/p99 over B…K (a payment not applied within 60 s of the window's end counts as
never, i.e. infinite); poll lag due → started (as `bench tenants`), p99 over B…K; A's load time and
its share of the developer key's hour. The last line is the figures as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from typing import Any

import requests

from sandbox.gp.control import GPSandboxControl

from ._env import ROOT, bench_parser, child_env, run_main, setup
from ._servers import Served, company_name, fresh_org_id, start_gp, start_gp_companies
from ._tenant import approve_vendors_as_create, link_accounts, wire
from .tenants import cpu_seconds, due_times, percentile, starts_now, tree
from .webhooks import PRODUCTION, free_port, start_gunicorn

COMPRESSION = 5
TARGET_WEBHOOK_P99_S, TARGET_LAG_P99_S = 30.0, 60.0


def make_parser() -> argparse.ArgumentParser:
    p = bench_parser("fairness", __doc__, vendors=2000, invoices=20000, latency_ms=100, per_item_ms=5)
    p.add_argument("--tenants", type=int, default=10, help="tenants B…K beside the loading tenant A")
    p.add_argument("--window", type=float, default=240, help="longest measured window, seconds")
    p.add_argument("--payment-every", type=float, default=10, help="seconds between payments, per tenant")
    p.add_argument("--gp-change-every", type=float, default=30, help="seconds between GP changes, per tenant")
    p.add_argument("--short-workers", type=int, default=2, help="workers of the short queue's qcluster")
    p.add_argument("--long-workers", type=int, default=1, help="workers of the long queue's qcluster")
    p.add_argument("--long-nice", type=int, default=10, help="nice level of the long queue's qcluster")
    return p


def _start_bills(
    orgs: list[str], latency_ms: float, per_item_ms: float, dev_key: str, budget: int
) -> list[Served]:
    """One BILL sandbox process per org, started together (each takes a second or two to come up)."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench._servers",
                "bill",
                "--latency-ms",
                str(latency_ms),
                "--per-item-ms",
                str(per_item_ms),
                "--org",
                org,
                "--dev-key",
                dev_key,
                "--hourly-budget",
                str(budget),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for org in orgs
    ]
    out = []
    for proc in procs:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            raise RuntimeError("a BILL sandbox did not start: " + (proc.stderr.read() if proc.stderr else ""))
        out.append(Served(proc, json.loads(line)))
    return out


def _forget_old_runs(redis_url: str) -> None:
    """The database is new, but Redis is not: tasks queued and leases held by an earlier run (for tenant
    pks this run reuses) would run or block here. Both queues are emptied, the flow leases dropped."""
    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors.queue import LONG, SHORT, shared_broker

    for name in (SHORT, LONG):
        shared_broker(name).purge_queue()
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter("mlc:lock:*"):
            client.delete(key)


def _prepare(tenant: Any, vendor_ids: list[str] | None = None) -> None:
    """Vendors approved as 'create in BILL' and accounts linked, in bulk (as finance would, at once)."""
    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors.sync.context import SyncContext

    ctx = SyncContext.for_tenant(tenant)
    approve_vendors_as_create(tenant, vendor_ids or [v.vendor_id for v in ctx.gp.iter_vendors()])
    link_accounts(tenant, ctx.gp, ctx.bill)
    ctx.gp.close()


def _cluster(env: dict[str, str], name: str, nice: int = 0) -> subprocess.Popen[str]:
    log = ROOT / "var" / f"bench-fairness-qcluster-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "manage.py", "qcluster"]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    with log.open("w") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, **({"Q_CLUSTER_NAME": name} if name else {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )


def _stop(process: subprocess.Popen[Any] | None) -> None:
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait(what: str, done: Any, timeout: float, clusters: list[subprocess.Popen[Any]]) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if any(c.poll() is not None for c in clusters):
            raise RuntimeError("a qcluster exited: see var/bench-fairness-qcluster-*.log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(1)


class Payer:
    """Pays $1.00 of one open bill of a tenant in its BILL sandbox, then delivers BILL's webhook for it."""

    def __init__(self, tenant: Any, bill: Served, url: str, rng: random.Random) -> None:
        self.tenant, self.bill, self.url, self.rng = tenant, bill, url, rng
        self.session = requests.Session()
        self.sent: dict[tuple[int, str], float] = {}  # (tenant, payment id) -> when the webhook went out
        self.answers: list[int] = []

    def bill_ids(self) -> list[str]:
        # after django.setup(): a bench module is imported before it has chosen its database
        from audit.models import Kind, State, SyncRecord

        return list(
            SyncRecord.objects.filter(tenant=self.tenant, kind=Kind.BILL, state=State.SYNCED)
            .exclude(target_id="")
            .values_list("target_id", flat=True)
        )

    def pay(self) -> None:
        # after django.setup(): a bench module is imported before it has chosen its database
        from connectors.bill.webhooks import compute_signature

        ids = self.bill_ids()
        self.rng.shuffle(ids)
        for bill_id in ids:
            try:
                payment = self.bill.control("POST", "pay", {"bills": [{"billId": bill_id, "amount": "1.00"}]})
                break
            except requests.HTTPError:  # this bill has less than $1.00 open: another one
                continue
        else:
            return
        org = self.tenant.bill_connection.organization_id
        body = json.dumps(
            {
                "metadata": {
                    "eventId": f"evt-{uuid.uuid4()}",
                    "eventType": "payment.updated",
                    "organizationId": org,
                    "version": "1",
                },
                "payment": {"id": payment["id"], "status": "PAID"},
            }
        ).encode()
        key = self.tenant.bill_connection.webhook_security_key
        self.sent[(self.tenant.pk, payment["id"])] = time.time()
        answer = self.session.post(
            self.url,
            data=body,
            timeout=30,
            headers={
                "Content-Type": "application/json",
                "x-bill-sha-signature": compute_signature(body, key),
            },
        )
        self.answers.append(answer.status_code)


def applied_at(tenants: list[Any], sent: dict[tuple[int, str], float]) -> dict[tuple[int, str], float]:
    """(tenant, payment id) -> when its GP payment was applied (its ledger row settled `synced`).
    Each BILL sandbox numbers its payments alike, so a payment is known by its tenant too."""
    # after django.setup(): a bench module is imported before it has chosen its database
    from audit.models import Kind, State, SyncRecord

    rows = SyncRecord.objects.filter(
        tenant__in=tenants, kind=Kind.GP_PAYMENT, state=State.SYNCED, source_key__in={p for _, p in sent}
    ).values_list("tenant_id", "source_key", "updated_at")
    return {(t, key): at.timestamp() for t, key, at in rows if (t, key) in sent}


def run(args: argparse.Namespace) -> dict[str, Any]:
    n = args.tenants
    budget = 20000 * COMPRESSION
    extra = {
        **PRODUCTION,
        "Q_WORKERS": str(args.short_workers),
        "Q_LONG_WORKERS": str(args.long_workers),
        "BILL_HOURLY_BUDGET": str(budget),
    }
    info = setup(args, extra=extra)
    _forget_old_runs(info["redis_url"])
    dev_key = "01F" + uuid.uuid4().hex.upper()
    orgs = [fresh_org_id() for _ in range(n + 1)]
    gp_a = start_gp(args.vendors, args.invoices)
    gp_small = start_gp_companies(n)
    bills = _start_bills(orgs, args.latency_ms, args.per_item_ms, dev_key, budget)
    clusters: list[subprocess.Popen[Any]] = []  # the two qclusters, then gunicorn
    load0 = os.getloadavg()
    try:
        result = _measure(args, info, extra, orgs, gp_a, gp_small, bills, clusters)
        return result | {
            "setup": {k: v for k, v in info.items() if not k.endswith("_url")},
            "load_average_before_and_after": [round(x, 2) for x in (*load0, *os.getloadavg())],
        }
    finally:
        for c in clusters:
            _stop(c)
        for s in (gp_a, gp_small, *bills):
            s.stop()


def _measure(
    args: argparse.Namespace,
    info: dict[str, str],
    extra: dict[str, str],
    orgs: list[str],
    gp_a: Served,
    gp_small: Served,
    bills: list[Served],
    clusters: list[subprocess.Popen[Any]],
) -> dict[str, Any]:
    from django.utils import timezone
    from django_q.models import Schedule

    # after django.setup(): a bench module is imported before it has chosen its database
    from audit import jobs
    from audit.models import Job, PollCursor, WebhookEvent
    from connectors.bill.gate import gate_for, key_of
    from connectors.models import BillConnection, Tenant
    from connectors.schedules import ensure_schedules, schedule_name
    from connectors.sync.gp_to_bill.bills import FLOW

    n = args.tenants
    others = []
    for i in range(n):
        t = wire(
            {**gp_small.info, "company": company_name(i)},
            {**bills[i + 1].info, "org_id": orgs[i + 1]},
            slug=f"t{i:04d}",
        )
        BillConnection.objects.filter(tenant=t).update(
            webhook_security_key=f"bench-fairness-key-{i:04d}-" + "k" * 16
        )
        # The small seed's checkbook pays what BILL paid (a funding account mapping would do the same).
        Tenant.objects.filter(pk=t.pk).update(
            poll_interval_minutes=1,
            default_checkbook_id="UPTOWN TRUST",
            bill_policy=Tenant.BILL_POLICY_POSTED,
        )
        t = Tenant.objects.select_related("gp_connection", "bill_connection").get(pk=t.pk)
        _prepare(t)
        others.append(t)
    a = wire(gp_a.info, {**bills[0].info, "org_id": orgs[0]}, slug="a-loading")
    _prepare(a, [f"B{i:07d}" for i in range(args.vendors)])  # the bench seed's GP vendor IDs
    # Saving a tenant makes its schedules; A's first poll would start its load before B…K are ready.
    Schedule.objects.filter(name__startswith=schedule_name(a, "")).delete()

    env = child_env(info["database_url"], info["redis_url"], **extra)
    port = free_port()
    clusters += [_cluster(env, ""), _cluster(env, "long", args.long_nice)]
    clusters.append(start_gunicorn(info, port, workers=1, threads=4))
    t_setup = time.monotonic()
    # B…K: schedules due over the next minute; their first loads go to the long queue by themselves.
    start = timezone.now() + timedelta(seconds=3)
    for i, t in enumerate(others):
        ensure_schedules(t)
        Schedule.objects.filter(name=schedule_name(t, "sync")).update(
            next_run=start + timedelta(seconds=60 * i / n)
        )

    def loaded() -> bool:
        return PollCursor.objects.filter(tenant__in=others, flow=FLOW, cursor__isnull=False).count() == n

    _wait("the small tenants' first loads", loaded, 300, clusters)
    warmup_s = time.monotonic() - t_setup

    # A: the admin's "Initial load" job (long queue), and A's own schedules as any tenant has.
    job = jobs.start(Job.INITIAL_LOAD, tenant=a)
    ensure_schedules(a)
    Schedule.objects.filter(name=schedule_name(a, "sync")).update(
        next_run=timezone.now() + timedelta(seconds=30)
    )
    rng = random.Random(21)
    payers = [
        Payer(t, bills[i + 1], f"http://127.0.0.1:{port}/webhooks/bill/{t.slug}/", rng)
        for i, t in enumerate(others)
    ]

    gp_controls = [GPSandboxControl(gp_small.info["url"], company_name(i)) for i in range(n)]
    vendor_ids = [_gp_vendor_ids(t) for t in others]

    seen: dict[int, set[Any]] = {t.pk: set() for t in others}
    dues: dict[int, Any] = {}

    def sample() -> None:
        for pk, due in due_times(others).items():
            if due is not None:
                dues.setdefault(pk, due)
        for pk, started in starts_now().items():
            if started is not None and pk in seen:
                seen[pk].add(started)

    cpu0 = {name: cpu_seconds(tree(c.pid)) for name, c in zip(("short", "long"), clusters[:2], strict=True)}
    t0, wall0 = timezone.now(), time.monotonic()
    next_pay = [wall0 + args.payment_every * i / n for i in range(n)]
    next_change = [wall0 + args.gp_change_every * i / n for i in range(n)]
    changes = 0
    job_done_after = None
    while time.monotonic() - wall0 < args.window:
        now = time.monotonic()
        for i in range(n):
            if now >= next_pay[i]:
                payers[i].pay()
                next_pay[i] += args.payment_every
            if now >= next_change[i] and vendor_ids[i]:
                gp_controls[i].update_vendor(
                    rng.choice(vendor_ids[i]),
                    Addresses=[
                        {"Key": {"Id": "PRIMARY"}, "Email": f"ap{rng.randint(1000, 9999)}@changed.example"}
                    ],
                )
                changes += 1
                next_change[i] += args.gp_change_every
        sample()
        job.refresh_from_db()
        if job.state in (Job.DONE, Job.FAILED):
            job_done_after = time.monotonic() - wall0
            break
        if any(c.poll() is not None for c in clusters):
            raise RuntimeError("a qcluster exited: see var/bench-fairness-qcluster-*.log")
        time.sleep(0.2)
    window = time.monotonic() - wall0
    cpu = {
        name: round(cpu_seconds(tree(c.pid)) - cpu0[name], 1)
        for name, c in zip(("short", "long"), clusters[:2], strict=True)
    }
    sent = {pid: at for p in payers for pid, at in p.sent.items()}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(applied_at(others, sent)) < len(sent):
        time.sleep(1)
    done = applied_at(others, sent)
    delays = [done[pid] - at if pid in done else math.inf for pid, at in sent.items()]
    sample()

    lags = []
    for pk, starts in seen.items():
        first = dues.get(pk)
        for started in starts:
            if first is None or started < t0:
                continue
            k = int((started - first).total_seconds() // 60)
            lags.append((started - (first + timedelta(seconds=60 * k))).total_seconds())
    job.refresh_from_db()
    # after django.setup(): a bench module is imported before it has chosen its database
    from audit.models import Kind, State, SyncRecord

    gate = gate_for()
    used = gate.used_this_hour(key_of(a.bill_connection))

    def r(value: float) -> float | None:
        return None if math.isinf(value) or math.isnan(value) else round(value, 2)

    webhook_p50, webhook_p99, lag_p99 = (
        percentile(delays, 0.5),
        percentile(delays, 0.99),
        percentile(lags, 0.99),
    )
    return {
        "benchmark": "fairness",
        "tenants_beside_a": n,
        "time_compression": (
            "polls every 1 min real = 5 min production (5x); webhooks, BILL and GP in real time"
        ),
        "queues": {
            "short_workers": args.short_workers,
            "long_workers": args.long_workers,
            "long_nice": args.long_nice,
        },
        "warmup_s": round(warmup_s, 1),
        "window_s": round(window, 1),
        "a_load": {
            "job_state": job.state,
            "finished_in_window_after_s": r(job_done_after or math.inf),
            "bills_synced": SyncRecord.objects.filter(tenant=a, kind=Kind.BILL, state=State.SYNCED).count(),
            "invoices": args.invoices,
            "vendors": args.vendors,
        },
        "payments_sent": len(sent),
        "payments_applied": len(done),
        "webhook_answers_non_200": sum(1 for p in payers for s in p.answers if s != 200),
        "webhook_events_failed": WebhookEvent.objects.filter(
            tenant__in=others, state=WebhookEvent.FAILED
        ).count(),
        "gp_changes": changes,
        "poll_starts_measured": len(lags),
        "lag_p50_s": r(percentile(lags, 0.5)),
        "lag_max_s": r(max(lags)) if lags else None,
        "cpu_s": cpu,
        "dev_key_hour": {
            "budget": 20000 * COMPRESSION,
            "orgs": n + 1,
            "fair_share": 20000 * COMPRESSION // (n + 1),
            "used_by_a": used.get(orgs[0], 0),
            "used_by_others_max": max((v for k, v in used.items() if k != orgs[0]), default=0),
        },
        "targets": {
            "webhook_to_gp_p99<30s": webhook_p99 < TARGET_WEBHOOK_P99_S,
            "poll_lag_p99<60s": lag_p99 < TARGET_LAG_P99_S,
        },
        "webhook_to_gp_applied_p50_s": r(webhook_p50),
        "webhook_to_gp_applied_p99_s": r(webhook_p99),
        "lag_p99_s": r(lag_p99),
    }


def _gp_vendor_ids(tenant: Any) -> list[str]:
    """GP vendors of the tenant linked to BILL (a change to one is something the poll must carry)."""
    # after django.setup(): a bench module is imported before it has chosen its database
    from audit.models import Kind, SyncRecord

    return list(
        SyncRecord.objects.filter(tenant=tenant, kind=Kind.VENDOR)
        .exclude(target_id="")
        .values_list("source_key", flat=True)[:20]
    )


def main(argv: list[str]) -> int:
    keys = (
        "webhook_to_gp_applied_p50_s",
        "webhook_to_gp_applied_p99_s",
        "lag_p99_s",
        "payments_sent",
        "payments_applied",
        "poll_starts_measured",
        "window_s",
        "targets",
    )
    return run_main(make_parser, run, argv, glance=keys)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

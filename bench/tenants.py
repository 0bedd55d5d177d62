"""`python -m bench tenants --tenants N`: what N idle tenants cost one host, polled on their schedules.

N tenants, each with its own GP company (one GP sandbox process serving N small companies) and its own
BILL org (one BILL sandbox process accepting N org IDs that share its data; each org has its own limits).
The real path runs them: django-q2 schedules made by `connectors.schedules.ensure_schedules`, the
qcluster's scheduler and its worker processes, `connectors.tasks.sync_tenant` both directions, and the
long queue's qcluster (`Q_CLUSTER_NAME=long`), to which each tenant's first GP -> BILL run is handed
(without it no tenant ever finishes a first load, and its scheduled polls stay BILL -> GP only).

Time is compressed 5x by default (`--compress 5`): each tenant's poll interval is set to 1 minute
(django-q2's shortest MINUTES schedule), so one real minute stands for the 5-minute production cycle;
`--compress 1` polls at the production rate (5-minute cycles; warm-up and measured cycles are then 5
minutes each). Due times are spread evenly over the cycle, as tenants added at different times would
be. The first `--warmup-cycles` cycles (initial sync of the small seed, webhook subscription, first
digests) are not measured, and warm-up goes on (up to `--warmup-max` seconds) until every tenant's
first load has finished and the short queue holds no more than one cycle's polls (the polls queued while first
loads ran are not idle); then nothing
changes in GP or BILL for `--cycles` cycles, and the bench reports:

- CPU seconds of the qcluster process tree per idle tenant-cycle, and `cpu_share` (0-1 of the machine);
- schedule lag: each due time in the window (the schedule's `next_run`, one per cycle) -> the first
  poll of the tenant started at or after it (its `gp_vendors` cursor's `last_started_at`: that poll
  reads every change the due one would have), p50/p99; a due time no poll served by the window's end
  counts as `unserved` with the lag it had by then;
- peak RSS (VmHWM) per qcluster process;
- database rows inserted/updated/deleted per idle tenant-cycle (PostgreSQL `pg_stat_user_tables`),
  per table, and row counts of the trail/ledger/poll/task tables before and after.

PostgreSQL's and Redis' own CPU is not in `cpu_share` (they serve other databases on a shared host).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from ._chaos_infra import CpuHog
from ._env import ROOT, bench_parser, child_env, run_main, setup
from ._servers import company_name, fresh_org_id, start_bill, start_gp_companies

PRODUCTION_MINUTES = 5  # the poll interval the goals are set for
LAG_GOAL_S = 60
COUNTED = (
    "audit_attempt",
    "audit_syncrecord",
    "audit_pollcursor",
    "audit_webhookevent",
    "audit_job",
    "django_q_task",
    "django_q_ormq",
    "audit_flowlease",
    "audit_alertdigest",
    "mappings_vendormapping",
    "mappings_glaccountmapping",
    "mappings_suggestion",
)


def make_parser() -> argparse.ArgumentParser:
    p = bench_parser("tenants", __doc__, tenants=50, cpu_hog=0)
    p.add_argument(
        "--compress",
        type=int,
        choices=(1, 5),
        default=5,
        help="time compression: 5 = 1-minute polls stand for 5-minute ones; 1 = the production rate",
    )
    p.add_argument("--cycles", type=int, default=3, help="measured idle cycles (5 / --compress minutes)")
    p.add_argument("--warmup-cycles", type=int, default=2, help="cycles run before measuring")
    p.add_argument(
        "--warmup-max", type=float, default=900, help="longest warm-up, seconds, waiting for first loads"
    )
    p.add_argument("--workers", type=int, default=2, help="qcluster worker processes (Q_WORKERS)")
    p.add_argument("--long-workers", type=int, default=2, help="long queue's workers (Q_LONG_WORKERS)")
    return p


# --- processes ------------------------------------------------------------------------------------
def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat(int(stat.parent.name))
        if fields:
            parents[int(stat.parent.name)] = int(fields[1])
    out, frontier = [pid], [pid]
    while frontier:
        frontier = [c for c, p in parents.items() if p in frontier]
        out += frontier
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and of their reaped children."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            total += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return total / tick


def peak_rss_mb(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        try:
            line = next(
                x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmHWM")
            )
            out[pid] = round(int(line.split()[1]) / 1024, 1)
        except (OSError, StopIteration):
            continue
    return out


# --- database -------------------------------------------------------------------------------------
def table_writes() -> dict[str, tuple[int, int, int]]:
    """Rows inserted, updated, deleted so far per table of this database (PostgreSQL statistics)."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT pg_stat_clear_snapshot()")
        c.execute("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables")
        return {r[0]: (r[1], r[2], r[3]) for r in c.fetchall()}


def row_counts() -> dict[str, int]:
    from django.db import connection

    out = {}
    with connection.cursor() as c:
        for table in COUNTED:
            try:
                c.execute(f'SELECT count(*) FROM "{table}"')
                out[table] = c.fetchone()[0]
            except Exception:  # noqa: BLE001 - a table this version does not have
                connection.rollback() if not connection.get_autocommit() else None
    return out


def writes_between(
    before: dict[str, tuple[int, int, int]], after: dict[str, tuple[int, int, int]], per: float
) -> dict[str, dict[str, float]]:
    out = {}
    for table, (i, u, d) in after.items():
        b = before.get(table, (0, 0, 0))
        delta = (i - b[0], u - b[1], d - b[2])
        if any(delta):
            out[table] = {
                k: round(v / per, 3) for k, v in zip(("inserted", "updated", "deleted"), delta, strict=True)
            }
    return out


# --- tenants --------------------------------------------------------------------------------------
def make_tenants(
    n: int, gp: dict[str, Any], bill: dict[str, Any], orgs: list[str], minutes: int
) -> list[Any]:
    """N tenants on the sandboxes, polling every `minutes`, their due times spread over the cycle."""
    from django.utils import timezone
    from django_q.models import Schedule

    # The project's modules below import Django models: loaded after django.setup() (in run()).
    from connectors.models import Tenant

    # after django.setup(), as above
    from connectors.schedules import ensure_schedules, schedule_name

    from ._tenant import wire  # after django.setup(): it makes models

    tenants = []
    for i in range(n):
        t = wire({**gp, "company": company_name(i)}, {**bill, "org_id": orgs[i]}, slug=f"t{i:04d}")
        Tenant.objects.filter(pk=t.pk).update(poll_interval_minutes=minutes)
        t.poll_interval_minutes = minutes
        ensure_schedules(t)
        tenants.append(t)
    start = timezone.now() + timedelta(seconds=5)
    for i, t in enumerate(tenants):
        Schedule.objects.filter(name=schedule_name(t, "sync")).update(
            next_run=start + timedelta(seconds=60 * minutes * i / n)
        )
    return tenants


def due_times(tenants: list[Any]) -> dict[int, Any]:
    from django_q.models import Schedule

    from connectors.schedules import schedule_name  # after django.setup(): it imports models

    names = {schedule_name(t, "sync"): t.pk for t in tenants}
    return {names[s.name]: s.next_run for s in Schedule.objects.filter(name__in=names)}


def starts_now() -> dict[int, Any]:
    from audit.models import PollCursor  # after django.setup(): a model

    return dict(PollCursor.objects.filter(flow="gp_vendors").values_list("tenant_id", "last_started_at"))


def first_loads_done() -> int:
    """Tenants whose GP -> BILL has finished a run (the scheduled poll no longer hands it off)."""
    from audit.models import PollCursor  # after django.setup(): a model
    from connectors.sync.gp_to_bill.bills import FLOW  # after django.setup(): it imports models

    return PollCursor.objects.filter(flow=FLOW, cursor__isnull=False).values("tenant").distinct().count()


def short_queue() -> int:
    """Tasks waiting on the short queue (scheduled polls queued and not yet taken by a worker)."""
    from connectors.queue import SHORT, shared_broker  # after django.setup(): reads settings

    return int(shared_broker(SHORT).queue_size() or 0)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


# --- the run --------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict[str, Any]:
    n = args.tenants
    budgets = {
        "BILL_HOURLY_BUDGET": str(20000 * args.compress),
        "BILL_HOURLY_LOGINS": str(max(200, n + 50)),
        "Q_WORKERS": str(args.workers),
        "Q_LONG_WORKERS": str(args.long_workers),
    }
    info = setup(args, extra=budgets)
    from .fairness import _forget_old_runs  # not at the top: bench.fairness imports this module

    _forget_old_runs(info["redis_url"])  # leases and queued tasks of an earlier run reusing tenant pks
    orgs = [fresh_org_id() for _ in range(n)]
    gp = start_gp_companies(n)
    # A developer key of its own per run (fresh hourly counts in Redis). Its hourly request budget is
    # scaled by the time compression (5 polls an hour become 25 a real hour); its 200 sign-ins an hour
    # are raised to N + 50 so that every org can sign in once (see RESULTS: a real limit beyond 200).
    limits = {"hourly_budget": 20000 * args.compress, "hourly_logins": max(200, n + 50)}
    bill = start_bill(
        0, 0, org_id=orgs[0], extra_orgs=orgs[1:], dev_key="01B" + uuid.uuid4().hex.upper(), **limits
    )
    clusters: list[subprocess.Popen[str]] = []
    hog = CpuHog(args.cpu_hog) if args.cpu_hog else None
    try:
        tenants = make_tenants(n, gp.info, bill.info, orgs, PRODUCTION_MINUTES // args.compress)
        env = child_env(info["database_url"], info["redis_url"], **budgets)
        for name in ("", "long"):
            # Its output goes to a file: an unread pipe fills up and blocks the workers that log to it.
            log = ROOT / "var" / f"bench-tenants-qcluster{'-' + name if name else ''}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("w") as out:
                clusters.append(
                    subprocess.Popen(
                        [sys.executable, "manage.py", "qcluster"],
                        cwd=ROOT,
                        env={**env, **({"Q_CLUSTER_NAME": name} if name else {})},
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        text=True,
                    )
                )
        return measure(args, tenants, clusters, gp, bill) | {
            "setup": info | {"database_url": "", "redis_url": ""}
        }
    finally:
        for cluster in clusters:
            if cluster.poll() is None:
                cluster.terminate()
        for cluster in clusters:
            try:
                cluster.wait(timeout=30)
            except subprocess.TimeoutExpired:
                cluster.kill()
        if hog:
            hog.stop()
        gp.stop()
        bill.stop()


def measure(
    args: argparse.Namespace, tenants: list[Any], clusters: list[subprocess.Popen[str]], gp: Any, bill: Any
) -> dict[str, Any]:
    from django.utils import timezone

    n = len(tenants)
    cycle_s = 60 * PRODUCTION_MINUTES // args.compress
    seen: dict[int, set[Any]] = {t.pk: set() for t in tenants}
    dues: dict[int, Any] = {}

    def sample() -> None:
        for pk, due in due_times(tenants).items():
            if due is not None:
                dues.setdefault(pk, due)  # the first due time; the next ones are one cycle apart
        for pk, started in starts_now().items():
            if started is not None and pk in seen:
                seen[pk].add(started)

    def trees() -> list[int]:
        return [pid for c in clusters for pid in tree(c.pid)]

    warm0 = time.monotonic()
    warm_until = warm0 + 5 + cycle_s * args.warmup_cycles
    loaded, queued = 0, 0
    while time.monotonic() < warm_until or (
        (loaded < n or queued > n) and time.monotonic() < warm0 + args.warmup_max
    ):
        if any(c.poll() is not None for c in clusters):
            raise RuntimeError("a qcluster exited: see var/bench-tenants-qcluster*.log")
        sample()
        loaded, queued = first_loads_done(), short_queue()
        time.sleep(1)
    warmup_s = time.monotonic() - warm0
    pids = trees()
    cpu0, sand0 = cpu_seconds(pids), cpu_seconds([gp.process.pid, bill.process.pid])
    writes0, counts0 = table_writes(), row_counts()
    t0, wall0 = timezone.now(), time.monotonic()
    for pk in seen:
        seen[pk].clear()
    rss: dict[int, float] = {}
    queued_max = queued
    end = wall0 + cycle_s * args.cycles
    while time.monotonic() < end:
        sample()
        queued_max = max(queued_max, short_queue())
        pids = sorted(set(pids) | set(trees()))
        for pid, mb in peak_rss_mb(pids).items():
            rss[pid] = max(mb, rss.get(pid, 0))
        time.sleep(2)
    time.sleep(2)
    sample()
    t1 = timezone.now()
    queued_end = short_queue()
    wall = time.monotonic() - wall0
    cpu = cpu_seconds(trees()) - cpu0
    sandbox_cpu = cpu_seconds([gp.process.pid, bill.process.pid]) - sand0
    writes1, counts1 = table_writes(), row_counts()

    # Lag: each start in the window against the latest due time (first due + k cycles) before it.
    lags, runs = [], 0
    for pk, starts in seen.items():
        first = dues.get(pk)
        for started in starts:
            if first is None or started < t0:
                continue
            k = int((started - first).total_seconds() // cycle_s)
            due = first + timedelta(seconds=cycle_s * k)
            lags.append((started - due).total_seconds())
            runs += 1
    expected = n * args.cycles
    served, unserved = lag_to_serve(seen, dues, t0, t1, cycle_s)
    # `*_matched_within_cycle` (the figures before polls were coalesced): a start is matched to the
    # latest due time before it, so it is never above one cycle. When more than a cycle's polls wait on
    # the short queue, a queued poll waits about (queue length / starts per second): `queue_wait_s_at_max`.
    backlog = queued_max >= n
    queue_wait = round(queued_max / (runs / wall), 1) if runs else None
    p99 = percentile(lags, 0.99)
    cores = os.cpu_count() or 1
    result = {
        "benchmark": "tenants",
        "tenants": n,
        "workers": args.workers,
        "long_workers": args.long_workers,
        "warmup_s": round(warmup_s, 1),
        "first_loads_done_at_start": loaded,
        "short_queue_at_start": queued,
        "short_queue_at_end": queued_end,
        "short_queue_max": queued_max,
        "backlog": backlog,
        "queue_wait_s_at_max": queue_wait,
        "lag_p99_s_matched_within_cycle": round(p99, 2),
        "lag_p50_s_matched_within_cycle": round(percentile(lags, 0.5), 2),
        "cpu_hog": args.cpu_hog,
        "time_compression": f"poll interval {cycle_s // 60} min real = 5 min production ({args.compress}x)",
        "compress": args.compress,
        "cycles_measured": args.cycles,
        "window_s": round(wall, 1),
        "tenant_cycles_started": runs,
        "tenant_cycles_expected": expected,
        "cpu_s_cluster": round(cpu, 2),
        "cpu_s_per_idle_tenant_cycle": round(cpu / runs, 4) if runs else None,
        "cpu_s_sandboxes": round(sandbox_cpu, 2),
        "dues_in_window": len(served) + len(unserved),
        "dues_unserved_at_end": len(unserved),
        "lag_p50_s": round(percentile(served + unserved, 0.5), 2),
        "lag_max_s": round(max(served + unserved), 2) if served or unserved else None,
        "peak_rss_mb_per_process": sorted(rss.values(), reverse=True),
        "rows_written_per_idle_tenant_cycle": writes_between(writes0, writes1, max(runs, 1)),
        "new_rows_per_idle_tenant_cycle": round(
            sum(counts1.get(t, 0) - counts0.get(t, 0) for t in counts0) / max(runs, 1), 3
        ),
        "row_counts_before": counts0,
        "row_counts_after": counts1,
        "cpu_share": round(cpu / (wall * cores), 4),
        "lag_p99_s": round(percentile(served + unserved, 0.99), 2),
    }
    return result


def lag_to_serve(
    seen: dict[int, set[Any]], dues: dict[int, Any], t0: Any, t1: Any, cycle_s: int
) -> tuple[list[float], list[float]]:
    """Each due time in [t0, t1 - goal] -> the tenant's first poll start at or after it (that poll reads
    what the due one would have: a skipped, coalesced poll is served by it). Due times no start served
    by t1 are returned apart, with their lag so far (a lower bound, already past the goal)."""
    served, unserved = [], []
    for pk, starts in seen.items():
        first = dues.get(pk)
        if first is None:
            continue
        k = max(0, -int((first - t0).total_seconds() // cycle_s))
        due = first + timedelta(seconds=cycle_s * k)
        while due <= t1 - timedelta(seconds=LAG_GOAL_S):
            later = [s for s in starts if s >= due]
            if later:
                served.append((min(later) - due).total_seconds())
            else:
                unserved.append((t1 - due).total_seconds())
            due += timedelta(seconds=cycle_s)
    return served, unserved


def main(argv: list[str]) -> int:
    keys = (
        "tenants",
        "compress",
        "cpu_s_per_idle_tenant_cycle",
        "new_rows_per_idle_tenant_cycle",
        "lag_p50_s",
        "tenant_cycles_started",
        "tenant_cycles_expected",
        "dues_unserved_at_end",
        "cpu_share",
        "lag_p99_s",
    )
    return run_main(make_parser, run, argv, glance=keys)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

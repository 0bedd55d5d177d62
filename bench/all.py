"""`python -m bench all`: every figure against its goal, in one table.

The quick benchmarks (webhooks, initial_load, incremental, memory: about 6 minutes on 2 cores) run
here, each in its own process with a fresh database. The long ones (agent, tenants, retention,
fairness: 5 to 20 minutes each) are read from their latest run on this machine
(`var/bench-results/<name>.json`, written by every benchmark) or, failing that, from the run recorded
in the repository (`bench/results-<name>.json`); the table says which. `--only` runs a subset,
`--no-run` runs nothing and tabulates what is stored. The full JSON goes to `var/bench-results/all.json`;
stdout is the table.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import _env

# The webhook run goes first: the others write hundreds of thousands of rows, and PostgreSQL's
# checkpoint of them would otherwise land inside the webhook measurement.
RUNS: list[tuple[str, list[str]]] = [
    ("webhooks", ["--events", "5000"]),
    (
        "initial_load",
        [
            "--vendors",
            "2000",
            "--invoices",
            "20000",
            "--latency-ms",
            "100",
            "--per-item-ms",
            "5",
            "--naive-sample",
            "200",
        ],
    ),
    ("incremental", ["--changes", "10"]),
    ("memory", ["--invoices", "50000"]),
]
READ_ONLY = ("agent", "tenants", "retention", "fairness")
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Goal:
    """One row of the table: a figure read from a benchmark's result, and the goal it must meet."""

    bench: str
    figure: str
    goal: str
    read: Callable[[dict[str, Any]], Any]
    met: Callable[[Any], bool] | None  # None: measured, no goal


def _get(*path: str) -> Callable[[dict[str, Any]], Any]:
    def read(result: dict[str, Any]) -> Any:
        value: Any = result
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return read


def _num(check: Callable[[float], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int | float) and not math.isnan(v) and check(v)


GOALS: list[Goal] = [
    Goal(
        "webhooks", "accepted events/s", "≥ 500", _get("accepted_events_per_second"), _num(lambda v: v >= 500)
    ),
    Goal("webhooks", "latency p99, ms", "< 100", _get("latency_ms", "p99"), _num(lambda v: v < 100)),
    Goal(
        "webhooks",
        "throughput ÷ trivial view on the same gunicorn",
        "≥ 0.5",
        _get("ratio_to_trivial_view"),
        _num(lambda v: v >= 0.5),
    ),
    Goal("webhooks", "server CPU ms per delivery", "—", _get("server_cpu_ms_per_delivery"), None),
    Goal(
        "webhooks",
        "events lost / duplicates processed",
        "0 / 0",
        lambda r: f"{r.get('events_lost')} / {r.get('duplicates_processed')}",
        lambda v: v == "0 / 0",
    ),
    Goal("initial_load", "slot utilisation", "≥ 0.9", _get("slot_utilisation"), _num(lambda v: v >= 0.9)),
    Goal(
        "initial_load", "BILL calls ÷ minimum", "≤ 1.05", _get("bill_calls_ratio"), _num(lambda v: v <= 1.05)
    ),
    Goal("initial_load", "max calls in flight", "≤ 3", _get("max_in_flight"), _num(lambda v: v <= 3)),
    Goal("incremental", "poll with 10+10 changes, s", "< 2", _get("cycle", "seconds"), _num(lambda v: v < 2)),
    Goal(
        "incremental", "GP requests of that poll", "≤ 5", _get("cycle", "gp_requests"), _num(lambda v: v <= 5)
    ),
    Goal("memory", "peak RSS, 50,000 invoices, MB", "< 300", _get("peak_rss_mb"), _num(lambda v: v < 300)),
    Goal(
        "agent",
        "median added per GP request, ms",
        "≤ 20",
        _get("relay_added_median_ms"),
        _num(lambda v: v <= 20),
    ),
    Goal(
        "agent",
        "GP requests/s through one agent",
        "≥ 200",
        _get("requests_per_second_one_agent"),
        _num(lambda v: v >= 200),
    ),
    Goal("tenants", "tenants in the run", "—", _get("tenants"), None),
    Goal(
        "tenants",
        "qcluster CPU share at 1,000 tenants' rate",
        "< 0.5",
        lambda r: _scaled_cpu_share(r),
        _num(lambda v: v < 0.5),
    ),
    Goal("tenants", "schedule lag p99, s", "< 60", _get("lag_p99_s"), _num(lambda v: v < 60)),
    Goal(
        "tenants",
        "new rows per idle tenant-cycle",
        "0",
        _get("new_rows_per_idle_tenant_cycle"),
        _num(lambda v: v == 0),
    ),
    Goal("retention", "database after a year and the prune, MB", "—", _get("size_after_mb"), None),
    Goal("retention", "MB per tenant-year", "—", _get("mb_per_tenant_year_after"), None),
    Goal(
        "fairness",
        "webhook → GP payment applied p99 (B…K), s",
        "< 30",
        _get("webhook_to_gp_applied_p99_s"),
        _num(lambda v: v < 30),
    ),
    Goal(
        "fairness",
        "webhook → GP payment applied p50 (B…K), s",
        "—",
        _get("webhook_to_gp_applied_p50_s"),
        None,
    ),
    Goal("fairness", "poll lag p99 (B…K), s", "< 60", _get("lag_p99_s"), _num(lambda v: v < 60)),
]


def _scaled_cpu_share(result: dict[str, Any]) -> float | None:
    """The tenants bench runs N tenants compressed C times (5 unless the result says): N tenants stand for
    C·N at the production rate."""
    share, n, compress = result.get("cpu_share"), result.get("tenants"), result.get("compress", 5)
    if not isinstance(share, int | float) or not n:
        return None
    return round(share * 1000 / (compress * n), 3)


def make_parser() -> argparse.ArgumentParser:
    p = _env.bench_parser("all", __doc__)
    p.add_argument("--only", nargs="*", default=None, help="names of the quick benchmarks to run")
    p.add_argument("--no-run", action="store_true", help="run nothing; tabulate the stored results")
    return p


def stored(name: str) -> tuple[dict[str, Any] | None, str]:
    """The latest result of `name` on this machine, else the one recorded in the repository."""
    latest = _env.RESULTS_DIR / f"{name}.json"
    if latest.exists():
        when = datetime.fromtimestamp(latest.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M")
        try:
            return json.loads(latest.read_text()), f"latest run here, {when} UTC"
        except ValueError:
            pass
    recorded = HERE / f"results-{name}.json"
    if recorded.exists():
        return json.loads(recorded.read_text()), f"bench/results-{name}.json"
    if name != "all":
        recorded = HERE / "results-all.json"
        if recorded.exists():
            result = json.loads(recorded.read_text()).get(name)
            if isinstance(result, dict):
                return result, "recorded in bench/results-all.json"
    return None, "not run"


def run(args: argparse.Namespace) -> dict[str, Any]:
    shared = ["--db", args.db] + (["--no-redis"] if args.no_redis else [])
    results: dict[str, Any] = {}
    sources: dict[str, str] = {}
    started = time.monotonic()
    for name, options in RUNS:
        if args.no_run or (args.only is not None and name not in args.only):
            continue
        t0 = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "bench", name, *options, *shared],
            cwd=_env.ROOT,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            results[name] = {"error": done.stderr[-3000:]}
            sources[name] = "this run: failed"
            continue
        result = json.loads(done.stdout)
        result.pop("machine", None)
        result["bench_seconds"] = round(time.monotonic() - t0, 1)
        results[name] = result
        sources[name] = "this run"
    for name in [n for n, _ in RUNS] + list(READ_ONLY):
        if name not in results:
            result, sources[name] = stored(name)
            if result is not None:
                results[name] = result
    results["total_seconds"] = round(time.monotonic() - started, 1)
    results["sources"] = sources
    results["table"] = [_row(goal, results.get(goal.bench), sources.get(goal.bench, "")) for goal in GOALS]
    return results


def _row(goal: Goal, result: Any, source: str) -> dict[str, Any]:
    value = goal.read(result) if isinstance(result, dict) else None
    met = None if goal.met is None or value is None else goal.met(value)
    return {
        "bench": goal.bench,
        "figure": goal.figure,
        "goal": goal.goal,
        "measured": value,
        "met": met,
        "source": source,
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = ("benchmark", "figure", "goal", "measured", "met", "from")
    lines = [
        [
            r["bench"],
            r["figure"],
            r["goal"],
            "—" if r["measured"] is None else str(r["measured"]),
            {True: "yes", False: "NO", None: ""}[r["met"]],
            r["source"],
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
    out = [
        "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    args = make_parser().parse_args(argv)
    results = run(args)
    results["machine"] = _env.machine()
    _env.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (_env.RESULTS_DIR / "all.json").write_text(json.dumps(results, indent=2, default=str))
    print(table(results["table"]), flush=True)
    missed = [r for r in results["table"] if r["met"] is False]
    print(f"\n{len(missed)} goal(s) not met; full JSON: var/bench-results/all.json", flush=True)
    return 0

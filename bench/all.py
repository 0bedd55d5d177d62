"""`python -m bench all`: every benchmark at a size that finishes in under 10 minutes on 2 cores, each
in its own process with a fresh database; prints one JSON object holding every result."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

from . import _env

# The webhook run goes first: the others write hundreds of thousands of rows, and PostgreSQL's
# checkpoint of them would otherwise land inside the webhook measurement.
RUNS: list[tuple[str, list[str]]] = [
    ("webhooks", ["--events", "5000"]),
    ("initial_load", ["--vendors", "2000", "--invoices", "20000", "--latency-ms", "100", "--per-item-ms", "5",
                      "--naive-sample", "200"]),
    ("incremental", ["--changes", "10"]),
    ("memory", ["--invoices", "50000"]),
]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench all", description=__doc__)
    p.add_argument("--only", nargs="*", default=None, help="names of the benchmarks to run")
    _env.add_arguments(p)
    return p


def run(args: argparse.Namespace) -> dict[str, Any]:
    shared = ["--db", args.db] + (["--no-redis"] if args.no_redis else [])
    results: dict[str, Any] = {}
    started = time.monotonic()
    for name, options in RUNS:
        if args.only and name not in args.only:
            continue
        t0 = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "bench", name, *options, *shared], cwd=_env.ROOT,
                              capture_output=True, text=True)
        if done.returncode:
            results[name] = {"error": done.stderr[-3000:]}
            continue
        result = json.loads(done.stdout)
        result.pop("machine", None)
        result["bench_seconds"] = round(time.monotonic() - t0, 1)
        results[name] = result
    results["total_seconds"] = round(time.monotonic() - started, 1)
    results["targets"] = {f"{name}:{target}": ok for name, r in results.items() if isinstance(r, dict)
                          for target, ok in r.get("targets", {}).items()}
    return results


def main(argv: list[str]) -> int:
    return _env.run_main(parser, run, argv)

"""`python -m bench memory [--invoices 50000]`

Peak memory (RSS) of the worker process during an initial load of 50,000 invoices: the flows stream
GP a page at a time and keep a bounded number of BILL batches in flight, so memory must not grow with
the company. The same run as `initial_load` (sandboxes in their own processes, so the figure is the
connector's alone), with a short BILL latency so it finishes in about a minute.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import _env, initial_load

TARGET_MB = 300


def make_parser() -> argparse.ArgumentParser:
    return _env.bench_parser("memory", __doc__, vendors=2000, invoices=50000, latency_ms=10, per_item_ms=0.5)


def run(args: argparse.Namespace) -> dict[str, Any]:
    args.naive_sample, args.no_agreement = 0, True
    load = initial_load.run(args)
    return {
        "benchmark": "memory",
        "setup": load["setup"],
        "peak_rss_mb": load["peak_rss_mb"],
        "rss_mb_before_run": load["peak_rss_mb_before_run"],
        "bills_created": load["bills_created"],
        "vendors_created": load["vendors_created"],
        "wall_seconds": load["wall_seconds"],
        "targets": {f"peak_rss<{TARGET_MB}MB": load["peak_rss_mb"] < TARGET_MB},
    }


def main(argv: list[str]) -> int:
    return _env.run_main(make_parser, run, argv)

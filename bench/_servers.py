"""The GP and BILL sandboxes for a benchmark, each in its own process, as the real systems would be:
the connector's process then spends its CPU on the connector only.

`python -m bench._servers gp --vendors N --invoices M` / `bill --latency-ms 100 --per-item-ms 5 --org ID`
print one JSON line (how to reach the sandbox) and serve until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from sandbox.bill import start_bill_sandbox
from sandbox.gp.seeds import load_bench
from sandbox.gp.server import start_gp_sandbox

from ._env import ROOT
from ._tenant import bill_info


@dataclass
class Served:
    """A sandbox process and what it printed about itself."""

    process: subprocess.Popen[str]
    info: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    # The control API (`/_sandbox/`) of either sandbox.
    def control(self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        r = requests.request(
            method, f"{self.info['control_url']}/{path}", json=body, params=params or None, timeout=120
        )
        r.raise_for_status()
        return r.json() if r.content else None


def _start(kind: str, *options: str) -> Served:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench._servers", kind, *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if not line:
        process.kill()
        raise RuntimeError(
            f"the {kind} sandbox did not start: {process.stderr.read() if process.stderr else ''}"
        )
    return Served(process, json.loads(line))


def start_gp(vendors: int, invoices: int, latency_ms: int = 0) -> Served:
    return _start(
        "gp", "--vendors", str(vendors), "--invoices", str(invoices), "--latency-ms", str(latency_ms)
    )


def fresh_org_id() -> str:
    """A BILL organization ID of its own per run: fresh gate keys and hourly count."""
    return "00802B" + uuid.uuid4().hex[:14].upper()


def start_bill(
    latency_ms: float,
    per_item_ms: float,
    org_id: str | None = None,
    extra_orgs: list[str] | None = None,
    dev_key: str = "",
    hourly_budget: int = 0,
    hourly_logins: int = 0,
) -> Served:
    org_id = org_id or fresh_org_id()
    more = ["--extra-orgs", ",".join(extra_orgs)] if extra_orgs else []
    more += ["--dev-key", dev_key] if dev_key else []
    more += ["--hourly-budget", str(hourly_budget)] if hourly_budget else []
    more += ["--hourly-logins", str(hourly_logins)] if hourly_logins else []
    return _start(
        "bill", "--latency-ms", str(latency_ms), "--per-item-ms", str(per_item_ms), "--org", org_id, *more
    )


def company_name(i: int) -> str:
    """The GP company of the i-th tenant in a many-companies GP sandbox."""
    return f"T{i:04d}"


def start_gp_companies(companies: int, latency_ms: int = 0) -> Served:
    """One GP sandbox serving `companies` small companies (`company_name(i)`)."""
    return _start("gp", "--companies", str(companies), "--latency-ms", str(latency_ms))


def _serve_gp(a: argparse.Namespace) -> Any:
    if a.companies:
        # Many small companies (the tenants bench): each built from the `small` seed on first use.
        names = [company_name(i) for i in range(a.companies)]
        sandbox = start_gp_sandbox(
            seed="small", latency_ms=a.latency_ms, company=names[0], extra_companies=tuple(names[1:])
        )
    else:
        sandbox = start_gp_sandbox(seed="bench", latency_ms=a.latency_ms)
    if not a.companies and (a.vendors, a.invoices) != (100_000, 50_000):
        load_bench(sandbox.app.company(), vendors=a.vendors, invoices=a.invoices)
    info = {
        "url": sandbox.url,
        "tenant": sandbox.tenant,
        "company": sandbox.company,
        "domain": sandbox.domain,
        "user": sandbox.user,
        "password": sandbox.password,
        "control_url": f"{sandbox.url}/_sandbox",
    }
    return sandbox, info


def _serve_bill(a: argparse.Namespace) -> Any:
    extra = tuple(a.extra_orgs.split(",")) if a.extra_orgs else ()
    limits = {
        k: v
        for k, v in (
            ("dev_key", a.dev_key),
            ("hourly_budget", a.hourly_budget),
            ("hourly_logins", a.hourly_logins),
        )
        if v
    }
    sandbox = start_bill_sandbox(
        seed="bench",
        latency_ms=a.latency_ms,
        per_item_ms=a.per_item_ms,
        org_id=a.org,
        extra_orgs=extra,
        **limits,
    )
    return sandbox, bill_info(sandbox)


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(prog="python -m bench._servers")
    sub = p.add_subparsers(dest="kind", required=True)
    gp = sub.add_parser("gp")
    gp.add_argument("--vendors", type=int, default=100_000)
    gp.add_argument("--invoices", type=int, default=50_000)
    gp.add_argument("--latency-ms", type=int, default=0)
    gp.add_argument("--companies", type=int, default=0, help="serve this many small companies instead")
    bill = sub.add_parser("bill")
    bill.add_argument("--latency-ms", type=float, default=0)
    bill.add_argument("--per-item-ms", type=float, default=0)
    bill.add_argument("--org", required=True)
    bill.add_argument("--dev-key", default="")
    bill.add_argument("--hourly-budget", type=int, default=0)
    bill.add_argument("--hourly-logins", type=int, default=0)
    bill.add_argument(
        "--extra-orgs", default="", help="more org IDs (comma-separated) sharing this one's data"
    )
    a = p.parse_args(argv)
    sandbox, info = (_serve_gp if a.kind == "gp" else _serve_bill)(a)
    print(json.dumps(info), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    sandbox.stop()


if __name__ == "__main__":
    main(sys.argv[1:])

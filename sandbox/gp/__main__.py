"""`python -m sandbox.gp`: run a GP SBA sandbox until Ctrl-C, printing where and how to sign in."""

from __future__ import annotations

import argparse
import signal
import threading

from .seeds import SEEDS
from .server import DEFAULT_COMPANY, DEFAULT_PASSWORD, DEFAULT_USER, start_gp_sandbox


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sandbox.gp", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--seed", choices=SEEDS, default="demo")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of requests failing (5xx/timeout/reset/lock)"
    )
    p.add_argument("--gp-user", default=DEFAULT_USER, help="DOMAIN\\user")
    p.add_argument("--gp-password", default=DEFAULT_PASSWORD)
    p.add_argument("--company", default=DEFAULT_COMPANY)
    p.add_argument("--tls", action="store_true", help="HTTPS with a self-signed certificate made now")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    sandbox = start_gp_sandbox(
        host=args.host,
        port=args.port,
        seed=args.seed,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        user=args.gp_user,
        password=args.gp_password,
        tls=args.tls,
        company=args.company,
        verbose=args.verbose,
    )
    print(describe(sandbox), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    sandbox.stop()


def describe(sandbox) -> str:  # type: ignore[no-untyped-def]
    lines = [
        f"GP SBA sandbox on {sandbox.url}  (seed {sandbox.app.seed})",
        f"  tenant {sandbox.tenant!r}, company {sandbox.company!r}",
        f"  Windows account {sandbox.account}  password {sandbox.password}  (NTLM, or Basic)",
        f"  API     {sandbox.company_url()}Purchasing/Vendors",
        f"  control {sandbox.url}/_sandbox/   stats {sandbox.url}/_sandbox/stats",
    ]
    if sandbox.ca_pem:
        lines += [
            "  CA certificate (paste into the GP connection's CA bundle):",
            sandbox.ca_pem.decode().strip(),
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

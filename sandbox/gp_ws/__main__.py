"""`python -m sandbox.gp_ws`: run a GP Web Services sandbox until Ctrl-C (with the SBA sandbox for the same
company, unless `--ws-only`: a GP 2010/2013 install with no SBA)."""

from __future__ import annotations

import argparse
import signal
import threading

from sandbox.gp.seeds import SEEDS
from sandbox.gp.server import start_gp_sandbox

from .server import start_gp_ws_sandbox


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sandbox.gp_ws", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=48620, help="Web Services port (GP's default: 48620)")
    p.add_argument("--sba-port", type=int, default=8081)
    p.add_argument("--seed", choices=SEEDS, default="demo")
    p.add_argument("--ws-only", action="store_true", help="no SBA: Web Services is the only way in")
    args = p.parse_args(argv)
    sba = None if args.ws_only else start_gp_sandbox(host=args.host, port=args.sba_port, seed=args.seed)
    ws = start_gp_ws_sandbox(host=args.host, port=args.port, seed=args.seed, share=sba)
    print(f"GP Web Services sandbox on {ws.url}  (WSDL: {ws.url}?wsdl)", flush=True)
    print(
        f"  company {ws.company!r} (CompanyKey -1), Windows account {ws.account}  password {ws.password}",
        flush=True,
    )
    print(
        f"  control {ws.base_url}/_sandbox/   import a manual-payments file: POST "
        f"{ws.base_url}/_sandbox/import/manual-payments",
        flush=True,
    )
    if sba is not None:
        print(f"  the same company over SBA: {sba.company_url()}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    ws.stop()
    if sba is not None:
        sba.stop()


if __name__ == "__main__":
    main()

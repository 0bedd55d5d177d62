"""The benchmarks' own database and Redis, set up fresh before Django starts, and the machine they ran on.

A benchmark never touches the development database (`var/ml-connector.sqlite3`): it uses the
PostgreSQL database `mlconnector_bench` (dropped and re-created each run) when PostgreSQL answers on
127.0.0.1:5432, else `var/bench.sqlite3`. `BENCH_DATABASE_URL` / `BENCH_REDIS_URL` override both;
`--db sqlite` and `--no-redis` choose the zero-config engines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
PG_URL = "postgres://postgres@127.0.0.1:5432/mlconnector_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"
SQLITE_PATH = ROOT / "var" / "bench.sqlite3"


# Options several benchmarks take, spelt, typed and explained once; each benchmark gives its own default.
SHARED_OPTIONS: dict[str, dict[str, Any]] = {
    "vendors": {"type": int, "help": "GP vendors in the company"},
    "invoices": {"type": int, "help": "approved GP invoices in the company"},
    "tenants": {"type": int, "help": "tenants, each with its own GP company and BILL org"},
    "latency_ms": {"type": float, "help": "BILL latency per call, milliseconds"},
    "per_item_ms": {"type": float, "help": "BILL's extra time per record in a bulk call, milliseconds"},
    "cpu_hog": {"type": int, "metavar": "N", "help": "N busy processes competing for the CPU all run long"},
}


def bench_parser(name: str, doc: str | None, **defaults: Any) -> argparse.ArgumentParser:
    """`python -m bench <name>`'s parser: its docstring as the description, the shared options it takes
    (`latency_ms=100`: the option and its default here) and the bench's database and Redis options. The
    benchmark adds its own options to it."""
    parser = argparse.ArgumentParser(
        prog=f"python -m bench {name}", description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for option, default in defaults.items():
        spec = SHARED_OPTIONS[option]
        parser.add_argument(
            "--" + option.replace("_", "-"),
            default=default,
            **{**spec, "help": spec["help"] + " (%(default)s)"},
        )
    parser.add_argument(
        "--db",
        choices=["auto", "postgres", "sqlite"],
        default="auto",
        help="engine of the bench's own database (default: PostgreSQL when it answers)",
    )
    parser.add_argument(
        "--no-redis", action="store_true", help="database gate, locks and broker instead of Redis"
    )
    return parser


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def choose(args: argparse.Namespace) -> tuple[str, str]:
    db = os.environ.get("BENCH_DATABASE_URL", "")
    if not db:
        want_pg = args.db == "postgres" or (args.db == "auto" and reachable("127.0.0.1", 5432))
        db = PG_URL if want_pg else f"sqlite:///{SQLITE_PATH}"
    redis = "" if args.no_redis else os.environ.get("BENCH_REDIS_URL", "")
    if not redis and not args.no_redis and reachable("127.0.0.1", 6379):
        redis = REDIS_URL
    return db, redis


def fresh_database(url: str) -> None:
    """Drop and re-create the bench's database (it is its own; nothing else lives there)."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        path = Path(parts.path)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def child_env(db: str, redis: str, **extra: str) -> dict[str, str]:
    """The environment a bench process (this one, gunicorn, a worker) runs Django with."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DATABASE_URL=db,
        DJANGO_SETTINGS_MODULE="gpbill_site.settings",
        ENV_FILE=str(ROOT / "var" / "no-such-env-file"),  # a developer's .env must not redirect the bench
        LOG_LEVEL="WARNING",
        # The sandboxes answer plain http on loopback; the clients check addresses when they are built.
        CONNECTION_ALLOW_HTTP="True",
        BILL_EXTRA_HOSTS="127.0.0.1,localhost",
        **extra,
    )
    if redis:
        env["REDIS_URL"] = redis
    return env


def setup(
    args: argparse.Namespace, fresh: bool = True, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Point this process at the bench database (fresh and migrated), then start Django."""
    db, redis = choose(args)
    if fresh:
        fresh_database(db)
    os.environ.clear()
    os.environ.update(child_env(db, redis, **(extra or {})))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    # Redis is not flushed: another bench may be using it. Each run has its own BILL org ID (so its
    # own gate keys and hourly count), and the webhook bench clears the one queue it fills.
    return {
        "database": "postgresql" if db.startswith("postgres") else "sqlite",
        "redis": bool(redis),
        "database_url": db,
        "redis_url": redis,
    }


def _first(command: list[str]) -> str:
    try:
        return (
            subprocess.run(command, capture_output=True, text=True, timeout=5).stdout.strip().splitlines()[0]
        )
    except (OSError, IndexError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    mem_gb = 0.0
    try:
        kb = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        mem_gb = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "postgresql": _first(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SHOW server_version"]),
        "redis": _first(["redis-cli", "-h", "127.0.0.1", "INFO", "server"]) and _redis_version(),
    }


def _redis_version() -> str:
    try:
        import redis

        return str(redis.Redis(host="127.0.0.1", socket_timeout=1).info("server").get("redis_version", ""))
    except Exception:  # noqa: BLE001 - a description, not a requirement
        return ""


RESULTS_DIR = ROOT / "var" / "bench-results"


def emit(result: dict[str, Any]) -> None:
    """Print the result, and keep it as the benchmark's latest (`var/bench-results/<name>.json`, read
    by `python -m bench all`)."""
    text = json.dumps(result, indent=2, default=str)
    print(text, flush=True)
    name = result.get("benchmark")
    if isinstance(name, str) and name.isidentifier():
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / f"{name}.json").write_text(text)


def run_main(
    make_parser: Callable[[], argparse.ArgumentParser],
    run: Callable[[argparse.Namespace], dict[str, Any]],
    argv: list[str],
    glance: tuple[str, ...] = (),
) -> int:
    """Parse the options, run, add the machine description, print the result as JSON; then, given
    `glance` (result keys), a last line with those figures alone."""
    result = run(make_parser().parse_args(argv))
    result["machine"] = machine()
    emit(result)
    if glance:
        print(
            json.dumps({k: result[k] for k in glance}), flush=True
        )  # the last line: the figures at a glance
    return 0

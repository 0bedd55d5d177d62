"""Start worker processes that share the test database (and Redis, if the suite uses it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database as a DATABASE_URL the children can open (SQLite file or PostgreSQL)."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_workers(count: int, connection_pk: int, calls: int) -> list[subprocess.Popen[str]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "gpbill_site.settings",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "tests.bill.worker", str(connection_pk), str(calls)]
    return [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]


def results(workers: list[subprocess.Popen[str]], timeout: float = 60) -> list[dict[str, Any]]:
    out = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=timeout)
        assert worker.returncode == 0, stderr[-2000:]
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out

"""`python -m bench webhooks [--events 5000] [--repeat 0.1] [--concurrency 32]`

Signed BILL deliveries fired at `POST /webhooks/bill/<slug>/` served by gunicorn (`gpbill_site.wsgi`,
production settings, DEBUG off) on the bench's PostgreSQL, with the django-q2 broker on Redis. A
share of the events is delivered twice (BILL retries). Reports accepted events per second, latency
p50/p99 as the sender saw it, events lost (acknowledged but not stored) and duplicates processed
(stored or queued twice): both must be 0.

Two figures that travel between machines: the server's CPU milliseconds per delivery (gunicorn's
processes, user + system), and the endpoint's throughput as a ratio to a trivial view
(`/_bench/trivial/`, bench/_urls.py: same gunicorn, middleware and settings, does nothing) fired the
same way in the same run (goal ≥ 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from typing import Any

from . import _env
from .tenants import cpu_seconds, tree

TARGET_RATE, TARGET_P99_MS, TARGET_RATIO = 500, 100, 0.5
SECURITY_KEY = "bench-webhook-security-key-" + "k" * 16
# Production settings for gunicorn and for this process (which stores the key they must both decrypt).
PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": "bench-only-secret-key-" + "s" * 40,
    "FERNET_KEYS": "YmVuY2gtb25seS1mZXJuZXQta2V5LTMyLWJ5dGVzISE=",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "False",
    "SECURE_HSTS_SECONDS": "0",
    "CONN_MAX_AGE": "60",
}


def make_parser() -> argparse.ArgumentParser:
    p = _env.bench_parser("webhooks", __doc__)
    p.add_argument("--events", type=int, default=5000, help="distinct events")
    p.add_argument("--repeat", type=float, default=0.1, help="share of events delivered a second time")
    p.add_argument("--concurrency", type=int, default=16, help="connections sending at once")
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    p.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    p.add_argument("--time-limit", type=float, default=120, help="stop sending after this many seconds")
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(env: dict[str, Any], port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench._wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "-k",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    child = _env.child_env(env["database_url"], env["redis_url"], **PRODUCTION)
    process = subprocess.Popen(
        command, cwd=_env.ROOT, env=child, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                "gunicorn exited: " + (process.stderr.read().decode() if process.stderr else "")
            )
        if _env.reachable("127.0.0.1", port):
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start listening within 30 s")


def delivery(event_id: str, org_id: str, n: int) -> bytes:
    """A BILL-shaped bill.updated event."""
    body = {
        "metadata": {
            "eventId": event_id,
            "eventType": "bill.updated",
            "organizationId": org_id,
            "version": "1",
        },
        "bill": {"id": f"00n02BENCH{n:010d}", "amount": 125.5, "paymentStatus": "UNPAID"},
    }
    return json.dumps(body).encode()


async def _sender(
    port: int, path: str, queue: asyncio.Queue[bytes], results: list[tuple[int, float, bool]], deadline: float
) -> None:
    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors.bill.webhooks import compute_signature

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while not queue.empty() and time.monotonic() < deadline:
            body = queue.get_nowait()
            head = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"x-bill-sha-signature: {compute_signature(body, SECURITY_KEY)}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            started = time.perf_counter()
            writer.write(head + body)
            await writer.drain()
            status_line = await reader.readline()
            length, closing = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and value.strip().lower() == "close":
                    closing = True
            answer = await reader.readexactly(length) if length else b""
            elapsed = time.perf_counter() - started
            status = int(status_line.split()[1]) if status_line else 0
            results.append((status, elapsed, b'"duplicate"' in answer))
            if closing or not status_line:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


async def fire(
    port: int, path: str, bodies: list[bytes], concurrency: int, limit: float
) -> tuple[list[tuple[int, float, bool]], float]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    results: list[tuple[int, float, bool]] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(_sender(port, path, queue, results, time.monotonic() + limit) for _ in range(concurrency))
    )
    return results, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def queued_tasks(env: dict[str, Any]) -> int:
    if env["redis_url"]:
        import redis

        return int(redis.Redis.from_url(env["redis_url"]).llen("django_q:ml-connector:q"))
    from django_q.models import OrmQ

    return OrmQ.objects.count()


def run(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.update(PRODUCTION)  # this process stores the key gunicorn decrypts: same settings
    saved = {k: os.environ.get(k) for k in PRODUCTION}
    env = _env.setup(args, extra=PRODUCTION)
    # after django.setup(): a bench module is imported before it has chosen its database
    from audit.models import WebhookEvent
    from connectors.models import BillConnection, Tenant

    tenant = Tenant.objects.create(name="Bench webhooks", slug="bench-hooks")
    org_id = "00802W" + uuid.uuid4().hex[:14].upper()
    BillConnection.objects.create(
        tenant=tenant,
        api_base_url="http://127.0.0.1:9/connect",
        webhook_api_base_url="http://127.0.0.1:9/connect-events",
        organization_id=org_id,
        username="bench",
        password="bench",
        dev_key="bench",
        webhook_security_key=SECURITY_KEY,
    )
    ids = [f"evt-{uuid.uuid4()}" for _ in range(args.events)]
    bodies = [delivery(e, org_id, n) for n, e in enumerate(ids)]
    repeats = random.Random(9).sample(range(args.events), int(args.events * args.repeat))
    # A repeat goes out after its first delivery has been answered (BILL retries after 2 s or more).
    later = [bodies[n] for n in repeats]
    if env["database"] == "postgresql":
        from django.db import connection

        with connection.cursor() as cursor:  # start from a quiet database: no checkpoint mid-measurement
            cursor.execute("CHECKPOINT")
    port = free_port()
    server = start_gunicorn(env, port, args.workers, args.threads)
    try:
        path = f"/webhooks/bill/{tenant.slug}/"
        warm, _ = asyncio.run(fire(port, path, [delivery(f"warm-{n}", org_id, n) for n in range(50)], 8, 30))
        WebhookEvent.objects.filter(event_id__startswith="warm-").delete()
        _clear_queue(env)
        pids = tree(server.pid)
        cpu0 = cpu_seconds(pids)
        results, seconds = asyncio.run(fire(port, path, bodies, args.concurrency, args.time_limit))
        cpu_main = cpu_seconds(pids) - cpu0
        again, seconds_again = asyncio.run(fire(port, path, later, args.concurrency, args.time_limit))
        # The same gunicorn, the same senders, a view that does nothing: what this server can do at best.
        cpu0 = cpu_seconds(pids)
        trivial, seconds_trivial = asyncio.run(
            fire(port, "/_bench/trivial/", bodies, args.concurrency, args.time_limit)
        )
        cpu_trivial = cpu_seconds(pids) - cpu0
    finally:
        server.terminate()
        server.wait(timeout=20)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
    accepted = [r for r in results if r[0] == 200]
    rate = len(accepted) / seconds
    trivial_rate = len([r for r in trivial if r[0] == 200]) / seconds_trivial
    latencies = [r[1] * 1000 for r in results + again]
    stored = set(WebhookEvent.objects.filter(tenant=tenant).values_list("event_id", flat=True))
    queued = queued_tasks(env)
    _clear_queue(env)
    return {
        "benchmark": "webhooks",
        "setup": {
            **{k: v for k, v in env.items() if not k.endswith("_url")},
            "server": "gunicorn gthread",
            "gunicorn_workers": args.workers,
            "threads_per_worker": args.threads,
            "concurrency": args.concurrency,
            "events": args.events,
            "repeated_deliveries": len(later),
            "warm_up_deliveries": len(warm),
        },
        "deliveries": len(results) + len(again),
        "accepted_events_per_second": round(rate, 1),
        "trivial_view_requests_per_second": round(trivial_rate, 1),
        "ratio_to_trivial_view": round(rate / trivial_rate, 3) if trivial_rate else None,
        "server_cpu_ms_per_delivery": round(cpu_main * 1000 / max(len(results), 1), 2),
        "server_cpu_ms_per_trivial_request": round(cpu_trivial * 1000 / max(len(trivial), 1), 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(seconds, 2),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.5), 1),
            "p90": round(percentile(latencies, 0.9), 1),
            "p99": round(percentile(latencies, 0.99), 1),
            "max": round(max(latencies or [0]), 1),
        },
        "non_200": len([r for r in results + again if r[0] != 200]),
        "repeats_answered_duplicate": sum(1 for r in again if r[0] == 200 and r[2]),
        "events_stored": len(stored),
        "events_lost": len({e for e in ids} - stored),
        "duplicates_processed": (WebhookEvent.objects.filter(tenant=tenant).count() - len(stored))
        + max(0, queued - len(stored)),
        "tasks_queued": queued,
        "targets": {
            "events_per_second>=500": len(accepted) / seconds >= TARGET_RATE,
            "p99<100ms": percentile(latencies, 0.99) < TARGET_P99_MS,
            "ratio_to_trivial_view>=0.5": bool(trivial_rate) and rate / trivial_rate >= TARGET_RATIO,
        },
    }


def _clear_queue(env: dict[str, Any]) -> None:
    """Empty the queue and the tenants' "drain pending" flags with it (connectors/webhook_drain.py):
    a flag whose drain was thrown away here would otherwise hold back the next drain for its TTL."""
    # after django.setup(): a bench module is imported before it has chosen its database
    from audit.models import FlowLease

    if env["redis_url"]:
        import redis

        client = redis.Redis.from_url(env["redis_url"])
        client.delete("django_q:ml-connector:q", *client.keys("mlc:lock:*:webhook-drain"))
    else:
        from django_q.models import OrmQ

        OrmQ.objects.all().delete()
        FlowLease.objects.filter(name__endswith=":webhook-drain").delete()


def main(argv: list[str]) -> int:
    return _env.run_main(make_parser, run, argv)

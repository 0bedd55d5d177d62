"""`python -m bench agent`: what the GP agent relay costs, on loopback.

Production-shaped: the connector's app under gunicorn (gthread, the README's `-w 2 --threads 4`), the
GP sandbox and the agent each in their own process, the connector's GP client in this one.

- added latency: the median of `--requests` sequential reads of one GP vendor record through the
  agent, minus the median of the same reads sent directly (NTLM on the kept connection both ways);
  and each process's CPU per read over those reads (`cpu_ms_per_relayed_request_sequential`: one
  request at a time makes the same calls and statements whatever the machine's load, so it compares
  code versions on a busy machine better than the concurrent figures do);
- throughput: `--clients` connector processes (each one reader, as a qcluster worker runs one flow's
  GP calls one after another) reading GP through one agent for `--seconds`; the same number of
  threads in one process (they share one interpreter lock, so the client itself is the limit sooner);
  and directly, with threads;
- idle agents: `--idle-agents` agents (threads of one extra process, each its own token and
  connection) polling with nothing to do for `--seconds`: polls per second the connector answers,
  gunicorn's threads before and after (no thread per agent), and how long a request waits for an agent
  that was idle (at most its idle poll interval, 3 s).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from connectors.agent_client.worker import Agent, AgentConfig

from . import _env
from ._chaos_infra import CpuHog
from ._servers import start_gp
from .webhooks import PRODUCTION, free_port, start_gunicorn


def make_parser() -> argparse.ArgumentParser:
    p = _env.bench_parser("agent", __doc__.splitlines()[0], cpu_hog=0)
    p.add_argument("--requests", type=int, default=300, help="sequential reads for the latency figures")
    p.add_argument(
        "--clients", type=int, default=8, help="connector processes (and threads) for the throughput figures"
    )
    p.add_argument("--agent-workers", type=int, default=8, help="GP requests the agent runs at once")
    p.add_argument("--seconds", type=float, default=10, help="length of the throughput and idle runs")
    p.add_argument("--idle-agents", type=int, default=100)
    return p


def _threads(pid: int) -> int:
    """Threads of a process and its children (gunicorn's master and workers)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
        if fields.get("Tgid", "").strip() == str(pid) or fields.get("PPid", "").strip() == str(pid):
            total += int(fields.get("Threads", "0"))
    return total


def _agent_process(
    url: str, token: str, gp: dict[str, Any], journal: str, workers: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MLC_AGENT_CONNECTOR_URL": url,
        "MLC_AGENT_TOKEN": token,
        "MLC_AGENT_GP_URL": gp["url"],
        "MLC_AGENT_GP_ACCOUNT": f"{gp['domain']}\\{gp['user']}",
        "MLC_AGENT_GP_PASSWORD": gp["password"],
        "MLC_AGENT_JOURNAL": journal,
        "MLC_AGENT_WORKERS": str(workers),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "connectors.agent_client"],
        env=env,
        cwd=_env.ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's workers), from /proc."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _timed_reads(client: Any, n: int, vendor_id: str = "") -> list[float]:
    """`n` reads of one vendor record (the cheapest GP request: the relay's cost shows, not GP's)."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        client.get_vendor(vendor_id)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _throughput(make_client: Any, clients: int, seconds: float, vendor_id: str) -> float:
    """Reads per second from `clients` threads, each with its own GP client, for `seconds`."""
    done, counts = time.monotonic() + seconds, [0] * clients

    def reader(i: int) -> None:
        client = make_client()
        while time.monotonic() < done:
            _timed_reads(client, 1, vendor_id)
            counts[i] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=reader, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def _throughput_processes(
    env: dict[str, Any], clients: int, seconds: float, connection_pk: int, vendor_id: str
) -> tuple[float, float]:
    """Reads per second from `clients` reader processes started together, and their CPU seconds."""
    import json

    child = _env.child_env(env["database_url"], env["redis_url"], **PRODUCTION)
    readers = [
        subprocess.Popen(
            [sys.executable, "-m", "bench._agent_reader", str(connection_pk), vendor_id, str(seconds)],
            cwd=_env.ROOT,
            env=child,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(clients)
    ]
    try:
        for reader in readers:
            if (reader.stdout.readline() if reader.stdout else "").strip() != "ready":
                raise RuntimeError("a bench reader process did not start")
        for reader in readers:
            assert reader.stdin is not None
            reader.stdin.write("go\n")
            reader.stdin.flush()
        results = [json.loads(reader.stdout.readline()) for reader in readers if reader.stdout]
    finally:
        for reader in readers:
            if reader.poll() is None:
                reader.kill()
            reader.wait()
    return sum(r["reads"] / r["seconds"] for r in results), sum(r["cpu_seconds"] for r in results)


def run(args: argparse.Namespace) -> dict[str, Any]:
    hog = CpuHog(args.cpu_hog) if args.cpu_hog else None
    try:
        return {**_run(args), "cpu_hog": args.cpu_hog, "load_average": [round(x, 1) for x in os.getloadavg()]}
    finally:
        if hog is not None:
            hog.stop()


def _run(args: argparse.Namespace) -> dict[str, Any]:
    env = _env.setup(
        args, extra=PRODUCTION
    )  # the connector's side as in production (DEBUG off), like gunicorn's
    # The app's modules import only once _env.setup() above has pointed Django at the bench database.
    from django.utils import timezone

    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors.gp.client import GPClient
    from connectors.models import GPConnection, Tenant
    from connectors.relay.local import route_through_agent
    from connectors.relay.models import RelayedRequest
    from connectors.relay.tokens import issue
    from connectors.relay.wakeups import backend

    gp_served = start_gp(vendors=200, invoices=200)
    gp = gp_served.info
    port = free_port()
    web = start_gunicorn(env, port, workers=2, threads=4)
    url = f"http://127.0.0.1:{port}"
    tmp = tempfile.TemporaryDirectory(prefix="bench-agent-")
    children: list[subprocess.Popen[bytes]] = []
    try:
        tenant = Tenant.objects.create(name="Agent bench", slug="agent-bench")
        conn = GPConnection.objects.create(
            tenant=tenant,
            base_url=gp["url"],
            gp_tenant=gp["tenant"],
            company=gp["company"],
            domain=gp["domain"],
            username=gp["user"],
            password=gp["password"],
            timeout_seconds=30,
        )
        direct = GPClient.for_connection(conn)
        vendor_id = next(direct.iter_vendors()).vendor_id
        _timed_reads(direct, 20, vendor_id)  # warm: NTLM handshake, imports
        direct_ms = _timed_reads(direct, args.requests, vendor_id)
        direct_per_second = _throughput(
            lambda: GPClient.for_connection(conn), args.clients, args.seconds, vendor_id
        )
        route_through_agent(conn)
        children.append(
            _agent_process(url, issue(tenant, "bench")[1], gp, f"{tmp.name}/j.sqlite3", args.agent_workers)
        )
        relayed = GPClient.for_connection(GPConnection.objects.get(pk=conn.pk))
        _timed_reads(relayed, 20, vendor_id)
        since = timezone.now()
        processes = {
            "connector": web.pid,
            "agent": children[0].pid,
            "gp_sandbox": gp_served.process.pid,
            "client": os.getpid(),
        }
        cpu_before = {name: _cpu_seconds(pid) for name, pid in processes.items()}
        relay_ms = _timed_reads(relayed, args.requests, vendor_id)
        cpu_ms_sequential = {  # one request at a time: the same calls and statements whatever the load
            name: round((_cpu_seconds(pid) - cpu_before[name]) * 1000 / args.requests, 2)
            for name, pid in processes.items()
        }
        inside = _inside(since)
        cpu_before = {name: _cpu_seconds(pid) for name, pid in processes.items()}
        answered_before = RelayedRequest.objects.filter(state=RelayedRequest.ANSWERED).count()
        per_second, readers_cpu = _throughput_processes(env, args.clients, args.seconds, conn.pk, vendor_id)
        relayed_n = max(
            1, RelayedRequest.objects.filter(state=RelayedRequest.ANSWERED).count() - answered_before
        )
        cpu_ms = {
            name: round((_cpu_seconds(pid) - cpu_before[name]) * 1000 / relayed_n, 2)
            for name, pid in processes.items()
            if name != "client"
        }
        cpu_ms["clients"] = round(readers_cpu * 1000 / relayed_n, 2)
        processes.pop("client")
        cpu_before = {name: _cpu_seconds(pid) for name, pid in [*processes.items(), ("client", os.getpid())]}
        answered_before = RelayedRequest.objects.filter(state=RelayedRequest.ANSWERED).count()
        per_second_threads = _throughput(
            lambda: GPClient.for_connection(GPConnection.objects.get(pk=conn.pk)),
            args.clients,
            args.seconds,
            vendor_id,
        )
        relayed_n = max(
            1, RelayedRequest.objects.filter(state=RelayedRequest.ANSWERED).count() - answered_before
        )
        cpu_ms_threads = {
            name: round((_cpu_seconds(pid) - cpu_before[name]) * 1000 / relayed_n, 2)
            for name, pid in [*processes.items(), ("client", os.getpid())]
        }

        idle = (
            {}
            if args.idle_agents <= 0
            else _idle_agents(
                args,
                url,
                tenant_factory=lambda i: Tenant.objects.create(name=f"Idle {i}", slug=f"idle-{i}"),
                issue=issue,
                gunicorn_pid=web.pid,
                gp=gp,
                journal_dir=tmp.name,
                relayed=relayed,
                vendor_id=vendor_id,
            )
        )
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=30)
        web.terminate()
        web.wait(timeout=30)
        gp_served.stop()
        tmp.cleanup()
    return {
        "benchmark": "agent",
        **{k: env[k] for k in ("database", "redis")},
        "wakeups": backend(),
        "agent_workers": args.agent_workers,
        "direct_median_ms": round(statistics.median(direct_ms), 2),
        "relay_median_ms": round(statistics.median(relay_ms), 2),
        "relay_added_median_ms": round(statistics.median(relay_ms) - statistics.median(direct_ms), 2),
        "relay_p90_ms": round(statistics.quantiles(relay_ms, n=10)[-1], 2),
        **inside,
        "requests_per_second_one_agent": round(per_second, 1),
        "requests_per_second_one_agent_client_threads": round(per_second_threads, 1),
        "requests_per_second_direct": round(direct_per_second, 1),
        "clients": args.clients,
        "cpu_ms_per_relayed_request": cpu_ms,
        "cpu_ms_per_relayed_request_sequential": cpu_ms_sequential,
        "cpu_ms_per_relayed_request_client_threads": cpu_ms_threads,
        **idle,
    }


def _inside(since: Any) -> dict[str, float]:
    """Where the sequential reads' time went, from the relayed rows: queued → answered as the
    database saw it, and GP's own time as the agent measured it (the rest of the client's figure is
    the INSERT before and the wake-up and read of the answer after)."""
    from connectors.relay.models import RelayedRequest  # a model: importable once Django is set up (_run)

    rows = list(
        RelayedRequest.objects.filter(created_at__gte=since, answered_at__isnull=False).values_list(
            "created_at", "answered_at", "agent_ms"
        )
    )
    if not rows:
        return {}
    return {
        "queued_to_answered_median_ms": round(
            statistics.median((a - c).total_seconds() * 1000 for c, a, _ in rows), 2
        ),
        "agent_gp_median_ms": round(statistics.median(ms or 0 for _, _, ms in rows), 2),
    }


def _idle_agents(
    args: argparse.Namespace,
    url: str,
    tenant_factory: Any,
    issue: Any,
    gunicorn_pid: int,
    gp: dict[str, Any],
    journal_dir: str,
    relayed: Any,
    vendor_id: str,
) -> dict[str, Any]:
    """`--idle-agents` agents of other tenants idling; then one read for the bench tenant's agent."""
    from connectors.relay.models import GPAgent  # a model: importable once Django is set up (_run)

    threads_before = _threads(gunicorn_pid)
    agents = []
    for i in range(args.idle_agents):
        token = issue(tenant_factory(i), f"idle {i}")[1]
        agents.append(
            Agent(
                AgentConfig(url, token, gp["url"], "x\\y", "-", f"{journal_dir}/idle-{i}.sqlite3", workers=1)
            )
        )
    for agent in agents:
        agent.start_in_thread()
    time.sleep(3)  # every agent has backed off to its idle interval
    polls_before = sum(a.polls for a in agents)
    time.sleep(args.seconds)
    polls = sum(a.polls for a in agents) - polls_before
    threads_during = _threads(gunicorn_pid)
    time.sleep(5)  # the bench agent is idle by now too: how long does a request wait for it?
    start = time.perf_counter()
    _timed_reads(relayed, 1, vendor_id)
    wake_ms = (time.perf_counter() - start) * 1000
    alive = GPAgent.objects.filter(name__startswith="idle ", last_seen_at__isnull=False).count()
    for agent in agents:
        agent.stop_event.set()
    for agent in agents:
        agent.stop()
    return {
        "idle_agents": args.idle_agents,
        "idle_agents_seen": alive,
        "gunicorn_threads_before": threads_before,
        "gunicorn_threads_with_idle_agents": threads_during,
        "idle_polls_per_second": round(polls / args.seconds, 1),
        "idle_poll_failures": sum(a.poll_failures for a in agents),
        "idle_seconds": args.seconds,
        "first_request_to_an_idle_agent_ms": round(wake_ms, 1),
    }


def main(argv: list[str]) -> int:
    return _env.run_main(make_parser, run, argv)

"""The chaos run's own PostgreSQL and Redis, and the busy machine around it.

`OwnPostgres` is a throw-away cluster made with Debian's `initdb`/`pg_ctl` (the newest
/usr/lib/postgresql/*/bin) in a temporary directory on a free port; `OwnRedis` a `redis-server` with
an append-only file, likewise. The run SIGKILLs each once mid-run (the postmaster with its backends;
Redis without a chance to write) and starts it again — PostgreSQL recovers from its WAL, Redis
replays its AOF — and flushes Redis once: flow leases, gate slots and queued tasks are gone, and the
work must be found again by the workers' sweeps (stored webhook events, retries due, rows in doubt).
`CpuHog` keeps N processes spinning for the whole run, as other work on a shared machine would.

fsync is off in the throw-away cluster: a killed process loses nothing the kernel already has, and
only a power cut (not simulated) would need it.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_port(port: int, up: bool, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} did not come {'up' if up else 'down'} in {seconds:.0f} s")


def _children(pid: int) -> list[int]:
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields and int(fields[1]) == pid:
            found.append(int(Path(stat).parent.name))
    return found


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class OwnPostgres:
    """A PostgreSQL cluster of the run's own: `.url`, `.kill_and_restart()`, `.stop()`."""

    def __init__(self, database: str = "mlconnector_chaos") -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
        if not bins:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
        self.bin = Path(bins[-1])
        self.root = Path(tempfile.mkdtemp(prefix="mlc-chaos-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.database = database
        # initdb and postgres refuse to run as root: run them as the postgres account then.
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        self._as = [runuser, "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        self.start()

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200 -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        _wait_port(self.port, up=True)

    def _postmaster(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def kill_and_restart(self) -> None:
        """SIGKILL the postmaster and every backend, then start it again (crash recovery)."""
        pid = self._postmaster()
        backends = _children(pid)
        _kill(pid)
        for child in backends:
            _kill(child)
        _wait_port(self.port, up=False)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{p}").exists() for p in [pid, *backends]) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.start()

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, OSError):
            pass
        shutil.rmtree(self.root, ignore_errors=True)


class OwnRedis:
    """A redis-server of the run's own (append-only file on): `.url`, `.kill_and_restart()`, `.flush()`."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mlc-chaos-redis-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.root),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--protected-mode",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, up=True)

    def kill_and_restart(self) -> None:
        assert self.proc is not None
        _kill(self.proc.pid)
        self.proc.wait(timeout=10)
        _wait_port(self.port, up=False)
        self.start()

    def flush(self) -> None:
        """Everything in Redis is lost at once: leases, gate slots, counters, the task queue."""
        import redis

        redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5).flushall()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _kill(self.proc.pid)
        shutil.rmtree(self.root, ignore_errors=True)


class CpuHog:
    """N processes that only burn CPU, for the whole run: a machine busy with other work."""

    def __init__(self, count: int) -> None:
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]

    def stop(self) -> None:
        for proc in self.procs:
            _kill(proc.pid)
            proc.wait(timeout=10)


class InfraFaults:
    """When the run's own services fail: PostgreSQL and Redis each SIGKILLed and restarted once,
    Redis flushed once, at seeded moments of the chaos phase. Counts what it did."""

    def __init__(self, postgres: OwnPostgres | None, redis: OwnRedis | None) -> None:
        self.postgres, self.redis = postgres, redis
        self.due: list[tuple[float, str]] = []
        self.done: dict[str, int] = {}

    def plan(self, rng: object, started: float, seconds: float) -> None:
        self.done = {}
        kinds = (["postgres_killed"] if self.postgres else []) + (
            ["redis_killed", "redis_flushed"] if self.redis else []
        )
        self.due = sorted((started + rng.uniform(1.0, max(1.5, seconds * 0.8)), kind) for kind in kinds)  # type: ignore[attr-defined]

    def pending(self) -> bool:
        return bool(self.due)

    def fire_due(self, now: float) -> None:
        while self.due and self.due[0][0] <= now:
            _, kind = self.due.pop(0)
            if kind == "postgres_killed":
                self.postgres.kill_and_restart()  # type: ignore[union-attr]
            elif kind == "redis_killed":
                self.redis.kill_and_restart()  # type: ignore[union-attr]
            else:
                self.redis.flush()  # type: ignore[union-attr]
            self.done[kind] = self.done.get(kind, 0) + 1

"""`python -m bench chaos --seed N --size small|large`: faults cost nothing.

One process hosts both sandboxes (threads on loopback), the Django webhook endpoint and a webhook
relay; worker processes run the flows against a shared database. For the chaos phase both sandboxes
inject faults at a seeded rate (5xx, timeouts before and after the write committed, resets, GP
locks), BILL sessions expire, another integration holds BILL's call slots (BDC_1322), the hourly
budget runs out (BDC_1144), GP slows down, webhooks are dropped, repeated and reordered, and workers
are SIGKILLed at random moments and restarted; with the run's own PostgreSQL and Redis
(bench/_chaos_infra.py) each of those is SIGKILLed and restarted once and Redis is flushed once.
BILL also commits some creates late (after the client gave up) and answers bulk creates shuffled.
Meanwhile GP invoices are approved, vendors change on both sides and BILL pays bills. Then the faults stop and
the run waits until the system converged,
checks both sandboxes' APIs (see _chaos_check) and prints one JSON line.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import _env
from bench._chaos_faults import BillRateFaults, CountingFaultPlan, Disturber, GPAfterCommit
from bench._chaos_infra import CpuHog, InfraFaults, OwnPostgres, OwnRedis
from bench._chaos_webhooks import Relay
from bench._env import child_env
from connectors.relay.local import serve_django
from sandbox.bill import start_bill_sandbox
from sandbox.gp.builders import build_address, build_invoice, build_vendor
from sandbox.gp.server import start_gp_sandbox

ROOT = Path(__file__).resolve().parents[1]
ACCOUNTS = ("000-6100-00", "000-6150-00", "000-6200-00", "000-6700-00")
WORDS = (
    "amber basalt cobalt dune ember fjord garnet heron indigo juniper kestrel lumen marlow nectar onyx"
).split()


@dataclass(frozen=True)
class Size:
    vendors: int
    invoices: int
    payments: int
    kills: int
    chaos_seconds: float  # at least; the phase also lasts until every payment and kill happened
    converge_timeout: float
    workers: int = 2


SIZES = {
    "small": Size(vendors=8, invoices=40, payments=12, kills=3, chaos_seconds=8, converge_timeout=120),
    "large": Size(vendors=120, invoices=2000, payments=500, kills=4, chaos_seconds=60, converge_timeout=900),
}


def _name(rng: random.Random, i: int) -> str:
    # Letters at random: no two vendors look alike to the matcher, so each is created, not linked.
    letters = "".join(rng.choice("bcdfghjklmnprstvwz") + rng.choice("aeiou") for _ in range(4))
    return f"{letters.title()} {rng.choice(WORDS).title()} {i}"


def seed_vendors(gp: Any, rng: random.Random, size: Size) -> set[str]:
    vendor_ids = set()
    for i in range(size.vendors):
        key = f"CHAOS{i:05d}"
        gp.insert_vendor(
            build_vendor(
                key,
                _name(rng, i),
                modified="2025-06-01T00:00:00Z",
                tax_id=f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}",
                address=build_address(
                    f"{rng.randint(1, 999)} {rng.choice(WORDS).title()} Rd",
                    "Fargo",
                    "ND",
                    f"{58000 + i:05d}",
                    phone=f"701555{i:04d}",
                    email=f"ap{i}@chaos{i}.example",
                ),
            )
        )
        vendor_ids.add(key)
    return vendor_ids


def invoices(rng: random.Random, size: Size) -> list[dict[str, Any]]:
    """Approved, posted invoices with one to three lines on the mapped accounts."""
    out = []
    for n in range(size.invoices):
        lines = [
            (rng.choice(ACCOUNTS), Decimal(rng.randint(100, 500000)) / 100) for _ in range(rng.randint(1, 3))
        ]
        total = sum((a for _, a in lines), Decimal(0))
        record = build_invoice(
            f"9{n:016d}",
            f"CHAOS{rng.randrange(size.vendors):05d}",
            modified="2025-06-01T00:00:00Z",
            date="2025-06-01",
            purchases=total,
            doc_number=f"CH-{n:06d}",
            description=f"Chaos {n}",
            purchase_lines=lines,
        )
        for name in ("ModifiedDate", "CreatedDate"):
            record.pop(name, None)  # GP stamps them when the invoice is entered
        out.append(record)
    return out


def wire(gp: Any, bill: Any) -> Any:
    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors.models import BillConnection, GPConnection, Tenant

    slug = f"chaos-{uuid.uuid4().hex[:8]}"
    tenant = Tenant.objects.create(
        name=f"Chaos {slug}",
        slug=slug,
        auto_create_vendors=True,
        default_checkbook_id="UPTOWN TRUST",
        post_payment_batches=True,
    )
    GPConnection.objects.create(
        tenant=tenant,
        base_url=gp.url,
        gp_tenant=gp.tenant,
        company=gp.company,
        domain=gp.domain,
        username=gp.user,
        password=gp.password,
        timeout_seconds=1,
    )
    c = bill.credentials
    BillConnection.objects.create(
        tenant=tenant,
        api_base_url=bill.api_url,
        webhook_api_base_url=bill.events_url,
        organization_id=c.org_id,
        username=c.username,
        password=c.password,
        dev_key=c.dev_key,
        timeout_seconds=1,
    )
    return Tenant.objects.select_related("gp_connection", "bill_connection").get(pk=tenant.pk)


def approve_accounts(tenant: Any) -> None:
    """Finance maps the GP accounts the invoices use (GL accounts are not what this run is about)."""
    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors import queue
    from connectors.sync.context import SyncContext
    from connectors.sync.suggest import ensure_account_suggestions
    from mappings.approval import approve
    from mappings.models import GLAccountMapping, MappingAction, MappingState

    saved, queue.RUN_INLINE = queue.RUN_INLINE, True
    try:
        ensure_account_suggestions(SyncContext.for_tenant(tenant), list(ACCOUNTS))
        for mapping in GLAccountMapping.objects.filter(tenant=tenant, state=MappingState.SUGGESTED):
            approve(mapping, None, create=mapping.action == MappingAction.CREATE)
    finally:
        queue.RUN_INLINE = saved


class Workers:
    """Worker processes; SIGKILLed and restarted on the run's seeded schedule."""

    def __init__(self, count: int, tenant_pk: int, env: dict[str, str], log_dir: Path) -> None:
        self.tenant_pk, self.env, self.log_dir = tenant_pk, env, log_dir
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * count
        self.kills = 0
        self.starts = 0
        for i in range(count):
            self.start(i)

    def start(self, i: int) -> None:
        self.starts += 1
        log = open(self.log_dir / f"worker-{i}-{self.starts}.log", "wb")  # noqa: SIM115 - the child owns it
        self.procs[i] = subprocess.Popen(
            [sys.executable, "-m", "bench._chaos_worker", str(self.tenant_pk)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            self.kills += 1
        self.start(i)

    def keep_alive(self) -> None:
        for i, proc in enumerate(self.procs):
            if proc is None or proc.poll() is not None:
                self.start(i)

    def stop(self) -> None:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            if proc is not None:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


class Finance:
    """What people do meanwhile: BILL pays bills (some two at once, some in part); vendors change in
    GP and in BILL (never the same vendor on both sides, which would be a conflict for a person)."""

    def __init__(self, rng: random.Random, gp: Any, bill: Any, vendor_ids: set[str]) -> None:
        self.rng, self.gp, self.bill = rng, gp, bill
        ids = sorted(vendor_ids)
        self.gp_side, self.bill_side = set(ids[0::4]), set(ids[1::4])
        self.payments = 0
        self.vendor_changes = 0

    def pay(self, want: int) -> None:
        store = self.bill.store
        with store.lock:
            open_bills = [
                b
                for b in store.bills.values()
                if not b.get("archived")
                and voucher_of(b).startswith("9")
                and b["dueAmount"] - b["scheduledAmount"] > 0
            ]
        self.rng.shuffle(open_bills)
        by_vendor: dict[str, list[dict[str, Any]]] = {}
        for b in open_bills:
            by_vendor.setdefault(b["vendorId"], []).append(b)
        for b in open_bills:
            if want <= 0:
                return
            roll = self.rng.random()
            siblings = [x for x in by_vendor[b["vendorId"]] if x["id"] != b["id"]]
            try:
                if roll < 0.15 and siblings:
                    self.bill.pay_bills([{"billId": b["id"]}, {"billId": siblings[0]["id"]}])
                elif roll < 0.3:
                    half = ((b["dueAmount"] - b["scheduledAmount"]) / 2).quantize(Decimal("0.01"))
                    self.bill.pay_bills(
                        [{"billId": b["id"], "amount": str(half)}] if half > 0 else [{"billId": b["id"]}]
                    )
                else:
                    self.bill.pay_bills([{"billId": b["id"]}])
            except Exception:  # noqa: BLE001 - a bill paid meanwhile by the two-bill payment: pick another
                continue
            self.payments += 1
            want -= 1

    def change_vendor(self, tenant: Any) -> None:
        # after django.setup(): a bench module is imported before it has chosen its database
        from audit.models import Kind, SyncRecord

        n = self.rng.randint(1000, 9999)
        if self.rng.random() < 0.5 and self.gp_side:
            key = self.rng.choice(sorted(self.gp_side))
            self.gp.update_vendor(
                key, Addresses=[{"Key": {"Id": "PRIMARY"}, "Email": f"ap{n}@changed.example"}]
            )
        else:
            linked = dict(
                SyncRecord.objects.filter(tenant=tenant, kind=Kind.VENDOR, source_key__in=self.bill_side)
                .exclude(target_id="")
                .values_list("source_key", "target_id")
            )
            if not linked:
                return
            target = linked[self.rng.choice(sorted(linked))]
            self.bill.store.patch_vendor(target, {"phone": f"701555{n}"})
        self.vendor_changes += 1


def voucher_of(bill: dict[str, Any]) -> str:
    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors.sync.gp_to_bill.bill_payload import voucher_from_description

    return voucher_from_description(bill.get("description")) or ""


def run(
    seed: int,
    size: Size,
    *,
    database_url: str,
    redis_url: str = "",
    rate: float = 0.05,
    log_dir: Path | None = None,
    say: Any = None,
    infra: Any = None,
) -> dict[str, Any]:
    """The whole run; Django must be set up on `database_url` (migrated). Returns the result line."""
    from django.db import DatabaseError, connection

    # after django.setup(): a bench module is imported before it has chosen its database
    from bench._chaos_check import check, converged
    from connectors import queue

    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    connection.close()  # a previous seed may have killed the database under this connection
    rng = random.Random(seed)
    log_dir = log_dir or ROOT / "var" / "chaos" / f"seed-{seed}-{size.invoices}"
    log_dir.mkdir(parents=True, exist_ok=True)
    gp = start_gp_sandbox(seed="small")
    bill = start_bill_sandbox(
        seed="small",
        org_id="00802C" + uuid.uuid4().hex[:14].upper(),
        webhook_retry_scale=0.01,
        webhook_timeout=5.0,
        allow_http_webhooks=True,
        shuffle_bulk_answers=True,
        dev_key="01C" + uuid.uuid4().hex.upper(),
    )  # a key per run: its hour is its own
    django_server, django_url = serve_django()
    relay: Relay | None = None
    workers: Workers | None = None
    disturber: Disturber | None = None
    saved_inline, queue.RUN_INLINE = queue.RUN_INLINE, False  # the workers run the tasks, not this process
    try:
        vendor_ids = seed_vendors(gp, rng, size)
        to_enter = invoices(rng, size)
        vouchers = {r["Key"]["Id"] for r in to_enter}
        for record in to_enter[: len(to_enter) // 4]:  # a quarter is there before the first run
            gp.insert_invoice(record)
        to_enter = to_enter[len(to_enter) // 4 :]
        per_tick = max(1, -(-len(to_enter) * 2 // int(size.chaos_seconds * 2)))  # all in by mid-phase
        tenant = wire(gp, bill)
        relay = Relay(seed, f"{django_url}/webhooks/bill/{tenant.slug}/")
        tenant = wire_subscription(tenant, bill, relay.url)
        approve_accounts(tenant)
        say(f"chaos seed {seed}: {len(vendor_ids)} vendors, {len(vouchers)} invoices, tenant {tenant.slug}")

        plan = CountingFaultPlan(seed)
        plan.latency_ms, plan.timeout_seconds = 5, 1.5
        gp.server.faults = plan
        plan.set(["5xx", "timeout", "reset", "lock"], rate=rate)
        gp_after = GPAfterCommit(seed, rate * 2, hold_seconds=1.5)
        gp_after.install(gp)
        bill_faults = BillRateFaults(seed, rate, hold_seconds=1.5)
        bill.app.faults = bill_faults  # type: ignore[assignment]
        disturber = Disturber(seed, gp, bill)
        disturber.start()

        # The sign-in cool-down shrinks with the retries: a worker killed mid-sign-in must not hold the rest a
        # minute.
        # Connections time out after 1 s, so a 4 s settle window is longer than the client's timeout and
        # longer than BILL's late commits here (≤ 2.5 s after the request).
        env = child_env(
            database_url,
            redis_url,
            SYNC_RETRY_SCALE="0.005",
            LEDGER_DEAD_WRITER_GRACE_SECONDS="1",
            BILL_LOGIN_COOLDOWN_SECONDS="1",
            LEDGER_SETTLE_SECONDS="4",
        )
        workers = Workers(size.workers, tenant.pk, env, log_dir)
        finance = Finance(rng, gp, bill, vendor_ids)
        started = time.monotonic()
        kill_at = sorted(started + rng.uniform(1.0, size.chaos_seconds) for _ in range(size.kills))
        if infra is not None:
            infra.plan(rng, started, size.chaos_seconds)
        while (
            time.monotonic() - started < size.chaos_seconds
            or kill_at
            or finance.payments < size.payments
            or (infra is not None and infra.pending())
        ):
            now = time.monotonic()
            if infra is not None:
                infra.fire_due(now)
            for record in to_enter[:per_tick]:  # clerks keep entering and approving invoices in GP
                gp.insert_invoice(record)
            to_enter = to_enter[per_tick:]
            if kill_at and now >= kill_at[0]:
                kill_at.pop(0)
                workers.kill(rng.randrange(size.workers))
            if finance.payments < size.payments:
                finance.pay(max(1, size.payments // max(1, int(size.chaos_seconds / 0.5))))
            if rng.random() < 0.3:
                try:
                    finance.change_vendor(tenant)
                except DatabaseError:  # our own database was just killed: the clerk tries again later
                    connection.close()
            workers.keep_alive()
            if now - started > size.chaos_seconds + size.converge_timeout:
                break  # bills never reached BILL to be paid: the check will say what is missing
            time.sleep(0.5)
        chaos_seconds = time.monotonic() - started
        say(
            f"chaos phase over after {chaos_seconds:.0f} s: {workers.kills} kills, {finance.payments} "
            f"payments"
        )

        # Calm: no more faults; the system must now converge by itself.
        plan.clear()
        gp_after.rate = 0.0
        bill_faults.clear()
        disturber.stop()
        relay.calm()
        calm = time.monotonic()
        result: dict[str, Any] = {}
        while time.monotonic() - calm < size.converge_timeout:
            workers.keep_alive()
            time.sleep(2)
            if relay.pending():
                continue
            try:
                result = check(tenant, vouchers, vendor_ids)
            except DatabaseError:
                connection.close()
                continue
            if converged(result):
                break
        converge_seconds = time.monotonic() - calm
        workers.stop()
        result = check(tenant, vouchers, vendor_ids)
        faults = Counter({f"gp_{k}": v for k, v in plan.injected.items()})
        faults.update({f"gp_{k}": v for k, v in gp_after.injected.items()})
        faults.update({f"bill_{k}": v for k, v in bill_faults.injected.items()})
        faults.update(disturber.done)
        refused = Counter()
        for org in bill.app.limits.snapshot().values():
            refused.update(org["refused"])
        faults.update({f"bill_refused_{k}": v for k, v in refused.items()})
        faults.update(
            {f"webhook_{k}": relay.counts[k] for k in ("dropped", "repeated", "delayed", "reordered")}
        )
        if infra is not None:
            faults.update(infra.done)
        return {
            "seed": seed,
            "size": {"vendors": size.vendors, "invoices": size.invoices, "payments": size.payments},
            "faults": dict(sorted(faults.items())),
            "kills": workers.kills,
            "records": result["records"],
            "invoices": result["invoices"],
            "bills": result["bills"],
            "payments": result["payments"],
            "gp_payments_applied": result["gp_payments_applied"],
            "vendor_changes": finance.vendor_changes,
            "duplicates": result["duplicates"],
            "lost": result["lost"],
            "converged": converged(result),
            "chaos_seconds": round(chaos_seconds, 1),
            "converge_seconds": round(converge_seconds, 1),
            "checks": {k: v for k, v in result.items() if k not in ("states", "examples")},
            "states": result["states"],
            "examples": result["examples"],
            "database": "postgresql" if database_url.startswith("postgres") else "sqlite",
            "redis": bool(redis_url),
        }
    finally:
        queue.RUN_INLINE = saved_inline
        _retire(locals().get("tenant"))
        if workers:
            workers.stop()
        if disturber:
            disturber.stop()
        if relay:
            relay.stop()
        django_server.shutdown()
        django_server.server_close()
        bill.stop()
        gp.stop()


def _retire(tenant: Any) -> None:
    """A finished run's tenant goes inactive: seeds of one sweep share a developer key, and BILL's
    hourly budget is shared fairly among the key's active orgs, so twenty finished runs would otherwise
    leave the twenty-first a twentieth of the hour."""
    from django.db import DatabaseError

    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors.models import Tenant

    if tenant is None:
        return
    try:
        Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    except DatabaseError:
        pass


def wire_subscription(tenant: Any, bill: Any, relay_url: str) -> Any:
    # after django.setup(): a bench module is imported before it has chosen its database
    from connectors.models import Tenant

    conn = tenant.bill_connection
    sub = bill.app.hub.create(
        {
            "name": "chaos",
            "notificationUrl": relay_url,
            "events": [
                {"type": t} for t in ("payment.updated", "payment.failed", "vendor.updated", "bill.updated")
            ],
        }
    )
    conn.webhook_subscription_id, conn.webhook_security_key = sub["id"], sub["securityKey"]
    conn.save()
    return Tenant.objects.select_related("gp_connection", "bill_connection").get(pk=tenant.pk)


def seed_list(text: str) -> list[int]:
    """`7`, `1-20` or `3,5,9-11`."""
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        seeds.extend(range(int(first), int(last or first) + 1))
    return seeds


def main(argv: list[str]) -> int:
    parser = _env.bench_parser("chaos", __doc__.splitlines()[0], cpu_hog=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--seeds", type=seed_list, help="several runs, e.g. 1-20 or 3,5,9-11 (overrides --seed)"
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--rate", type=float, default=0.05, help="share of requests that fail (default 0.05)")
    parser.add_argument(
        "--shared-services",
        action="store_true",
        help="PostgreSQL on 127.0.0.1:5432 and Redis db 13 instead of the run's own (no infra faults)",
    )
    args = parser.parse_args(argv)
    seeds = args.seeds or [args.seed]
    own_pg = own_redis = None
    hog = CpuHog(args.cpu_hog) if args.cpu_hog else None
    try:
        # A database and Redis of its own: other benchmarks drop theirs and flush theirs when they start.
        if not os.environ.get("BENCH_DATABASE_URL"):
            use_pg = args.db == "postgres" or (args.db == "auto" and _env.reachable("127.0.0.1", 5432))
            if use_pg and not args.shared_services:
                own_pg = OwnPostgres()
                os.environ["BENCH_DATABASE_URL"] = own_pg.url
            elif use_pg:
                os.environ["BENCH_DATABASE_URL"] = _env.PG_URL.rsplit("/", 1)[0] + "/mlconnector_chaos"
            else:
                os.environ["BENCH_DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'chaos.sqlite3'}"
        # Redis goes with PostgreSQL (the production pair); SQLite runs zero-config, without it.
        if not args.no_redis and not os.environ.get("BENCH_REDIS_URL"):
            if args.shared_services:
                os.environ["BENCH_REDIS_URL"] = "redis://127.0.0.1:6379/13"
            elif own_pg is not None:
                own_redis = OwnRedis()
                os.environ["BENCH_REDIS_URL"] = own_redis.url
            else:
                args.no_redis = True
        env = _env.setup(args)
        infra = InfraFaults(own_pg, own_redis) if (own_pg or own_redis) else None
        results = []
        for seed in seeds:
            result = run(
                seed,
                SIZES[args.size],
                database_url=env["database_url"],
                redis_url=env["redis_url"],
                rate=args.rate,
                infra=infra,
            )
            result["size"]["name"] = args.size
            result["cpu_hog"] = args.cpu_hog
            print(json.dumps(result, default=str), flush=True)
            results.append(result)
        ok = [r for r in results if r["converged"] and r["duplicates"] == 0 and r["lost"] == 0]
        if len(seeds) > 1:
            print(
                json.dumps(
                    {
                        "seeds": f"{seeds[0]}-{seeds[-1]}"
                        if seeds == list(range(seeds[0], seeds[-1] + 1))
                        else seeds,
                        "runs": len(results),
                        "clean": len(ok),
                        "failed_seeds": [r["seed"] for r in results if r not in ok],
                        "duplicates": sum(r["duplicates"] for r in results),
                        "lost": sum(r["lost"] for r in results),
                        "converged": sum(1 for r in results if r["converged"]),
                        "converge_seconds_max": max(r["converge_seconds"] for r in results),
                        "kills": sum(r["kills"] for r in results),
                        "infra_faults": {
                            k: sum(r["faults"].get(k, 0) for r in results)
                            for k in ("postgres_killed", "redis_killed", "redis_flushed")
                        },
                        "size": args.size,
                        "cpu_hog": args.cpu_hog,
                        "database": results[0]["database"],
                        "redis": results[0]["redis"],
                        "own_services": bool(own_pg or own_redis),
                    }
                ),
                flush=True,
            )
        return 0 if len(ok) == len(results) else 1
    finally:
        for thing in (hog, own_redis, own_pg):
            if thing is not None:
                thing.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""BILL sandbox fixtures: a real BILL v3 sandbox on a free loopback port (a thread, real HTTP).

- `bill_sandbox_factory(**options)`: start a sandbox with any `start_bill_sandbox` option
  (session_ttl, latency_ms, per_item_ms, rate_limit_status, duplicate_invoice_check, seed, ...);
  all started ones are stopped after the test.
- `bill_sandbox`: one with the defaults below (seed "small", webhook retries scaled to 1/100 s, bulk
  creates answered in shuffled order, and a fresh organization ID per sandbox so gate counters never
  leak between tests).
  The handle: `.api_url` (…/connect), `.events_url` (…/connect-events), `.control_url`,
  `.credentials` (username, password, org_id, dev_key), and control helpers `.pay_bills([{billId,
  amount?}], status="PAID")`, `.set_payment_status(id, status)`, `.void_payment(id)`,
  `.expire_sessions()`, `.add_fault(kind, count=1, methods=(), path_contains="")`, `.clear_faults()`,
  `.set_latency(ms, per_item_ms)`, `.hold_slots(n, seconds)`, `.configure(**settings)`, `.stats()`,
  `.reset_stats()`, `.security_key(subscription_id)`, `.wait_for_webhooks()`, `.store` (the data).
- `bill_connection`: the `tenant` fixture's BillConnection wired to `bill_sandbox` (timeout 5 s).
- `bill_client`: a `BillClient` for `bill_connection` with fast backoff (milliseconds, not seconds).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox.bill import BillSandbox, start_bill_sandbox

# The live test server is plain http: the sandbox's development flag lets it deliver there (BILL: https only).
# Nested objects in a PATCH are replaced, not merged (the sandbox's default, as BILL may do).
# Bulk creates are answered in shuffled order: BILL documents no order, so the suite must not rely on one.
TEST_DEFAULTS: dict[str, Any] = {
    "webhook_retry_scale": 0.01,
    "webhook_timeout": 2.0,
    "allow_http_webhooks": True,
    "shuffle_bulk_answers": True,
}


@pytest.fixture
def bill_sandbox_factory() -> Iterator[Callable[..., BillSandbox]]:
    started: list[BillSandbox] = []

    def start(**options: Any) -> BillSandbox:
        # A fresh org ID and developer key per sandbox keep the gate's Redis keys and hourly counts (per org,
        # and per developer key) apart between tests and runs; pass dev_key= for orgs that share one.
        org_id = "00802T" + uuid.uuid4().hex[:14].upper()
        dev_key = "01T" + uuid.uuid4().hex.upper()
        sandbox = start_bill_sandbox(**{**TEST_DEFAULTS, "org_id": org_id, "dev_key": dev_key, **options})
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def bill_sandbox(bill_sandbox_factory: Callable[..., BillSandbox]) -> BillSandbox:
    return bill_sandbox_factory()


def wire_bill_connection(tenant: Any, sandbox: BillSandbox, **overrides: Any) -> Any:
    """Create (or repoint) the tenant's BillConnection at `sandbox`, with its credentials."""
    from connectors.models import BillConnection

    c = sandbox.credentials
    fields = {
        "api_base_url": sandbox.api_url,
        "webhook_api_base_url": sandbox.events_url,
        "organization_id": c.org_id,
        "username": c.username,
        "password": c.password,
        "dev_key": c.dev_key,
        "timeout_seconds": 5,
        **overrides,
    }
    conn, _ = BillConnection.objects.update_or_create(tenant=tenant, defaults=fields)
    return conn


@pytest.fixture
def bill_connection(tenant: Any, bill_sandbox: BillSandbox) -> Any:
    return wire_bill_connection(tenant, bill_sandbox)


def fast_backoff() -> Any:
    from connectors.bill.http import Backoff

    return Backoff(base=0.01, cap=0.2, attempts=8)


@pytest.fixture
def bill_client(bill_connection: Any) -> Any:
    from connectors.bill.client import BillClient

    return BillClient.for_connection(bill_connection, backoff=fast_backoff())

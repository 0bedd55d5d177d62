"""GP sandbox fixtures: a real GP SBA sandbox (NTLM, HTTP/1.1 keep-alive) on a free loopback port.

One server per test session (plain HTTP, and one with TLS when asked for); each test gets it reset to
the `small` seed with no faults, no latency, no locks, the real clock and zeroed counts.

- `gp_sandbox`: the `sandbox.gp.server.GPSandbox` handle: `.url` (= `.base_url`), `.tenant`, `.company`,
  `.domain`, `.user`, `.account` (DOMAIN\\user), `.password`, `.company_url()`, `.ca_pem` (TLS only),
  `.stats()`, `.reset_stats()`, `.reset(seed)`, `.set_latency(ms)`, `.set_faults(kinds, rate=1.0,
  count=None, methods=(), path_contains="", timeout_seconds=None)`, `.clear_faults()`,
  `.update_vendor(id, **fields)`, `.insert_vendor({...})`, `.update_invoice(voucher, **fields)`,
  `.insert_invoice({...})`, `.void_invoice(v)`, `.post_invoice(v)`, `.lock(resource, key)`,
  `.set_clock(now=None, advance_seconds=0)`, `.data()` (the company's tables and rules).
  Its second company is `GP_ODD_COMPANY` (parentheses, non-ASCII); `GP_UNMAPPED_ACCOUNT` is a known
  Windows user mapped to no company.
- `gp_tls_sandbox`: the same over HTTPS with a self-signed certificate (`.ca_pem`).
- `gp_connection`: the `tenant` fixture's GPConnection wired to `gp_sandbox` (timeout 5 s).
- `gp_client`: a `GPClient` for `gp_connection` that does not sleep between retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.gp.server import GPSandbox, start_gp_sandbox

GP_ODD_COMPANY = "Compañía (Pruebas) S.A."
GP_UNMAPPED_ACCOUNT = "CORP\\unmapped"
GP_UNMAPPED_PASSWORD = "no-company"


def _start(tls: bool) -> GPSandbox:
    return start_gp_sandbox(
        tls=tls, extra_companies=(GP_ODD_COMPANY,), extra_users={GP_UNMAPPED_ACCOUNT: GP_UNMAPPED_PASSWORD}
    )


@pytest.fixture(scope="session")
def gp_sandbox_server() -> Iterator[GPSandbox]:
    sandbox = _start(tls=False)
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="session")
def gp_tls_sandbox_server() -> Iterator[GPSandbox]:
    sandbox = _start(tls=True)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def gp_sandbox(gp_sandbox_server: GPSandbox) -> GPSandbox:
    gp_sandbox_server.reset("small")
    return gp_sandbox_server


@pytest.fixture
def gp_tls_sandbox(gp_tls_sandbox_server: GPSandbox) -> GPSandbox:
    gp_tls_sandbox_server.reset("small")
    return gp_tls_sandbox_server


def wire_gp_connection(tenant: Any, sandbox: GPSandbox, **overrides: Any) -> Any:
    """Create (or repoint) the tenant's GPConnection at `sandbox`, with its credentials."""
    from connectors.models import GPConnection

    fields = {
        "base_url": sandbox.url,
        "gp_tenant": sandbox.tenant,
        "company": sandbox.company,
        "domain": sandbox.domain,
        "username": sandbox.user,
        "password": sandbox.password,
        "verify_tls": True,
        "ca_bundle_pem": (sandbox.ca_pem or b"").decode(),
        "timeout_seconds": 5,
        **overrides,
    }
    conn, _ = GPConnection.objects.update_or_create(tenant=tenant, defaults=fields)
    return conn


@pytest.fixture
def gp_connection(tenant: Any, gp_sandbox: GPSandbox) -> Any:
    return wire_gp_connection(tenant, gp_sandbox)


@pytest.fixture
def gp_client(gp_connection: Any) -> Iterator[Any]:
    from connectors.gp.client import GPClient

    client = GPClient.for_connection(gp_connection, sleep=lambda seconds: None)
    yield client
    client.close()

"""GP Web Services fixtures: the SOAP sandbox serving the SBA sandbox's company (one GP, two interfaces).

- `gp_ws_sandbox`: a `sandbox.gp_ws.server.GPWSSandbox` sharing `gp_sandbox`'s data and users (reset to
  `small` by `gp_sandbox`); `.url` is the .asmx endpoint; faults and latency are its own.
- `gp_interface`: "sba" or "web_services" — tests that take `gp_any` run once over each.
- `gp_any_connection`: the tenant's GPConnection set to that interface (Web Services URL filled in).
- `gp_any`: the client `gp_client_for` picks for it, not sleeping between retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.gp.server import GPSandbox
from sandbox.gp_ws.server import GPWSSandbox, start_gp_ws_sandbox
from tests.fixtures_gp import wire_gp_connection


@pytest.fixture(scope="session")
def gp_ws_sandbox_server(gp_sandbox_server: GPSandbox) -> Iterator[GPWSSandbox]:
    sandbox = start_gp_ws_sandbox(share=gp_sandbox_server)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def gp_ws_sandbox(gp_sandbox: GPSandbox, gp_ws_sandbox_server: GPWSSandbox) -> GPWSSandbox:
    gp_ws_sandbox_server.clear_faults()
    gp_ws_sandbox_server.set_latency(0)
    return gp_ws_sandbox_server


def wire_gp_interface(
    tenant: Any, sandbox: GPSandbox, ws: GPWSSandbox, interface: str, **overrides: Any
) -> Any:
    return wire_gp_connection(tenant, sandbox, interface=interface, web_services_url=ws.url, **overrides)


@pytest.fixture(params=["sba", "web_services"])
def gp_interface(request: Any) -> str:
    return request.param


@pytest.fixture
def gp_any_connection(
    tenant: Any, gp_sandbox: GPSandbox, gp_ws_sandbox: GPWSSandbox, gp_interface: str
) -> Any:
    return wire_gp_interface(tenant, gp_sandbox, gp_ws_sandbox, gp_interface)


@pytest.fixture
def gp_any(gp_any_connection: Any) -> Iterator[Any]:
    from connectors.gp.transport import gp_client_for

    client = gp_client_for(gp_any_connection, sleep=lambda seconds: None)
    yield client
    client.close()

"""The relay end to end on loopback: the connector's real WSGI app serving `/agent/...`, real agents
(in threads, or as a separate process) talking to it over HTTP, and the GP sandbox reachable only by
the agents (the GP connection's own URL is a name that does not resolve)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.relay.local import agent_config, route_through_agent, serve_django
from tests.fixtures_gp import wire_gp_connection


@pytest.fixture(scope="session")
def connector_url() -> Iterator[str]:
    server, url = serve_django()
    yield url
    server.shutdown()


@pytest.fixture
def through_agent(transactional_db, tenant, gp_sandbox) -> Any:
    """The tenant's GP connection in "through agent" mode, with no GP address or password of its own."""
    conn = wire_gp_connection(tenant, gp_sandbox, timeout_seconds=20)
    route_through_agent(conn)
    tenant.refresh_from_db()
    return tenant.gp_connection


@pytest.fixture
def token(through_agent) -> str:
    from connectors.relay.tokens import issue

    return issue(through_agent.tenant, "GP server room")[1]


@pytest.fixture
def start_agent(connector_url, gp_sandbox, tmp_path) -> Iterator[Callable[..., Any]]:
    """Start an agent in a thread: `start_agent(token, journal="a")`. Stopped after the test."""
    from connectors.agent_client.worker import Agent

    agents: list[Any] = []

    def start(token: str, journal: str = "agent", run: bool = True, **options: Any) -> Any:
        config = agent_config(
            connector_url,
            token,
            gp_sandbox,
            str(tmp_path / f"{journal}.sqlite3"),
            idle_max_seconds=0.2,
            **options,
        )
        agent = Agent(config)
        agents.append(agent)
        if run:
            agent.start_in_thread()
        return agent

    yield start
    for agent in agents:
        agent.stop()


@pytest.fixture
def agent_process(connector_url, gp_sandbox, tmp_path) -> Iterator[Callable[[str], subprocess.Popen]]:
    """Start the agent as its own process (`python -m connectors.agent_client`), killed after the test."""
    processes: list[subprocess.Popen] = []

    def start(token: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "MLC_AGENT_CONNECTOR_URL": connector_url,
            "MLC_AGENT_TOKEN": token,
            "MLC_AGENT_GP_URL": gp_sandbox.url,
            "MLC_AGENT_GP_ACCOUNT": gp_sandbox.account,
            "MLC_AGENT_GP_PASSWORD": gp_sandbox.password,
            "MLC_AGENT_JOURNAL": str(tmp_path / "proc.sqlite3"),
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "connectors.agent_client"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()


def wait_until(predicate: Callable[[], Any], seconds: float = 30.0) -> Any:
    """Poll a condition (a state in the database, not a duration): busy machines only make it slower."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")

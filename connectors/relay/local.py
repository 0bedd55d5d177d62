"""Running the relay on one machine: the connector's WSGI app on a loopback port and an agent next to
a GP (sandbox). Used by `manage.py demo --gp-via-agent`, the agent benchmark and the tests; in
production the app runs under gunicorn and the agent on the customer's machine."""

from __future__ import annotations

import threading
from typing import Any

from connectors.agent_client.worker import Agent, AgentConfig

from .tokens import issue

UNREACHABLE_GP_URL = "https://gp.behind-the-customer-firewall.invalid"
UNREACHABLE_GP_WS_URL = UNREACHABLE_GP_URL + "/DynamicsGPWebServices/DynamicsGPService.asmx"


def serve_django() -> tuple[Any, str]:
    """The project's WSGI application on a free loopback port, in daemon threads."""
    from django.core.servers.basehttp import (
        ThreadedWSGIServer,
        WSGIRequestHandler,
        get_internal_wsgi_application,
    )

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=True)
    server.daemon_threads = True
    server.set_app(get_internal_wsgi_application())
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="django-wsgi"
    ).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def route_through_agent(conn: Any) -> None:
    """Point a GP connection at its agents only: no GP address the connector could reach, no password."""
    conn.route, conn.base_url, conn.password = conn.ROUTE_AGENT, UNREACHABLE_GP_URL, ""
    if conn.web_services_url:
        conn.web_services_url = UNREACHABLE_GP_WS_URL
    conn.save()


def agent_config(connector_url: str, token: str, gp: Any, journal_path: str, **options: Any) -> Any:
    """An AgentConfig for a GP sandbox handle (its URL, account, password and CA)."""
    return AgentConfig(
        connector_url=connector_url,
        token=token,
        gp_url=gp.url,
        gp_account=gp.account,
        gp_password=gp.password,
        journal_path=journal_path,
        **options,
    )


class AgentOnThisMachine:
    """The demo's stand-in for the customer's side: the connector's app served on loopback and one
    agent (in a thread, its journal in a temporary folder) that alone can reach the GP sandbox."""

    def __init__(self, tenant: Any, gp: Any) -> None:
        import tempfile

        self.server, url = serve_django()
        route_through_agent(tenant.gp_connection)
        self._dir = tempfile.TemporaryDirectory(prefix="mlc-agent-")
        token = issue(tenant, "demo agent")[1]
        self.agent = Agent(agent_config(url, token, gp, f"{self._dir.name}/journal.sqlite3"))
        self.agent.start_in_thread()

    def stop(self) -> None:
        self.agent.stop()
        self.server.shutdown()
        self._dir.cleanup()

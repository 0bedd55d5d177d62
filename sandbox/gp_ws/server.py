"""Start a GP Web Services sandbox in this process; with `share=` it serves the SBA sandbox's companies."""

from __future__ import annotations

from typing import Any

from spnego.channel_bindings import GssChannelBindings

from sandbox.common.httpserver import SandboxServer, serve_in_thread
from sandbox.common.tls import make_self_signed_cert
from sandbox.gp.app import GPApp
from sandbox.gp.auth import GPUser, split_account
from sandbox.gp.company import GPCompany
from sandbox.gp.server import DEFAULT_COMPANY, DEFAULT_PASSWORD, DEFAULT_TENANT, DEFAULT_USER, GPSandbox

from .handler import GPWSHandler
from .importer import import_manual_payments
from .service import Service

PATH = "/DynamicsGPWebServices/DynamicsGPService.asmx"


class GPWSSandbox:
    """A running Web Services sandbox; `url` is the .asmx endpoint, control methods as the SBA handle's."""

    def __init__(
        self, app: GPApp, server: SandboxServer, account: str, password: str, ca_pem: bytes | None
    ) -> None:
        self.app, self.server = app, server
        self._running = serve_in_thread(server, name="gp-ws-sandbox")
        self.account, self.password, self.ca_pem = account, password, ca_pem
        self.domain, self.user = split_account(account)
        self.tenant, self.company = app.tenant, app.company_names[0]

    @property
    def url(self) -> str:
        return self.server.url + PATH

    @property
    def base_url(self) -> str:
        return self.server.url

    def company_url(self, company: str | None = None) -> str:
        return f"{self.url} (company {company or self.company!r})"

    def stop(self) -> None:
        self._running.stop()

    def __enter__(self) -> GPWSSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def data(self, company: str | None = None) -> GPCompany:
        return self.app.company(company)

    def stats(self) -> dict[str, Any]:
        return {"requests": self.server.stats.snapshot(), "faults": self.server.faults.describe()}

    def set_faults(
        self,
        kinds: list[str] | str,
        rate: float = 1.0,
        count: int | None = None,
        methods: tuple[str, ...] = (),
        path_contains: str = "",
        timeout_seconds: float | None = None,
    ) -> None:
        self.server.faults.set(kinds, rate, count, methods, path_contains)
        if timeout_seconds is not None:
            self.server.faults.timeout_seconds = float(timeout_seconds)

    def clear_faults(self) -> None:
        self.server.faults.clear()

    def set_latency(self, ms: int) -> None:
        self.server.faults.latency_ms = max(0, int(ms))

    def lock(self, resource: str, key: str, locked: bool = True, company: str | None = None) -> None:
        self.data(company).set_lock(resource, key, locked)

    def import_manual_payments(self, csv_text: str, company: str | None = None) -> dict[str, Any]:
        """What a GP user does with the connector's file: import it and post the batch."""
        return import_manual_payments(self.data(company), csv_text)


def start_gp_ws_sandbox(
    host: str = "127.0.0.1",
    port: int = 0,
    seed: str = "small",
    latency_ms: int = 0,
    fault_rate: float = 0.0,
    fault_kinds: tuple[str, ...] = ("5xx", "timeout", "reset", "lock"),
    user: str = DEFAULT_USER,
    password: str = DEFAULT_PASSWORD,
    tls: bool = False,
    company: str = DEFAULT_COMPANY,
    extra_companies: tuple[str, ...] = (),
    tenant: str = DEFAULT_TENANT,
    extra_users: dict[str, str] | None = None,
    share: GPSandbox | None = None,
    verbose: bool = False,
) -> GPWSSandbox:
    """Serve the legacy endpoint on a real socket (port 0: a free one), as GP's own service host does on
    48620.

    With `share`, the companies, users and data are the SBA sandbox's (one GP server, two interfaces);
    otherwise a Web-Services-only GP with its own seed.
    """
    cert = make_self_signed_cert(hosts=("localhost", "127.0.0.1", "::1", host)) if tls else None
    bindings = (
        GssChannelBindings(application_data=b"tls-server-end-point:" + cert.end_point_hash) if cert else None
    )
    if share is not None:
        app = share.app
        user, password = share.account, share.password
    else:
        users = [GPUser(user, password, None)] + [GPUser(a, p, set()) for a, p in (extra_users or {}).items()]
        app = GPApp(tenant, [company, *extra_companies], users, seed, bindings)
        app.company()
    server = SandboxServer(
        (host, port), GPWSHandler, ssl_context=cert.server_context() if cert else None, verbose=verbose
    )
    server.app = app  # type: ignore[attr-defined]
    server.service = Service()  # type: ignore[attr-defined]
    server.channel_bindings = bindings  # type: ignore[attr-defined]
    if share is None:
        app.server = server
    server.faults.latency_ms = latency_ms
    if fault_rate:
        server.faults.set(fault_kinds, rate=fault_rate)
    return GPWSSandbox(app, server, user, password, cert.cert_pem if cert else None)

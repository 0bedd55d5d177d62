"""Start a GP SBA sandbox in this process: `start_gp_sandbox(...)` returns a `GPSandbox` handle with the
URL, the credentials, the CA certificate (with TLS) and control methods (same as `/_sandbox/`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from spnego.channel_bindings import GssChannelBindings

from sandbox.common.httpserver import SandboxServer, serve_in_thread
from sandbox.common.tls import make_self_signed_cert

from .app import GPApp
from .auth import GPUser, split_account
from .company import GPCompany
from .handler import GPHandler

DEFAULT_USER = "CORP\\svc-gp"
DEFAULT_PASSWORD = "gp-sandbox"
DEFAULT_COMPANY = "Fabrikam, Inc."
DEFAULT_TENANT = "DefaultTenant"


class GPSandbox:
    """A running GP sandbox. Control methods act on the first company unless `company=` is given."""

    def __init__(
        self, app: GPApp, server: SandboxServer, account: str, password: str, ca_pem: bytes | None
    ) -> None:
        self.app, self.server = app, server
        self._running = serve_in_thread(server, name="gp-sandbox")
        self.account, self.password, self.ca_pem = account, password, ca_pem
        self.domain, self.user = split_account(account)
        self.tenant, self.company = app.tenant, app.company_names[0]

    @property
    def url(self) -> str:
        """Scheme, host and port: the `base_url` of a GPConnection."""
        return self.server.url

    base_url = url

    def company_url(self, company: str | None = None) -> str:
        """The Part B base for a company, company name percent-encoded."""
        name = quote(company or self.company, safe="")
        return f"{self.url}/GPService/Tenants({self.tenant})/Companies({name})/"

    def stop(self) -> None:
        self._running.stop()

    def __enter__(self) -> GPSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- control (the in-process twin of /_sandbox/) -----------------------------------------------
    def data(self, company: str | None = None) -> GPCompany:
        return self.app.company(company)

    def stats(self, company: str | None = None) -> dict[str, Any]:
        return self.app.stats(company)

    def reset_stats(self) -> None:
        self.server.stats.reset()

    def reset(self, seed: str | None = None) -> None:
        self.app.reset(seed)

    def set_latency(self, ms: int) -> None:
        self.app.set_latency(ms)

    def set_variant(self, **changes: str) -> dict[str, str]:
        """Differ from Part B (see sandbox.gp.variants): stamps, lists, vendor_status, … `reset` undoes."""
        return self.app.set_variant(**changes)

    def set_faults(
        self,
        kinds: list[str] | str,
        rate: float = 1.0,
        count: int | None = None,
        methods: tuple[str, ...] = (),
        path_contains: str = "",
        timeout_seconds: float | None = None,
    ) -> None:
        self.app.set_faults(kinds, rate, count, methods, path_contains, timeout_seconds)

    def clear_faults(self) -> None:
        self.app.clear_faults()

    def add_user(self, account: str, password: str, companies: list[str] | None = None) -> None:
        self.app.add_user(account, password, companies)

    def update_vendor(self, vendor_id: str, company: str | None = None, **fields: Any) -> dict[str, Any]:
        return self.data(company).change("Vendors", vendor_id, fields)

    def insert_vendor(self, fields: dict[str, Any], company: str | None = None) -> dict[str, Any]:
        return self.data(company).create_vendor(fields)

    def update_invoice(self, voucher: str, company: str | None = None, **fields: Any) -> dict[str, Any]:
        return self.data(company).change("PayablesInvoices", voucher, fields)

    def insert_invoice(self, fields: dict[str, Any], company: str | None = None) -> dict[str, Any]:
        return self.data(company).insert_invoice(fields)

    def void_invoice(self, voucher: str, company: str | None = None) -> dict[str, Any]:
        return self.data(company).void_invoice(voucher)

    def apply_to_invoice(
        self, voucher: str, amount: Any, document: str = "", kind: str = "check", company: str | None = None
    ) -> dict[str, Any]:
        """A clerk's check or credit memo applied to the voucher in GP, outside BILL."""
        return self.data(company).apply_outside(voucher, amount, document, kind)

    def post_invoice(self, voucher: str, company: str | None = None) -> dict[str, Any]:
        return self.data(company).post_invoice(voucher)

    def lock(self, resource: str, key: str, locked: bool = True, company: str | None = None) -> None:
        self.data(company).set_lock(resource, key, locked)

    def set_clock(
        self, now: str | None = None, advance_seconds: float = 0, company: str | None = None
    ) -> str:
        return self.data(company).set_clock(now, advance_seconds)


def start_gp_sandbox(
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
    verbose: bool = False,
) -> GPSandbox:
    """Serve Part B on a real socket in a background thread (port 0: a free port).

    `extra_users` are known Windows accounts mapped to no company (they get 403), for tests and demos.
    With `tls`, a self-signed certificate is made now; `handle.ca_pem` is what a client must trust.
    """
    cert = make_self_signed_cert(hosts=("localhost", "127.0.0.1", "::1", host)) if tls else None
    bindings = (
        GssChannelBindings(application_data=b"tls-server-end-point:" + cert.end_point_hash) if cert else None
    )
    users = [GPUser(user, password, None)] + [GPUser(a, p, set()) for a, p in (extra_users or {}).items()]
    app = GPApp(tenant, [company, *extra_companies], users, seed, bindings)
    app.company()  # build the seed now, not on the first request
    server = SandboxServer(
        (host, port), GPHandler, ssl_context=cert.server_context() if cert else None, verbose=verbose
    )
    server.app = app  # type: ignore[attr-defined]
    app.server = server
    server.faults.latency_ms = latency_ms
    if fault_rate:
        server.faults.set(fault_kinds, rate=fault_rate)
    return GPSandbox(app, server, user, password, cert.cert_pem if cert else None)

"""The state of one running GP sandbox: tenant, companies, users and their company access, and the
control operations (faults, latency, reset, stats) that both the handle and `/_sandbox/` expose."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from spnego.channel_bindings import GssChannelBindings

from .auth import GPUser, canonical, register_users
from .company import GPCompany
from .store import GPFault
from .variants import Variant

if TYPE_CHECKING:
    from sandbox.common.httpserver import SandboxServer


class GPApp:
    def __init__(
        self,
        tenant: str,
        companies: list[str],
        users: list[GPUser],
        seed: str,
        channel_bindings: GssChannelBindings | None = None,
    ) -> None:
        self.tenant = tenant
        self.company_names = companies
        self.seed = seed
        self.channel_bindings = channel_bindings
        self.users: dict[str, GPUser] = {}
        self.server: SandboxServer | None = None
        self._companies: dict[str, GPCompany] = {}
        self._lock = threading.Lock()
        self.variant = Variant()  # shared by every company: how this server differs from Part B
        for user in users:
            self.add_user(user.account, user.password, user.companies)

    # --- companies and users -----------------------------------------------------------------------
    def find_company(self, name: str) -> GPCompany | None:
        """A company by display name (case-insensitive, as SQL Server compares); built on first use."""
        match = next((n for n in self.company_names if n.casefold() == name.strip().casefold()), None)
        if match is None:
            return None
        with self._lock:
            if match not in self._companies:
                self._companies[match] = GPCompany(match, self.seed, self.variant)
            return self._companies[match]

    def company(self, name: str | None = None) -> GPCompany:
        company = self.find_company(name or self.company_names[0])
        if company is None:
            raise GPFault(404, "CompanyNotFound", f"Company '{name}' does not exist.")
        return company

    def add_user(self, account: str, password: str, companies: set[str] | list[str] | None = None) -> None:
        """A Windows account; `companies` None maps it to every company, empty to none (403)."""
        register_users({account: password})
        mapped = None if companies is None else {c.casefold() for c in companies}
        self.users[canonical(account)] = GPUser(canonical(account), password, mapped)

    def may_access(self, principal: str, company: GPCompany) -> bool:
        user = self.users.get(principal)
        return user is not None and (user.companies is None or company.name.casefold() in user.companies)

    # --- control -----------------------------------------------------------------------------------
    def stats(self, company: str | None = None) -> dict[str, Any]:
        assert self.server is not None
        return {
            "requests": self.server.stats.snapshot(),
            "applied_payments": list(self.company(company).applied),
            "faults": self.server.faults.describe(),
            "variant": self.variant.describe(),
        }

    def set_variant(self, **changes: str) -> dict[str, str]:
        """Make this server differ from Part B (see sandbox.gp.variants); `reset` undoes it."""
        self.variant.set(**changes)
        if changes.get("stamps") == "day":
            with self._lock:
                companies = list(self._companies.values())
            for company in companies:
                company.stamps_to_days()
        return self.variant.describe()

    def set_latency(self, ms: int) -> None:
        assert self.server is not None
        self.server.faults.latency_ms = max(0, int(ms))

    def set_faults(
        self,
        kinds: list[str] | str,
        rate: float = 1.0,
        count: int | None = None,
        methods: list[str] | tuple[str, ...] = (),
        path_contains: str = "",
        timeout_seconds: float | None = None,
    ) -> None:
        assert self.server is not None
        try:
            self.server.faults.set(kinds, rate, count, methods, path_contains)
        except ValueError as exc:
            raise GPFault(400, "InvalidValue", str(exc)) from None
        if timeout_seconds is not None:
            self.server.faults.timeout_seconds = float(timeout_seconds)

    def clear_faults(self) -> None:
        assert self.server is not None
        self.server.faults.clear()

    def reset(self, seed: str | None = None) -> None:
        """Back to a fresh seed: data, locks, clock, faults, latency and counts (users stay)."""
        assert self.server is not None
        self.seed = seed or self.seed
        with self._lock:
            companies = list(self._companies.values())
        self.variant.clear()
        for company in companies:
            company.reseed(self.seed)
        self.server.faults.clear()
        self.server.faults.latency_ms = 0
        self.server.stats.reset()

"""A small client for `/_sandbox/`, for a demo or benchmark driving a sandbox in another process.
In-process code uses the `GPSandbox` handle's methods instead (same names)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests


class GPSandboxControl:
    def __init__(self, url: str, company: str | None = None, verify: bool | str = False) -> None:
        self.url, self.company, self.verify = url.rstrip("/"), company, verify
        self.session = requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        params = {"company": self.company} if self.company else None
        r = self.session.request(
            method, f"{self.url}/_sandbox/{path}", json=body, params=params, timeout=30, verify=self.verify
        )
        r.raise_for_status()
        return r.json()

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "stats")

    def reset_stats(self) -> None:
        self._call("POST", "stats/reset")

    def reset(self, seed: str | None = None) -> None:
        self._call("POST", "reset", {"seed": seed} if seed else {})

    def set_variant(self, **changes: str) -> dict[str, str]:
        return self._call("POST", "variant", changes)["variant"]  # type: ignore[no-any-return]

    def set_latency(self, ms: int) -> None:
        self._call("POST", "latency", {"ms": ms})

    def set_faults(
        self, kinds: list[str] | str, rate: float = 1.0, count: int | None = None, **more: Any
    ) -> None:
        self._call("POST", "faults", {"kinds": kinds, "rate": rate, "count": count, **more})

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def update_vendor(self, vendor_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("PATCH", f"vendors/{quote(vendor_id, safe='')}", fields)["Payload"]

    def insert_vendor(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "vendors", fields)["Payload"]

    def update_invoice(self, voucher: str, **fields: Any) -> dict[str, Any]:
        return self._call("PATCH", f"invoices/{quote(voucher, safe='')}", fields)["Payload"]

    def insert_invoice(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "invoices", fields)["Payload"]

    def void_invoice(self, voucher: str) -> dict[str, Any]:
        return self._call("POST", f"invoices/{quote(voucher, safe='')}/void")["Payload"]

    def apply_to_invoice(
        self, voucher: str, amount: Any, document: str = "", kind: str = "check"
    ) -> dict[str, Any]:
        """A check or credit memo applied in GP, outside BILL."""
        body = {"amount": str(amount), "document": document, "kind": kind}
        return self._call("POST", f"invoices/{quote(voucher, safe='')}/apply", body)["Payload"]

    def post_invoice(self, voucher: str) -> dict[str, Any]:
        return self._call("POST", f"invoices/{quote(voucher, safe='')}/post")["Payload"]

    def lock(self, resource: str, key: str, locked: bool = True) -> None:
        self._call("POST", "locks", {"resource": resource, "key": key, "locked": locked})

    def set_clock(self, now: str | None = None, advance_seconds: float = 0) -> str:
        return self._call("POST", "clock", {"now": now, "advance_seconds": advance_seconds})["now"]

    def add_user(self, account: str, password: str, companies: list[str] | None = None) -> None:
        self._call("POST", "users", {"account": account, "password": password, "companies": companies})

"""The admin's "Test connection": sign in, read the session back, and say in one sentence what is wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .http import BillError

if TYPE_CHECKING:
    from .client import BillClient


def check_connection(client: BillClient) -> str | None:
    conn = client.connection
    org = (conn.organization_id or "").strip()
    if not org.startswith("008"):
        return f"The organization ID {org!r} does not look like a BILL organization ID (they start with 008)."
    try:
        with client.gate.acquire(org, key=client.key):
            client.sessions.renew(failed=None, force=True)
        info = client.session_info()
    except BillError as exc:
        if exc.code in ("BDC_1101", "BDC_1102") or exc.status is not None or not exc.retryable:
            return exc.message
        return f"{exc.message} Check the API base URL and that this server can reach it."
    if str(info.get("organizationId") or "") not in ("", org):
        got = info.get("organizationId")
        return f"BILL signed in to organization {got}, not {org}; check the organization ID."
    return None

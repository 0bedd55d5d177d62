"""A BILL v3 sandbox that behaves like BILL: sessions, the 3-in-flight limit, lists, bills, payments,
signed webhooks, and a `/_sandbox/` control API. Standard library only; no Django.

    from sandbox.bill import start_bill_sandbox
    sb = start_bill_sandbox(session_ttl=5)
    sb.api_url, sb.events_url, sb.credentials; sb.stop()
"""

from __future__ import annotations

from .server import BillCredentials, BillSandbox, start_bill_sandbox

__all__ = ["BillCredentials", "BillSandbox", "start_bill_sandbox"]

"""Ledger rows made directly in tests, with what they wait for, as a settle would leave them."""

from __future__ import annotations

from typing import Any

from audit import waits


def with_waits(record: Any) -> Any:
    """A record created with its display text (`waiting_on`) set, given the `Wait` rows that
    `audit.ledger.settle` writes with that text: approvals and the screens read the rows."""
    waits.replace(record, waits.parse(record.waiting_on))
    return record


def wait_writes(queries: Any) -> list[str]:
    """The statements of captured `queries` that wrote the wait table (an idle poll writes none)."""
    return [
        q["sql"]
        for q in queries
        if "audit_wait" in q["sql"] and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]

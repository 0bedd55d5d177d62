"""GP account segments: GP spells department, location and class as parts of the account string
(`100-6100-20`), and the tenant says which part is which (Tenant.department_segment, …).

Pure functions, below the flows: the import directory (mappings) and the bill lines
(connectors.sync.gp_to_bill.line_classifications) read segment values the same way.
"""

from __future__ import annotations

import re
from typing import Any


def segments(account: str) -> list[str]:
    """The segments of a GP account string: 100-6100-20 → ["100", "6100", "20"] (any separator)."""
    return [p for p in re.split(r"[^0-9A-Za-z]+", account or "") if p]


def segment_value(account: str, position: int) -> str | None:
    """The 1-based segment `position` of `account`, or None when the account has fewer segments."""
    parts = segments(account)
    return parts[position - 1] if 0 < position <= len(parts) else None


def wanted_keys(tenant: Any, accounts: set[str]) -> set[tuple[str, str]]:
    """Every (kind, value) the given GP accounts carry under this tenant's settings (to prefetch)."""
    settings = getattr(tenant, "segment_settings", None) or {}
    keys = set()
    for account in accounts:
        for kind, position in settings.items():
            value = segment_value(account, position)
            if value is not None:
                keys.add((kind, value))
    return keys

"""Strip secrets from anything headed for the audit trail or a log line."""

from __future__ import annotations

import re
from typing import Any

SECRET_KEY_PATTERN = re.compile(
    r"pass(word)?|dev_?key|session_?id|security_?key|secret|token|authorization|api_?key|cookie",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
MAX_TEXT = 2000


def redact(value: Any) -> Any:
    """A copy of `value` with every secret-looking key's value replaced, long text cut short."""
    if isinstance(value, dict):
        return {k: (REDACTED if SECRET_KEY_PATTERN.search(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value[:200]]
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "…"
    if isinstance(value, int | float | bool) or value is None:
        return value
    return value if isinstance(value, str) else str(value)

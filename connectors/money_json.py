"""JSON for both clients' request bodies: Decimal money written as exact numbers, never through float.

One encoder for BILL and GP (and the read side's `loads`, which keeps every number with a fraction as a
Decimal). A float anywhere in a body is refused: money that went through float may already be wrong.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def dumps(payload: Any) -> bytes:
    """Compact JSON bytes with Decimals as plain numbers (`Decimal("0.10")` → `0.10`)."""
    return _encode(payload).encode()


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, float):
        raise TypeError("money must be Decimal, not float")
    return json.dumps(value)


def loads(raw: bytes | str) -> Any:
    """Parsed JSON with every fractional number as a Decimal; None for an empty body."""
    return json.loads(raw, parse_float=Decimal) if raw.strip() else None

"""BILL's wire format: the array-of-errors shape, JSON with Decimal money, timestamps and IDs.

Money is parsed as Decimal so sums stay exact; it goes back out as a JSON number (BILL sends numbers),
which for cent amounts prints exactly.
"""

from __future__ import annotations

import json
import random
import secrets
import string
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

_ALPHABET = string.ascii_uppercase + string.digits + string.ascii_lowercase

# BILL's messages, copied with their spacing (two spaces in BDC_1109 is BILL's own).
MESSAGES = {
    "BDC_1001": "System error.",
    "BDC_1002": "Unknown error.",
    "BDC_1101": "User name and/or password do not match our records.",
    "BDC_1102": "Developer key is invalid.",
    "BDC_1109": "Session is invalid.  Please log in.",
    "BDC_1121": "API not supported.",
    "BDC_1144": "Max number of allowed requests per hour reached: {budget}.",
    "BDC_1171": "Duplicate invoice number.",
    "BDC_1322": "Max number of concurrent requests per organization reached.",
    "BDC_1361": "Untrusted session.",
}


class ApiError(Exception):
    """An error answer: HTTP status plus one or more BILL error objects."""

    def __init__(self, status: int, code: str, message: str | None = None, category: str = "REQUEST") -> None:
        self.status = status
        self.code = code
        self.message = message or MESSAGES.get(code, "Unknown error.")
        self.category = category
        super().__init__(f"{status} {code} {self.message}")

    def body(self) -> list[dict[str, Any]]:
        return [
            {
                "timestamp": iso_now(),
                "code": self.code,
                "severity": "ERROR",
                "category": self.category,
                "message": self.message,
                "params": {},
            }
        ]


def bad_request(message: str, code: str = "BDC_1002") -> ApiError:
    return ApiError(400, code, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "BDC_1002", f"{what} not found.")


def dumps(payload: Any) -> bytes:
    """Compact JSON; Decimal money goes out as a number."""
    return json.dumps(payload, default=_number, separators=(",", ":")).encode()


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def loads(raw: bytes) -> Any:
    """Parse a request body; floats become Decimal. ApiError 400 (BDC_1002) when it is not JSON."""
    try:
        return json.loads(raw or b"null", parse_float=Decimal)
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None


def money(value: Any, field: str) -> Decimal:
    """A JSON amount as Decimal with cents; 400 when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise bad_request(f"{field}: must be a number")
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise bad_request(f"{field}: must be a number") from None


def iso(ts: float) -> str:
    """BILL's timestamp form, e.g. 2025-01-31T12:00:00.123Z."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def iso_now() -> str:
    return iso(time.time())


class Clock:
    """Strictly increasing millisecond timestamps, so every change gets a later `updatedTime`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0.0

    def stamp(self) -> str:
        with self._lock:
            now = max(time.time(), self._last + 0.001)
            self._last = now
            return iso(now)


class IdMaker:
    """BILL-looking IDs: a 3-character type prefix, "02", then 15 letters/digits (20 in all)."""

    def __init__(self, seed: str | int = 0) -> None:
        self._rng = random.Random(str(seed))
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            return prefix + "02" + "".join(self._rng.choice(_ALPHABET) for _ in range(15))

    @staticmethod
    def secret(length: int = 32) -> str:
        """Session IDs and security keys: unguessable, not seeded."""
        return "".join(secrets.choice(_ALPHABET) for _ in range(length))

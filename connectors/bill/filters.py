"""BILL list filters and sort keys: `Filter('vendorId', 'eq', x)` → `vendorId:eq:"x"`.

Strings, date-times and in/nin lists are quoted (as BILL's guide and SDK do); numbers and booleans
are not. Date-times go out in BILL's `yyyy-MM-dd'T'HH:mm:ss.SSSZ` form, in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

OPS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "sw"})


def bill_datetime(value: datetime) -> str:
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return bill_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        raise TypeError("filter amounts must be Decimal, not float")
    return str(value)


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown filter operator {self.op!r}; use one of {', '.join(sorted(OPS))}")
        if self.op in ("in", "nin") and isinstance(self.value, str | bytes):
            raise ValueError(f"{self.op} takes a list of values")

    def __str__(self) -> str:
        if self.op in ("in", "nin"):
            return f'{self.field}:{self.op}:"{",".join(_text(v) for v in self.value)}"'
        if isinstance(self.value, bool | int | Decimal):
            return f"{self.field}:{self.op}:{_text(self.value)}"
        return f'{self.field}:{self.op}:"{_text(self.value)}"'


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool = False

    def __str__(self) -> str:
        return f"{self.field}:{'desc' if self.descending else 'asc'}"


FilterLike = Filter | tuple[str, str, Any]


def encode_filters(filters: Iterable[FilterLike] | None) -> str | None:
    """Join filters with commas (AND); tuples are accepted as shorthand for Filter."""
    parts = [str(f if isinstance(f, Filter) else Filter(*f)) for f in filters or ()]
    return ",".join(parts) or None


def encode_sort(sort: Iterable[Sort | str] | Sort | str | None) -> str | None:
    if sort is None:
        return None
    if isinstance(sort, Sort | str):
        sort = [sort]
    return ",".join(str(s) for s in sort) or None

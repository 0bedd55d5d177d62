"""BILL list filters and sort keys, written as BILL's search guide shows them.

BILL's guide ("search-op-with-lists") and its Postman collection write `eq`-style values bare —
`accountType:eq:BUSINESS`, `id:eq:00n02…`, `retired:eq:false`, `amount:gte:100.00` — and put double
quotes only around date-times (`createdTime:gt:"2025-12-30T00:00:00.000Z"`), `in`/`nin` lists
(`invoiceCurrency:in:"USD,CAD"`) and `sw` prefixes (`name:sw:"Hap"`). A bare value cannot hold a comma
(it separates filters) or a double quote, and no quote escape is documented, so such a value is refused
here rather than sent as a filter that means something else. Date-times go out in BILL's
`yyyy-MM-dd'T'HH:mm:ss.SSSZ` form, in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

OPS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "sw"})
QUOTED_OPS = frozenset({"in", "nin", "sw"})


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


def bare_value_ok(value: Any) -> bool:
    """Whether `value` can be written bare (an `eq` value): no comma, no double quote, not blank."""
    text = _text(value)
    return bool(text.strip()) and "," not in text and '"' not in text and text == text.strip()


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
        quoted = self._quoted_values()
        if any('"' in v for v in quoted):
            raise ValueError(f"{self.field}:{self.op}: BILL documents no way to quote a double quote")
        if self.op in ("in", "nin") and any("," in v for v in quoted):
            raise ValueError(f"{self.field}:{self.op}: a listed value cannot contain a comma")
        if not quoted and not bare_value_ok(self.value):
            raise ValueError(
                f"{self.field}:{self.op}: {self.value!r} cannot be written bare (comma, quote or "
                "blank); look it up with sw and compare the results instead"
            )

    def _quoted_values(self) -> list[str]:
        if self.op in ("in", "nin"):
            return [_text(v) for v in self.value]
        if self.op == "sw" or isinstance(self.value, datetime | date):
            return [_text(self.value)]
        return []

    def __str__(self) -> str:
        if self.op in ("in", "nin"):
            return f'{self.field}:{self.op}:"{",".join(_text(v) for v in self.value)}"'
        if self.op == "sw" or isinstance(self.value, datetime | date):
            return f'{self.field}:{self.op}:"{_text(self.value)}"'
        return f"{self.field}:{self.op}:{_text(self.value)}"


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


def text_lookup(field: str, value: str) -> list[Filter]:
    """Filters that find records whose `field` equals `value`: a bare `eq` when BILL's syntax can hold
    the value, else a quoted `sw` on its longest prefix without a double quote (no filter at all when
    that prefix is empty). The caller must still compare each result exactly."""
    if bare_value_ok(value):
        return [Filter(field, "eq", value)]
    prefix = value.split('"', 1)[0]
    return [Filter(field, "sw", prefix)] if prefix.strip() else []

"""The list query language of Part B: `$filter` (ModifiedDate ge …, field eq …, joined by `and`),
`$orderby=ModifiedDate,Key`, `$top` (at most 1000) and `$skip`."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from .store import GPFault, Record, norm_key, parse_stamp, stamp

MAX_TOP = 1000
DEFAULT_TOP = 100
_CLAUSE = re.compile(r"^\s*([A-Za-z]+(?:/[A-Za-z]+)?)\s+(eq|ge|gt)\s+(.+?)\s*$", re.IGNORECASE)
# Filter names that are not plain top-level fields.
_ALIASES = {"VendorId": "VendorKey/Id", "Key": "Key/Id", "VoucherNumber": "Key/Id"}


@dataclass(frozen=True)
class ListQuery:
    since: str | None
    equals: tuple[tuple[str, str], ...]
    top: int
    skip: int

    @property
    def predicate(self) -> Callable[[Record], bool] | None:
        if not self.equals:
            return None
        return lambda record: all(_value(record, path) == want for path, want in self.equals)


def parse(params: dict[str, str]) -> ListQuery:
    since: str | None = None
    equals: list[tuple[str, str]] = []
    text = params.get("$filter", "").strip()
    for clause in re.split(r"\s+and\s+", text, flags=re.IGNORECASE) if text else []:
        match = _CLAUSE.match(clause)
        if not match:
            raise GPFault(400, "InvalidFilter", f"The filter clause '{clause}' is not understood.")
        field, op, raw = match.group(1), match.group(2).lower(), match.group(3)
        if field == "ModifiedDate" and op in ("ge", "gt"):
            moment = parse_stamp(raw)
            # Stamps have whole seconds: 'ge 12:00:00.5' and 'gt 12:00:00' both start at 12:00:01.
            seconds = moment.timestamp() + (1 if op == "gt" else 0)
            since = stamp(moment.fromtimestamp(math.ceil(seconds), moment.tzinfo))
        elif op == "eq" and field != "ModifiedDate":
            equals.append((_ALIASES.get(field, field), _literal(raw)))
        else:
            raise GPFault(400, "InvalidFilter", f"'{op}' is not supported on {field}.")
    order = re.sub(r"\s+asc\b", "", params.get("$orderby", "ModifiedDate,Key"), flags=re.IGNORECASE)
    if order.replace(" ", "") not in ("ModifiedDate,Key", "ModifiedDate"):
        raise GPFault(400, "InvalidOrderBy", "Lists are ordered by ModifiedDate,Key only.")
    return ListQuery(
        since, tuple(equals), _int(params, "$top", DEFAULT_TOP, 1, MAX_TOP), _int(params, "$skip", 0, 0, None)
    )


def _int(params: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise GPFault(400, "InvalidQuery", f"{name} must be a whole number.") from None
    if value < low:
        raise GPFault(400, "InvalidQuery", f"{name} must be at least {low}.")
    return min(value, high) if high is not None else value


def _literal(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return norm_key(raw[1:-1].replace("''", "'"))
    return norm_key(raw)


def _value(record: Record, path: str) -> str:
    value: object = record
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return norm_key(str(value)) if value is not None else ""

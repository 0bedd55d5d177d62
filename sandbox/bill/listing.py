"""List endpoints: `max`, the opaque `page` cursor, `filters` (field:op:value, comma = AND) and `sort`.

Only the fields BILL documents as filterable/sortable are accepted; anything else is a 400, so client
code that relies on an undocumented filter fails here rather than in production.

Values are read as strictly as BILL's search guide and Postman collection write them: bare for
`eq`/`ne`/`gt`/`gte`/`lt`/`lte` (`accountType:eq:BUSINESS`, `amount:gte:100.00`), double-quoted for
date-times (`createdTime:gt:"2025-12-30T00:00:00.000Z"`), `in`/`nin` lists (`invoiceCurrency:in:"USD,CAD"`)
and `sw` (`name:sw:"Hap"`). Anything else is a 400: a client that quotes an `eq` value, or leaves a date
bare, finds out here — not by a lookup that silently finds nothing and a create sent twice.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .wire import bad_request

OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "sw")


@dataclass(frozen=True)
class Fields:
    """What one list endpoint can filter and sort on."""

    filterable: frozenset[str]
    sortable: frozenset[str]
    aliases: tuple[tuple[str, str], ...] = ()  # (filter name, record field) where BILL names them apart


def _fields(filterable: str, sortable: str, aliases: dict[str, str] | None = None) -> Fields:
    pairs = tuple((aliases or {}).items())
    return Fields(frozenset(filterable.split()) | {a for a, _ in pairs}, frozenset(sortable.split()), pairs)


VENDOR_FIELDS = _fields(
    "id archived name shortName accountNumber accountType email createdTime updatedTime",
    "name createdTime updatedTime",
)
BILL_FIELDS = _fields(
    "id archived vendorId amount dueDate paymentStatus approvalStatus createdTime updatedTime",
    "dueDate amount createdTime updatedTime",
)
PAYMENT_FIELDS = _fields(
    "id vendorId status disbursementType processDate amount createdTime updatedTime",
    "processDate amount createdTime updatedTime",
)
VENDOR_CREDIT_FIELDS = _fields(
    "id archived vendorId referenceNumber creditDate status amount createdTime updatedTime",
    "creditDate amount createdTime updatedTime",
)
CLASSIFICATION_FIELDS = _fields("id archived name createdTime updatedTime", "name createdTime updatedTime")
# BILL's collection filters the bank-account list by `bankAccountId` (the account's own `id`).
FUNDING_FIELDS = _fields(
    "id archived status createdTime updatedTime", "createdTime updatedTime", {"bankAccountId": "id"}
)
SUBSCRIPTION_FIELDS = _fields("", "")


def split_outside_quotes(text: str, sep: str = ",") -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in (x.strip() for x in parts) if p]


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _instant(value: str) -> datetime | None:
    """Any of BILL's accepted date/time forms as an aware UTC datetime; None when not a date."""
    text = value.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _coerce(sample: Any, raw: str) -> Any:
    """The filter value typed like the stored field value, so comparisons mean what they say."""
    if isinstance(sample, bool):
        return raw.lower() == "true"
    if isinstance(sample, int | Decimal):
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise bad_request(f"filters: {raw!r} is not a number") from None
    if isinstance(sample, str) and _instant(sample) is not None and len(sample) > 10:
        when = _instant(raw)
        if when is None:
            raise bad_request(f"filters: {raw!r} is not a date-time")
        return when
    return raw


def _comparable(value: Any) -> Any:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str) and len(value) > 10 and _instant(value) is not None:
        return _instant(value)
    return value


def _is_quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] == value[-1] == '"' and '"' not in value[1:-1]


def _strict_value(clause: str, op: str, value: str) -> str:
    """The value of one clause, quoted exactly where BILL's guide quotes it (see the module docstring)."""
    if op in ("in", "nin", "sw"):
        if not _is_quoted(value):
            raise bad_request(f'filters: {clause!r}: {op} takes a double-quoted value, e.g. name:sw:"Hap"')
        return value[1:-1]
    if _is_quoted(value):
        inner = value[1:-1]
        if len(inner) > 10 and _instant(inner) is not None or _is_date(inner):
            return inner
        raise bad_request(
            f"filters: {clause!r}: {op} takes a bare value (quotes are for dates, in, nin "
            "and sw), e.g. accountType:eq:BUSINESS"
        )
    if '"' in value or not value:
        raise bad_request(f"filters: cannot read {clause!r}")
    if len(value) > 10 and _instant(value) is not None or _is_date(value):
        raise bad_request(
            f'filters: {clause!r}: a date goes in double quotes, e.g. createdTime:gt:"2025-12-30"'
        )
    return value


def _is_date(text: str) -> bool:
    return len(text) == 10 and _instant(text) is not None


def parse_filters(text: str, fields: Fields) -> list[tuple[str, str, str]]:
    filters = []
    for clause in split_outside_quotes(text):
        parts = clause.split(":", 2)
        if len(parts) != 3 or parts[1] not in OPS:
            raise bad_request(
                f"filters: cannot read {clause!r}; use field:op:value with op in {', '.join(OPS)}"
            )
        field, op, value = parts
        if field not in fields.filterable:
            raise bad_request(f"filters: {field} is not a filterable field")
        field = dict(fields.aliases).get(field, field)
        filters.append((field, op, _strict_value(clause, op, value.strip())))
    return filters


def matches(record: dict[str, Any], filters: Iterable[tuple[str, str, str]]) -> bool:
    for field, op, raw in filters:
        value = record.get(field)
        if op in ("in", "nin"):
            options = [_coerce(value, _unquote(v)) for v in split_outside_quotes(raw)]
            hit = _comparable(value) in options
            if hit != (op == "in"):
                return False
            continue
        if op == "sw":
            if not str(value or "").lower().startswith(raw.lower()):
                return False
            continue
        if value is None:
            if op != "ne":
                return False
            continue
        left, right = _comparable(value), _coerce(value, raw)
        ok = {
            "eq": left == right,
            "ne": left != right,
            "gt": left > right,
            "gte": left >= right,
            "lt": left < right,
            "lte": left <= right,
        }[op]
        if not ok:
            return False
    return True


def parse_sort(text: str, fields: Fields) -> list[tuple[str, bool]]:
    keys = []
    for clause in split_outside_quotes(text):
        field, _, direction = clause.partition(":")
        direction = direction or "asc"
        if field not in fields.sortable or direction not in ("asc", "desc"):
            raise bad_request(f"sort: cannot sort by {clause!r}")
        keys.append((field, direction == "desc"))
    return keys


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        offset = int(json.loads(base64.urlsafe_b64decode(padded))["o"])
    except (ValueError, KeyError, TypeError):
        raise bad_request("page: not a page token from this list") from None
    if offset < 0:
        raise bad_request("page: not a page token from this list")
    return offset


def _sort_key(field: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    """Rows without the field last, the rest by value."""
    return lambda r: (r.get(field) is None, _comparable(r.get(field)))


def page(records: list[dict[str, Any]], query: dict[str, str], fields: Fields) -> dict[str, Any]:
    """One page of `records` (already newest-state dicts) as BILL's `{nextPage, prevPage, results}`."""
    try:
        size = int(query.get("max", "20"))
    except ValueError:
        raise bad_request("max: must be a number between 1 and 100") from None
    if not 1 <= size <= 100:
        raise bad_request("max: must be a number between 1 and 100")
    rows = records
    if query.get("filters"):
        wanted = parse_filters(query["filters"], fields)
        rows = [r for r in rows if matches(r, wanted)]
    rows = sorted(rows, key=lambda r: (r.get("createdTime", ""), r.get("id", "")))
    for field, descending in reversed(parse_sort(query.get("sort", ""), fields)):
        rows.sort(key=_sort_key(field), reverse=descending)
    offset = _decode_cursor(query["page"]) if query.get("page") else 0
    body: dict[str, Any] = {"results": rows[offset : offset + size]}
    if offset + size < len(rows):
        body["nextPage"] = _encode_cursor(offset + size)
    if offset > 0:
        body["prevPage"] = _encode_cursor(max(0, offset - size))
    return body

"""Records of one GP resource, kept sorted by (ModifiedDate, Key) so `ModifiedDate ge` is a bisect.

Records are the JSON-ready dicts of docs/gp_sba.md Part B (money as `{"Value": Decimal, ...}`). A table can
also be *lazy*: the bench seed registers only (ModifiedDate, Key) pairs and a factory that builds a
record from its key on demand, so 100,000 vendors cost an index, not 100,000 dicts. A changed lazy
record is materialised.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from bisect import bisect_left, insort
from collections import OrderedDict
from collections.abc import Callable, Hashable
from decimal import Decimal
from typing import Any

EMPTY_DATE = "1900-01-01T00:00:00Z"  # GP's "no date"
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MONEY_PLACES = Decimal("0.00001")  # GP stores numeric(19,5)

Record = dict[str, Any]


class GPFault(Exception):
    """A GP error answer: HTTP status, GP-style code and a plain message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(STAMP_FORMAT)


def parse_stamp(text: str) -> dt.datetime:
    """ISO-8601 date or date-time (Z or offset, optional fraction) as an aware UTC datetime."""
    text = text.strip().strip("'")
    try:
        if len(text) == 10:
            return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise GPFault(400, "InvalidDate", f"'{text}' is not an ISO-8601 date or date-time.") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def key_of(record: Record) -> str:
    return record["Key"]["Id"]


def norm_key(key: str) -> str:
    """GP keys compare case-insensitively and ignore trailing blanks (char columns)."""
    return key.strip().upper()


def money(value: Any, currency: str = "USD", digits: int = 2) -> dict[str, Any]:
    return {"Value": to_decimal(value), "Currency": currency, "DecimalDigits": digits}


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, dict):
        value = value.get("Value")
    try:
        return Decimal(str(value)).quantize(MONEY_PLACES)
    except ArithmeticError:
        raise GPFault(400, "InvalidAmount", f"'{value}' is not an amount.") from None


class Table:
    """One resource's records with a sorted (ModifiedDate, Key) index. Callers hold `lock` for writes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.RLock()
        self._rows: dict[str, Record] = {}
        self._stamps: dict[str, str] = {}
        self._index: list[tuple[str, str]] = []
        self._factory: Callable[[str], Record] | None = None
        self._cache: OrderedDict[Hashable, list[str]] = OrderedDict()
        self.version = 0

    def __len__(self) -> int:
        return len(self._stamps)

    def __contains__(self, key: str) -> bool:
        return norm_key(key) in self._stamps

    def load(self, records: list[Record]) -> None:
        """Seed materialised records (replaces everything)."""
        self._rows = {key_of(r): r for r in records}
        self._stamps = {k: r["ModifiedDate"] for k, r in self._rows.items()}
        self._index = sorted((s, k) for k, s in self._stamps.items())
        self._factory = None
        self._changed()

    def load_lazy(self, index: list[tuple[str, str]], factory: Callable[[str], Record]) -> None:
        """Seed a lazy table from a (ModifiedDate, Key) list that is already sorted."""
        self._rows, self._index, self._factory = {}, index, factory
        self._stamps = {k: s for s, k in index}
        self._changed()

    def get(self, key: str) -> Record | None:
        key = norm_key(key)
        row = self._rows.get(key)
        if row is None and self._factory is not None and key in self._stamps:
            row = self._factory(key)
        return row

    def put(self, record: Record) -> None:
        """Insert or replace a record; its index entry moves with its ModifiedDate."""
        with self.lock:
            key = key_of(record)
            old = self._stamps.get(key)
            if old is not None:
                del self._index[bisect_left(self._index, (old, key))]
            self._rows[key] = record
            self._stamps[key] = record["ModifiedDate"]
            insort(self._index, (record["ModifiedDate"], key))
            self._changed()

    def restamp(self, change: Callable[[str], str]) -> None:
        """Rewrite every ModifiedDate (index and materialised records) with `change`."""
        with self.lock:
            self._stamps = {k: change(s) for k, s in self._stamps.items()}
            for row in self._rows.values():
                row["ModifiedDate"] = change(row["ModifiedDate"])
            if self._factory is not None:
                factory = self._factory
                self._factory = lambda key: _restamped(factory(key), change)
            self._index = sorted((s, k) for k, s in self._stamps.items())
            self._changed()

    def latest_stamp(self) -> str | None:
        return self._index[-1][0] if self._index else None

    def query(
        self,
        since: str | None,
        predicate: Callable[[Record], bool] | None,
        predicate_key: Hashable,
        skip: int,
        top: int,
    ) -> tuple[list[Record], int]:
        """One page in (ModifiedDate, Key) order, and the total count of matches."""
        with self.lock:
            start = bisect_left(self._index, (since, "")) if since else 0
            if predicate is None:
                keys = [k for _, k in self._index[start + skip : start + skip + top]]
                return [self.get(k) for k in keys], len(self._index) - start  # type: ignore[misc]
            matches = self._matching(start, since, predicate, predicate_key)
            return [self.get(k) for k in matches[skip : skip + top]], len(matches)  # type: ignore[misc]

    def _matching(
        self, start: int, since: str | None, predicate: Callable[[Record], bool], predicate_key: Hashable
    ) -> list[str]:
        # Cached per table version so paging a filtered list does not rebuild every lazy record per page.
        cache_key = (since, predicate_key, self.version)
        hit = self._cache.get(cache_key)
        if hit is None:
            hit = [k for _, k in self._index[start:] if predicate(self.get(k))]  # type: ignore[arg-type]
            self._cache[cache_key] = hit
            while len(self._cache) > 16:
                self._cache.popitem(last=False)
        return hit

    def _changed(self) -> None:
        self.version += 1
        self._cache.clear()


def _restamped(record: Record, change: Callable[[str], str]) -> Record:
    record["ModifiedDate"] = change(record["ModifiedDate"])
    return record


_DECIMAL_MARK = re.compile(r'"@@dec:(-?[0-9]+(?:\.[0-9]+)?)@@"')


def to_json(payload: Any) -> bytes:
    """JSON with Decimal money written as exact numbers (json would otherwise refuse or round them)."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"@@dec:{value:f}@@"
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    return _DECIMAL_MARK.sub(r"\1", json.dumps(payload, default=default, ensure_ascii=False)).encode()

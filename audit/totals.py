"""Totals per state in money, for the lists and the dashboard: "151 bills, $412,300.17, waiting on 45
vendor mappings". One grouped query over the (already tenant-scoped, filtered) records, one for the
mappings waited on."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from . import waits
from .models import State
from .words import KIND_NOUNS, money_text, state_words

# Each kind of mapping a record can wait for (audit.waits) → how a clerk names it.
MAPPING_NOUNS = {
    waits.VENDOR: ("vendor mapping", "vendor mappings"),
    waits.ACCOUNT: ("GL account mapping", "GL account mappings"),
    waits.CHECKBOOK: ("checkbook mapping", "checkbook mappings"),
    waits.DEPARTMENT: ("department mapping", "department mappings"),
    waits.LOCATION: ("location mapping", "location mappings"),
    waits.CLASS: ("accounting class mapping", "accounting class mappings"),
}
STATE_ORDER = [
    State.BLOCKED,
    State.FAILED,
    State.IN_DOUBT,
    State.SENDING,
    State.FLAGGED,
    State.CONFLICT,
    State.PENDING,
    State.SYNCED,
    State.SKIPPED,
]


def plural(n: int, singular: str, many: str) -> str:
    return f"{n:,} {singular if n == 1 else many}"


@dataclass
class KindTotal:
    kind: str
    count: int = 0
    money: dict[str, Decimal] = field(default_factory=dict)  # currency → sum of document amounts

    def text(self) -> str:
        singular, many = KIND_NOUNS.get(self.kind, ("record", "records"))
        singular, many = ("bill", "bills") if self.kind == "bill" else (singular, many)
        parts = [plural(self.count, singular, many)]
        parts += [money_text(total, currency) for currency, total in sorted(self.money.items())]
        return ", ".join(parts)


@dataclass
class StateTotal:
    state: str
    kinds: list[KindTotal]
    waiting: dict[str, int] = field(default_factory=dict)  # mapping kind → how many distinct mappings

    @property
    def count(self) -> int:
        return sum(k.count for k in self.kinds)

    @property
    def words(self) -> str:
        return state_words(self.state)

    @property
    def sentence(self) -> str:
        """ "151 bills, $412,300.17, waiting on 45 vendor mappings; 2 vendors"."""
        kinds = "; ".join(k.text() for k in self.kinds)
        waits = [plural(n, *MAPPING_NOUNS[kind]) for kind, n in self.waiting.items() if n]
        if waits:
            kinds += ", waiting on " + " and ".join(waits)
        return kinds


def waiting_mappings(queryset: QuerySet) -> dict[str, int]:
    """How many distinct mappings the blocked records wait for, by mapping kind."""
    return waits.mappings_waited_for(queryset.filter(state=State.BLOCKED))


def by_state(queryset: QuerySet) -> list[StateTotal]:
    """Count and money per state and kind, states in the order a clerk works them (waiting first)."""
    grouped: dict[str, dict[str, KindTotal]] = defaultdict(dict)
    rows = (
        queryset.order_by().values("state", "kind", "currency").annotate(n=Count("id"), total=Sum("amount"))
    )
    for row in rows:
        kind = grouped[row["state"]].setdefault(row["kind"], KindTotal(row["kind"]))
        kind.count += row["n"]
        if row["total"] is not None:
            currency = row["currency"] or "USD"
            kind.money[currency] = kind.money.get(currency, Decimal(0)) + row["total"]
    order: dict[str, int] = {state: i for i, state in enumerate(STATE_ORDER)}
    totals = []
    for state in sorted(grouped, key=lambda s: order.get(s, 99)):
        kinds = sorted(grouped[state].values(), key=lambda k: (k.kind != "bill", -k.count))
        totals.append(StateTotal(state, kinds))
    blocked = next((t for t in totals if t.state == State.BLOCKED), None)
    if blocked is not None:
        blocked.waiting = waiting_mappings(queryset)
    return totals


def as_rows(totals: list[StateTotal]) -> list[dict[str, Any]]:
    return [{"state": t.state, "words": t.words, "sentence": t.sentence, "count": t.count} for t in totals]

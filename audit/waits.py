"""What a ledger record waits for, as rows: one `Wait` per mapping, check or GP step it needs first.

A blocked record names what holds it up — a GP vendor, GL account or segment value not mapped yet, a BILL
funding account without a GP checkbook, GP's hold check, an invoice not posted in GP — and approving a
mapping releases exactly the records waiting for it. Rows make that an indexed lookup on (kind, key,
tenant) instead of a text search through a token string; approving 600 mappings looks up their
records a batch of keys at a time.

This module is the only one that writes the rows, and the only one that knows the text form of a wait
(`vendor:ACME0001`, `account:000-6100-00`, `card-name`). `SyncRecord.waiting_on` stays, as the waits'
display text: the lists and the record page show it without a query per row, and a flow tells from it,
without reading a row, that a record's waits are unchanged, so an idle poll writes nothing. It is written
only with the rows (`replace`, and `audit.ledger.settle` through it), and never searched.

Ledger core: imports nothing from connectors or mappings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import chain
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import ATTENTION_STATES, SyncRecord, Wait

# What a record can wait for. The six mappings (a finance user approves them in Mappings) …
VENDOR = "vendor"  # key: GP vendor ID
ACCOUNT = "account"  # key: GP account
CHECKBOOK = "checkbook"  # key: BILL funding account ID (mapped to a GP checkbook)
DEPARTMENT, LOCATION, CLASS = "department", "location", "class"  # key: a GP account segment value
# … and what GP or the tenant's settings must do first.
GP_HOLD = "gp-hold"  # key "unknown": GP Web Services cannot say whether the invoice is on hold
POSTING = "posting"  # key: a GP voucher not posted yet
CARD_NAME = "card-name"  # no key: the tenant has no GP card name for BILL card payments
BILL_PAYMENT = "bill-payment"  # key: a BILL payment whose money has not reached the vendor
MANUAL_PAYMENT = "gp_manual_payment"  # key: the GP payment a clerk records by hand (GP Web Services)

# How a clerk names what a mapping maps: "GP vendor ACME0001", "GP department 20".
WORDS = {
    VENDOR: "GP vendor",
    ACCOUNT: "GP account",
    CHECKBOOK: "BILL funding account",
    DEPARTMENT: "GP department",
    LOCATION: "GP location",
    CLASS: "GP accounting class",
}
MAPPING_KINDS = tuple(WORDS)
SEGMENT_KINDS = (DEPARTMENT, LOCATION, CLASS)
OTHER_WORDS = {
    GP_HOLD: "GP's hold check",
    POSTING: "GP posting of voucher",
    CARD_NAME: "the tenant's GP card name",
    BILL_PAYMENT: "BILL to disburse payment",
    MANUAL_PAYMENT: "GP manual payment recorded by hand",
}
WAITING_ON_MAX: int = SyncRecord._meta.get_field("waiting_on").max_length or 200
KEYS_PER_QUERY = 500  # keys of one kind looked up together (well under any database's parameter limit)


class WaitFor(str):
    """One thing a record waits for: its `kind` and `key`. As text it is its token (`vendor:ACME0001`,
    `card-name` when there is no key), so a draft's list of waits reads and compares as before."""

    __slots__ = ()

    def __new__(cls, kind: str, key: str = "") -> WaitFor:
        return super().__new__(cls, f"{kind}:{key}" if key else kind)

    @classmethod
    def parse(cls, token: str) -> WaitFor:
        kind, _, key = token.partition(":")
        return cls(kind, key)

    @property
    def kind(self) -> str:
        return self.partition(":")[0]

    @property
    def key(self) -> str:
        return self.partition(":")[2]

    @property
    def is_mapping(self) -> bool:
        return self.kind in MAPPING_KINDS

    @property
    def words(self) -> str:
        """ "GP vendor ACME0001", "GP department 20", "GP posting of voucher 00000042"; the token for a
        kind this module does not know."""
        name = WORDS.get(self.kind) or OTHER_WORDS.get(self.kind)
        if name is None:
            return str(self)
        return f"{name} {self.key}" if self.key else name


def parse(text: str) -> list[WaitFor]:
    """The waits a display text names, in order, each once."""
    return list(dict.fromkeys(WaitFor.parse(token) for token in text.split()))


def keys(waits: Iterable[WaitFor], kind: str) -> list[str]:
    """The keys of one kind: `keys(draft.waiting_on, ACCOUNT)` → the GP accounts a bill waits for."""
    return [w.key for w in waits if w.kind == kind]


def fit_waiting(tokens: Iterable[str], limit: int = WAITING_ON_MAX) -> str:
    """The tokens that fit the display column, whole and in order (a bill's vendor first). A bill on many
    accounts and segment values may wait for more than its column shows; its rows hold them all, and its
    reason names them all."""
    kept: list[str] = []
    for token in tokens:
        if len(" ".join([*kept, token])) > limit:
            break
        kept.append(token)
    return " ".join(kept)


def text(waits: Iterable[WaitFor]) -> str:
    """The display text (`SyncRecord.waiting_on`) of a list of waits."""
    return fit_waiting(dict.fromkeys(waits))


def differ(record: SyncRecord, waits: Sequence[WaitFor]) -> bool:
    """Whether `waits` are not what the record shows already (its display text; no row is read). A flow
    asks before settling a blocked record again, so a poll that finds the same waits writes nothing."""
    return record.waiting_on != text(waits)


def shown(record: SyncRecord) -> list[WaitFor]:
    """The waits the record's display text names (no query: for lists, links and reports)."""
    return parse(record.waiting_on)


def of(record: SyncRecord) -> list[WaitFor]:
    """All the record's waits, in the order it named them (its rows)."""
    rows = record.waits.order_by("position", "pk").values_list("kind", "key")
    return [WaitFor(kind, key) for kind, key in rows]


# --- writing ----------------------------------------------------------------------------------------


@transaction.atomic
def replace(record: SyncRecord, waits: Sequence[WaitFor]) -> bool:
    """Make the record's rows exactly `waits` (none: it waits for nothing), writing only what differs: a
    wait that stays keeps its row and its `since`. Returns whether any row was written. The display text
    is the caller's (`audit.ledger.settle` writes it with the record); see `put` for both."""
    wanted = {(w.kind, w.key): position for position, w in enumerate(dict.fromkeys(waits))}
    have = {(kind, key): (pk, position) for pk, kind, key, position in _rows(record)}
    gone = [pk for pair, (pk, _) in have.items() if pair not in wanted]
    moved = [
        Wait(pk=have[pair][0], position=position)
        for pair, position in wanted.items()
        if pair in have and have[pair][1] != position
    ]
    new = [
        Wait(record=record, tenant_id=record.tenant_id, kind=kind, key=key, position=position)
        for (kind, key), position in wanted.items()
        if (kind, key) not in have
    ]
    if gone:
        Wait.objects.filter(pk__in=gone).delete()
    if moved:
        Wait.objects.bulk_update(moved, ["position"])
    if new:
        Wait.objects.bulk_create(new)
    return bool(gone or moved or new)


def _rows(record: SyncRecord) -> list[tuple[int, str, str, int]]:
    return list(Wait.objects.filter(record=record).values_list("pk", "kind", "key", "position"))


@transaction.atomic
def put(record: SyncRecord, waits: Sequence[WaitFor]) -> None:
    """Set a record's waits and its display text, outside a settle (a repair, a test's ledger)."""
    record.waiting_on = text(waits)
    SyncRecord.objects.filter(pk=record.pk).update(waiting_on=record.waiting_on)
    replace(record, waits)


def clear(record_ids: Iterable[int]) -> int:
    """Drop the rows of records that wait for nothing any more (settled together: bulk settling)."""
    ids = list(record_ids)
    return Wait.objects.filter(record_id__in=ids).delete()[0] if ids else 0


# --- finding ----------------------------------------------------------------------------------------


def waiting_for(records: QuerySet[SyncRecord], kind: str, key: str = "") -> QuerySet[SyncRecord]:
    """The records of `records` that wait for (kind, key): `waiting_for(SyncRecord.objects.filter(
    tenant=t), VENDOR, "ACME0001")`; the same as `SyncRecord.objects.waiting_for(kind, key)`."""
    return records.filter(waits__kind=kind, waits__key=key)


def record_ids_waiting_for(
    tenant: Any, waits: Iterable[WaitFor], states: Sequence[str] = ATTENTION_STATES
) -> list[int]:
    """The tenant's records (in `states`: still needing attention) that wait for any of `waits`, each
    once: what approving them releases. One indexed query per kind and KEYS_PER_QUERY keys."""
    by_kind: dict[str, set[str]] = defaultdict(set)
    for wait in waits:
        by_kind[wait.kind].add(wait.key)
    found: set[int] = set()
    for kind, wanted in by_kind.items():
        ordered = sorted(wanted)
        for start in range(0, len(ordered), KEYS_PER_QUERY):
            found.update(
                Wait.objects.filter(
                    tenant=tenant,
                    kind=kind,
                    key__in=ordered[start : start + KEYS_PER_QUERY],
                    record__state__in=states,
                ).values_list("record_id", flat=True)
            )
    return sorted(found)


def count_waiting(kind: str, tenant: Any, key: Any) -> Coalesce:
    """How many records needing attention wait for (kind, key), as an expression for annotating a list
    of mappings: `count_waiting(VENDOR, OuterRef("tenant"), OuterRef("gp_vendor_id"))`."""
    rows = (
        Wait.objects.filter(tenant=tenant, kind=kind, key=key, record__state__in=ATTENTION_STATES)
        .order_by()
        .values("tenant")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


def money_waiting(kind: str, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], dict[str, Decimal]]:
    """The document amounts waiting for each (tenant ID, key) of one kind, summed per currency (never
    dollars and euros added together): one query for a page of mappings."""
    sums: dict[tuple[int, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    if not pairs:
        return sums
    rows = Wait.objects.filter(
        tenant__in={t for t, _ in pairs},
        kind=kind,
        key__in={k for _, k in pairs},
        record__state__in=ATTENTION_STATES,
        record__amount__isnull=False,
    ).values_list("tenant_id", "key", "record__amount", "record__currency")
    for tenant_id, key, amount, currency in rows:
        if (tenant_id, key) in pairs and amount is not None:  # (amount__isnull=False above)
            sums[(tenant_id, key)][currency or "USD"] += amount
    return sums


def mappings_waited_for(records: QuerySet[SyncRecord]) -> dict[str, int]:
    """How many distinct mappings `records` wait for, by mapping kind (in MAPPING_KINDS order)."""
    rows = (
        Wait.objects.filter(record__in=records.order_by().values("pk"), kind__in=MAPPING_KINDS)
        .order_by()
        .values("kind")
        .annotate(n=Count("key", distinct=True))
        .values_list("kind", "n")
    )
    counted = dict(rows)
    return {kind: counted[kind] for kind in MAPPING_KINDS if counted.get(kind)}


# --- the data migration (audit 0013): display texts saved before the rows existed ------------------------

BACKFILL_BATCH = 2000


def rows_from_texts(record_model: Any, wait_model: Any) -> int:
    """Rows for every record whose display text names waits and that has none yet (the models are the
    migration's historical ones). Batch by batch, so it can be run again after an interruption."""
    made = 0
    last = 0
    while True:
        batch = list(
            record_model.objects.filter(pk__gt=last)
            .exclude(waiting_on="")
            .order_by("pk")
            .values_list("pk", "tenant_id", "waiting_on")[:BACKFILL_BATCH]
        )
        if not batch:
            return made
        last = batch[-1][0]
        done = set(
            wait_model.objects.filter(record_id__in=[pk for pk, _, _ in batch]).values_list(
                "record_id", flat=True
            )
        )
        rows = [
            wait_model(record_id=pk, tenant_id=tenant_id, kind=w.kind, key=w.key, position=position)
            for pk, tenant_id, shown_text in batch
            if pk not in done
            for position, w in enumerate(parse(shown_text))
        ]
        with transaction.atomic():
            wait_model.objects.bulk_create(rows, ignore_conflicts=True)
        made += len(rows)


def texts_from_rows(record_model: Any, wait_model: Any) -> int:
    """The reverse: each record's display text rebuilt from its rows (read in record order, one record's
    rows at a time), before the rows go. Returns how many records it wrote."""
    written = 0
    current: int | None = None
    waits: list[WaitFor] = []
    rows = wait_model.objects.order_by("record_id", "position", "pk").values_list("record_id", "kind", "key")
    for record_id, kind, key in chain(rows.iterator(chunk_size=BACKFILL_BATCH), [(None, "", "")]):
        if record_id != current and current is not None:
            record_model.objects.filter(pk=current).update(waiting_on=text(waits))
            written += 1
            waits = []
        current = record_id
        waits.append(WaitFor(kind, key))
    return written

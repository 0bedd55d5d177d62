"""The dashboard's 30-day chart: per day, how many records were synced and how many needed attention.

Read from the trail (one row per attempt), counting each record once per day and side. Drawn as an
SVG of rectangles computed here (the CSP allows no inline style or script; colours come from CSS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Case, CharField, Count, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from connectors.models import Tenant

from .models import Attempt

DAYS = 30
SYNCED_OUTCOMES = (
    "created",
    "updated",
    "updated_gp",
    "adopted",
    "already_in_gp",
    "applied",
    "linked",
    "synced",
    "archived",
)
ATTENTION_OUTCOMES = ("blocked", "failed", "in_doubt", "flagged", "conflict", "parked", "error")
# The SVG's drawing box: 30 slots of 20 units, bars up to 100 units high, labels below.
SLOT, BAR, TOP, HEIGHT = 20, 8, 100, 100


@dataclass
class Day:
    day: date
    synced: int = 0
    attention: int = 0


@dataclass
class Rect:
    x: int
    y: int
    height: int
    css: str
    title: str


def by_day(tenant: Tenant, today: date | None = None) -> list[Day]:
    """The last 30 days, oldest first, every day present (zeros included)."""
    today = today or timezone.localdate()
    first = today - timedelta(days=DAYS - 1)
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    side = Case(
        When(outcome__in=SYNCED_OUTCOMES, then=Value("synced")),
        When(outcome__in=ATTENTION_OUTCOMES, then=Value("attention")),
        default=Value(""),
        output_field=CharField(),
    )
    rows = (
        Attempt.objects.filter(record__tenant=tenant, started_at__gte=since)
        .annotate(day=TruncDate("started_at", tzinfo=timezone.get_current_timezone()), side=side)
        .exclude(side="")
        .values("day", "side")
        .annotate(n=Count("record", distinct=True))
        .order_by()
    )
    days = {first + timedelta(days=i): Day(first + timedelta(days=i)) for i in range(DAYS)}
    for row in rows:
        if row["day"] in days:
            setattr(days[row["day"]], row["side"], row["n"])
    return list(days.values())


def chart(days: list[Day]) -> dict[str, object]:
    """Rectangles (SVG units) and the figures a reader needs without the picture."""
    peak = max([1, *(d.synced for d in days), *(d.attention for d in days)])
    rects: list[Rect] = []
    labels = []
    for i, d in enumerate(days):
        x = i * SLOT + 2
        said = f"{d.day:%b %-d}: {d.synced} synced, {d.attention} needing attention"
        for offset, value, css in ((0, d.synced, "ml-bar-synced"), (BAR, d.attention, "ml-bar-attention")):
            height = round(HEIGHT * value / peak) if value else 0
            if value and height < 2:
                height = 2
            rects.append(Rect(x + offset, TOP - height, height, css, said))
        if (len(days) - 1 - i) % 7 == 0:  # every 7th day, ending today
            labels.append({"x": x + BAR, "text": f"{d.day:%b %-d}"})
    return {
        "rects": rects,
        "labels": labels,
        "peak": peak,
        "width": len(days) * SLOT,
        "top": TOP,
        "synced_total": sum(d.synced for d in days),
        "attention_total": sum(d.attention for d in days),
        "empty": not any(d.synced or d.attention for d in days),
    }

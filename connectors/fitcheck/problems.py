"""What the fit check found wrong, one row each, for the page, the JSON and the CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass

BLOCKER, WARNING, PARKED = "blocker", "warning", "parked"


@dataclass(frozen=True)
class Problem:
    area: str  # GP | BILL | Plan
    severity: (
        str  # blocker: the connector cannot run as is; warning: it runs, but look; parked: records held back
    )
    subject: str  # what it is about (a resource, a record, a setting)
    problem: str  # plain words
    fix: str  # what to do


class Problems(list[Problem]):
    def add(self, area: str, severity: str, subject: str, problem: str, fix: str) -> None:
        self.append(Problem(area, severity, subject, problem, fix))

    def as_dicts(self) -> list[dict[str, str]]:
        return [asdict(p) for p in self]


def to_csv(problems: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=["area", "severity", "subject", "problem", "fix"], lineterminator="\n"
    )
    writer.writeheader()
    for row in problems:
        writer.writerow({k: _safe(v) for k, v in row.items()})
    return out.getvalue()


def _safe(value: str) -> str:
    """No spreadsheet formula injection from GP or BILL text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value

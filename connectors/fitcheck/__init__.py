"""The fit check: "ping your real systems and see if we fit", strictly read-only.

`run_fit_check(tenant)` reads GP and BILL (GETs only, plus BILL's sign-in) and returns one report:
the GP server against the resource map (with proposed overrides for what differs), counts, what
would be parked, the BILL org, and the plan for the first sync. `problems.to_csv` makes the CSV.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from .bill_side import check_bill
from .gp_side import check_gp
from .plan import make_plan
from .problems import BLOCKER, PARKED, WARNING, Problems, to_csv

__all__ = ["run_fit_check", "to_csv"]


def run_fit_check(tenant: Any) -> dict[str, Any]:
    problems = Problems()
    report: dict[str, Any] = {
        "tenant": tenant.slug,
        "checked_at": timezone.now().isoformat(timespec="seconds"),
        "read_only": True,
    }
    gp_conn = getattr(tenant, "gp_connection", None)
    bill_conn = getattr(tenant, "bill_connection", None)
    gp = check_gp(gp_conn, tenant, problems) if gp_conn else None
    bill = check_bill(bill_conn, problems) if bill_conn else None
    if gp_conn is None:
        problems.add(
            "GP", BLOCKER, "GP connection", "This tenant has no GP connection.", "Add one (Connector admins)."
        )
    if bill_conn is None:
        problems.add(
            "BILL",
            BLOCKER,
            "BILL connection",
            "This tenant has no BILL connection.",
            "Add one (Connector admins).",
        )
    report["gp"] = gp.report if gp else {}
    report["bill"] = bill.report if bill else {}
    report["proposed_overrides"] = gp.proposed if gp else {}
    report["plan"] = (
        make_plan(gp, bill, tenant, problems, settings.BILL_CONCURRENCY_LIMIT)
        if gp and bill and gp.readable and bill.readable
        else {}
    )
    order = {BLOCKER: 0, PARKED: 1, WARNING: 2}
    report["problems"] = sorted(problems.as_dicts(), key=lambda p: order.get(p["severity"], 3))
    report["fits"] = not any(p.severity == BLOCKER for p in problems)
    return report

"""Read GP and BILL (never write) and say whether this tenant's systems fit the connector."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from connectors.fitcheck import run_fit_check, to_csv
from connectors.models import Tenant


class Command(BaseCommand):
    help = (
        "Read-only fit check of a tenant's GP and BILL: what fits, what differs, "
        "what the first sync would do."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--json", action="store_true", help="Print the whole report as JSON.")
        parser.add_argument("--csv", metavar="PATH", help="Also write every problem found to this CSV file.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = (
            Tenant.objects.filter(slug=options["tenant"])
            .select_related("gp_connection", "bill_connection")
            .first()
        )
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        report = run_fit_check(tenant)
        if options["csv"]:
            Path(options["csv"]).write_text(to_csv(report["problems"]), encoding="utf-8")
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, sort_keys=True, default=str))
            return
        self.stdout.write(summary(report))


def summary(report: dict[str, Any]) -> str:
    """The few lines a person reads first."""
    gp, bill, plan = report["gp"], report["bill"], report["plan"]
    counts = gp.get("counts", {})
    lines = [
        f"Fit check for {report['tenant']} at {report['checked_at']}: "
        + ("FITS" if report["fits"] else "DOES NOT FIT YET (see the blockers below)"),
        f"GP: read through {gp.get('interface', {}).get('used', 'none')} (SBA: "
        f"{gp.get('interface', {}).get('sba', 'not checked')}; Web Services: "
        f"{gp.get('interface', {}).get('web_services', 'not checked')}); ModifiedDate carries "
        f"{gp.get('modified_date', '?')}; "
        f"{counts.get('vendors_active', '?')} active vendors, {counts.get('vendors_on_hold', '?')} on hold; "
        f"{counts.get('approved_unpaid_invoices', '?')} approved unpaid invoices; "
        f"{counts.get('partly_paid_vouchers', '?')} partly paid",
        f"BILL: org {bill.get('org', {}).get('organization_id', '?')}; {bill.get('vendors', '?')} vendors; "
        f"{bill.get('chart_of_accounts', '?')} chart of accounts entries; calls left this hour "
        f"{bill.get('calls', {}).get('left_this_hour', '?')}",
        f"Plan: {plan.get('vendors_to_create', '?')} vendors and {plan.get('bills_to_create', '?')} "
        f"bills to create; "
        f"{plan.get('bills_ready', '?')} bills ready, waiting {plan.get('bills_waiting', {})}; about "
        f"{plan.get('bill_calls', {}).get('total', '?')} BILL calls, {plan.get('first_load_seconds', '?')} s",
    ]
    if report["proposed_overrides"]:
        lines.append(f"Proposed GP resource map: {json.dumps(report['proposed_overrides'], sort_keys=True)}")
    lines += [
        f"[{p['severity']}] {p['area']} {p['subject']}: {p['problem']} Fix: {p['fix']}"
        for p in report["problems"]
    ]
    return "\n".join(lines)

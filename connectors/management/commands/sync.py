"""Run a tenant's flows in the foreground and print what they did."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.models import Trigger
from connectors.models import Tenant
from connectors.sync.runner import run_bill_to_gp, run_gp_to_bill


class Command(BaseCommand):
    help = "Sync one tenant now (GP → BILL, then BILL → GP) and print a summary."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--once", action="store_true", help="Run once in the foreground (the only mode).")
        parser.add_argument(
            "--full", action="store_true", help="Re-read everything, not only changes since the cursor."
        )
        parser.add_argument("--direction", choices=["both", "gp-to-bill", "bill-to-gp"], default="both")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        result: dict[str, Any] = {}
        if options["direction"] in ("both", "gp-to-bill"):
            result["gp_to_bill"] = run_gp_to_bill(tenant, trigger=Trigger.PERSON, full=options["full"])
        if options["direction"] in ("both", "bill-to-gp"):
            result["bill_to_gp"] = run_bill_to_gp(tenant, trigger=Trigger.PERSON, full=options["full"])
        for direction, tally in result.items():
            self.stdout.write(f"{direction}:")
            for key, value in sorted(tally.items()):
                self.stdout.write(f"  {key}: {value}")
        self.stdout.write(json.dumps(result, sort_keys=True))

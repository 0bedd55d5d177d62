"""Replay ledger records: run the same flow again for the same rows. Always safe."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.models import ATTENTION_STATES, SyncRecord, Trigger
from connectors.sync.replay import replay_many


class Command(BaseCommand):
    help = "Replay records by id, or every record of a tenant that needs attention (optionally one state)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="Record ids (as shown in the admin).")
        parser.add_argument("--tenant", help="Replay this tenant's records that need attention.")
        parser.add_argument("--state", help="Only records in this state (e.g. failed, in_doubt, blocked).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["ids"]:
            ids = list(options["ids"])
        elif options["tenant"]:
            qs = SyncRecord.objects.filter(tenant__slug=options["tenant"])
            qs = (
                qs.filter(state=options["state"])
                if options["state"]
                else qs.filter(state__in=ATTENTION_STATES)
            )
            ids = list(qs.values_list("pk", flat=True))
        else:
            raise CommandError("Give record ids, or --tenant SLUG.")
        results = replay_many(ids, trigger=Trigger.REPLAY)
        self.stdout.write(
            f"Replayed {len(ids)} record(s): "
            + (", ".join(f"{k} {v}" for k, v in sorted(results.items())) or "none")
        )

"""Send each tenant's needs-attention digest now (the same function the scheduled task calls)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "E-mail each active tenant's contacts the records that newly need attention (once per problem)."

    def handle(self, *args: Any, **options: Any) -> None:
        from audit.alerts import send_digests

        self.stdout.write(f"{send_digests()} digest(s) sent.")

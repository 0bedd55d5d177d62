"""Send each tenant's needs-attention digest now (the same function the scheduled task calls)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit.alerts import send_digests


class Command(BaseCommand):
    help = "E-mail each active tenant's contacts the records that newly need attention (once per problem)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{send_digests()} digest(s) sent.")

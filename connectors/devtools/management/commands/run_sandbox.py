"""Start the GP SBA and BILL v3 sandboxes on loopback (for the demo, manual testing, benchmarks)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from connectors.devtools.sandboxes import add_sandbox_arguments, describe, start_both


class Command(BaseCommand):
    help = "Run the GP SBA (real NTLM) and BILL v3 sandboxes until interrupted."

    def add_arguments(self, parser: Any) -> None:
        add_sandbox_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        gp, bill = start_both(options)
        for line in describe(gp, bill, options):
            self.stdout.write(line)
        self.stdout.write("Press Ctrl-C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            gp.stop()
            bill.stop()

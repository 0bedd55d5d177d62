"""A GP reader process for `python -m bench agent`: what a qcluster worker is to the relay, one process
running one flow's GP calls one after another. `python -m bench._agent_reader <connection pk>
<vendor id> <seconds>` warms up, prints `ready`, waits for a line on stdin (all readers start
together), reads the vendor record for that long and prints its reads, seconds and CPU seconds as JSON."""

from __future__ import annotations

import json
import os
import sys
import time


def main(connection_pk: int, vendor_id: str, seconds: float) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpbill_site.settings")
    import django

    django.setup()
    # after django.setup() above: models need the app registry
    from connectors.gp.client import GPClient
    from connectors.models import GPConnection

    client = GPClient.for_connection(GPConnection.objects.get(pk=connection_pk))
    client.get_vendor(vendor_id)  # warm: imports, the database connection, the wake-up listener
    print("ready", flush=True)
    sys.stdin.readline()
    cpu_before, reads, started = time.process_time(), 0, time.monotonic()
    while time.monotonic() < started + seconds:
        client.get_vendor(vendor_id)
        reads += 1
    print(
        json.dumps(
            {
                "reads": reads,
                "seconds": time.monotonic() - started,
                "cpu_seconds": time.process_time() - cpu_before,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], float(sys.argv[3]))

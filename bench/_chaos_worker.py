"""A chaos worker: `python -m bench._chaos_worker <tenant pk>` does what a qcluster worker does for one
tenant, in a loop, until it is killed: process stored webhook events (the queue's redelivery of a
task whose worker died included), then both sync directions with their retry sweeps."""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import timedelta


def main(tenant_pk: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpbill_site.settings")
    import django

    django.setup()
    from django.db import close_old_connections
    from django.utils import timezone

    # after django.setup() above: models need the app registry
    from audit.models import Trigger, WebhookEvent
    from connectors.bill.http import Backoff
    from connectors.models import Tenant
    from connectors.sync import context
    from connectors.sync.bill_to_gp.events import process_event
    from connectors.sync.runner import run_bill_to_gp, run_gp_to_bill

    log = logging.getLogger("chaos.worker")
    # Short waits between retries: the sandboxes are local, and the run measures convergence, not patience.
    context.CLIENT_OPTIONS.update(
        gp={"sleep": lambda s: time.sleep(min(s, 0.2))},
        bill={"backoff": Backoff(base=0.05, cap=1.0, attempts=10)},
    )
    tenant = Tenant.objects.get(pk=tenant_pk)
    cycle = 0
    while True:
        cycle += 1
        close_old_connections()
        due = WebhookEvent.objects.filter(
            tenant=tenant,
            state__in=[WebhookEvent.RECEIVED, WebhookEvent.FAILED],
            received_at__lt=timezone.now() - timedelta(seconds=1),
        ).order_by("received_at")[:100]
        for event in due:
            try:
                process_event(event)
            except Exception as exc:  # noqa: BLE001 - recorded on the event; polling covers it
                log.warning("event %s: %s", event.event_id, exc)
        for flow in (run_gp_to_bill, run_bill_to_gp):
            try:
                flow(tenant, trigger=Trigger.SCHEDULE)
            except Exception as exc:  # noqa: BLE001 - a task that fails is run again by the schedule
                log.warning("%s failed: %s", flow.__name__, exc)
        print(f"cycle {cycle} done", flush=True)
        time.sleep(0.1)


if __name__ == "__main__":
    main(int(sys.argv[1]))

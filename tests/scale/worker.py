"""A qcluster-like worker for the scale-out tests: `python -m tests.scale.worker <tenant pk>` runs a
tenant's sync once against DATABASE_URL / REDIS_URL, both directions, as the two queues would (a first
load's GP → BILL is the long queue's `first_load`; see connectors/tasks.py), and prints one JSON line:
when its GP → BILL run started and finished, and what it did."""

from __future__ import annotations

import json
import os
import sys
import time


def main(tenant_pk: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpbill_site.settings")
    import django

    django.setup()
    from connectors.sync.runner import run_bill_to_gp, run_gp_to_bill
    from connectors.tasks import _tenant

    started = time.time()
    tenant = _tenant(tenant_pk)
    result = {"gp_to_bill": run_gp_to_bill(tenant), "bill_to_gp": run_bill_to_gp(tenant)}
    print(
        json.dumps(
            {"pid": os.getpid(), "started": started, "finished": time.time(), "result": result}, default=str
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))

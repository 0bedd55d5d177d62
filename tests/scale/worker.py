"""A qcluster-like worker for the scale-out tests: `python -m tests.scale.worker <tenant pk>` runs the
scheduled task (`connectors.tasks.sync_tenant`) once against DATABASE_URL / REDIS_URL and prints one
JSON line: when its GP → BILL run started and finished, and what it did."""

from __future__ import annotations

import json
import os
import sys
import time


def main(tenant_pk: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpbill_site.settings")
    import django

    django.setup()
    from connectors.tasks import sync_tenant

    started = time.time()
    result = sync_tenant(tenant_pk)
    print(json.dumps({"pid": os.getpid(), "started": started, "finished": time.time(), "result": result},
                     default=str), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))

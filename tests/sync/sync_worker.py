"""A worker process for kill tests: `python -m tests.sync.sync_worker <tenant pk>` runs one GP → BILL sync
against the database the test gives it (DATABASE_URL), exactly as a qcluster worker would."""

from __future__ import annotations

import os
import sys


def main(tenant_pk: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpbill_site.settings")
    import django

    django.setup()
    from connectors.tasks import sync_tenant

    print(sync_tenant(tenant_pk), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))

"""A worker process for the multi-process gate tests: `python -m tests.bill.worker <connection pk> <calls>`.

It sets Django up against the database the test gives it (DATABASE_URL in the environment), pushes
`calls` BILL calls through a BillClient, and prints one JSON line: successes, errors and client stats.
"""

from __future__ import annotations

import json
import os
import sys


def main(pk: int, calls: int) -> dict[str, object]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpbill_site.settings")
    import django

    django.setup()
    from connectors.bill.client import BillClient
    from connectors.bill.http import Backoff, BillError
    from connectors.models import BillConnection

    client = BillClient.for_connection(
        BillConnection.objects.get(pk=pk), backoff=Backoff(base=0.02, cap=0.5, attempts=12)
    )
    ok, errors = 0, []
    for _ in range(calls):
        try:
            client.session_info()
            ok += 1
        except BillError as exc:
            errors.append(f"{exc.code}: {exc.message}")
    s = client.stats
    return {
        "ok": ok,
        "errors": errors[:5],
        "error_count": len(errors),
        "requests": s.requests,
        "retries": s.retries,
        "logins": s.logins,
        "by_error": dict(s.by_error),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))), flush=True)

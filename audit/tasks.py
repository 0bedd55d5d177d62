"""django-q2 entry points for the admin's long actions and the alert digest. Thin on purpose."""

from __future__ import annotations

from connectors.models import Tenant

from .alerts import send_digest, send_digests
from .jobs import run
from .retention import prune


def run_job(job_id: int) -> str:
    return run(job_id).state


def send_alert_digests() -> int:
    return send_digests()


def send_alert_digest(tenant_id: int) -> bool:
    """One tenant's digest, for a per-tenant schedule next to its sync."""
    return send_digest(Tenant.objects.get(pk=tenant_id)) is not None


def prune_retention() -> dict[str, int]:
    """The daily retention prune (audit/retention.py says what is kept and for how long)."""
    return prune()

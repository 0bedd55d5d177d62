"""Keep role permissions, tenant schedules and the global retention schedule current."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .roles import sync_role_permissions
from .schedules import ensure_global_schedules, ensure_schedules, pass_due_times


def refresh_roles(sender: Any, **kwargs: Any) -> None:
    """Permissions for new models exist only after each migrate; roles follow them."""
    sync_role_permissions()
    ensure_global_schedules()
    pass_due_times()


def tenant_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A tenant's schedules follow its interval and active flag (idempotent)."""
    transaction.on_commit(lambda: ensure_schedules(instance))

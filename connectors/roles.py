"""The two roles and what each may do. The data migration and tests read these lists.

Least privilege: neither role may manage users, groups or permissions (only superusers do: a role
that could edit users could make itself superuser), and neither may add or change django-q
schedules or tasks (a schedule's `func` is any importable callable, `os.system` included, run by the
worker). The task queue is superusers' only: its results and schedule names span every tenant.
"""

from __future__ import annotations

FINANCE_STAFF = "Finance staff"
CONNECTOR_ADMINS = "Connector admins"

# Finance staff work on mappings and sync records; connection pages and secrets are never theirs.
FINANCE_STAFF_APPS = ("mappings", "audit")
FINANCE_STAFF_CONNECTOR_MODELS = ("tenant",)  # they may see which tenants exist (view only)
# Connector admins: everything of the connector's own apps; nothing of the task queue (its results
# and schedule names span every tenant: superusers' only, connectors/tenant_admin.py).
CONNECTOR_ADMIN_APPS = ("connectors", "mappings", "audit")


def sync_role_permissions(apps: object = None) -> None:
    """Create both groups and (re)assign their permissions. Idempotent; run after migrations, so a
    permission a role must not hold is taken away from existing installations too."""
    from django.contrib.auth.models import Group, Permission

    finance, _ = Group.objects.get_or_create(name=FINANCE_STAFF)
    admins, _ = Group.objects.get_or_create(name=CONNECTOR_ADMINS)
    finance_perms = Permission.objects.filter(
        content_type__app_label__in=FINANCE_STAFF_APPS
    ) | Permission.objects.filter(
        content_type__app_label="connectors",
        content_type__model__in=FINANCE_STAFF_CONNECTOR_MODELS,
        codename__startswith="view_",
    )
    finance.permissions.set(finance_perms)
    admins.permissions.set(Permission.objects.filter(content_type__app_label__in=CONNECTOR_ADMIN_APPS))

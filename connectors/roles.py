"""The two roles and what each may do. The data migration and tests read these lists."""

from __future__ import annotations

FINANCE_STAFF = "Finance staff"
CONNECTOR_ADMINS = "Connector admins"

# Finance staff work on mappings and sync records; connection pages and secrets are never theirs.
FINANCE_STAFF_APPS = ("mappings", "audit")
FINANCE_STAFF_CONNECTOR_MODELS = ("tenant",)  # they may see which tenants exist (view only)


def sync_role_permissions(apps: object = None) -> None:
    """Create both groups and (re)assign their permissions. Idempotent; run after migrations."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType  # noqa: F401

    finance, _ = Group.objects.get_or_create(name=FINANCE_STAFF)
    admins, _ = Group.objects.get_or_create(name=CONNECTOR_ADMINS)
    finance_perms = Permission.objects.filter(content_type__app_label__in=FINANCE_STAFF_APPS) | Permission.objects.filter(
        content_type__app_label="connectors",
        content_type__model__in=FINANCE_STAFF_CONNECTOR_MODELS,
        codename__startswith="view_",
    )
    finance.permissions.set(finance_perms)
    admin_apps = ("connectors", "mappings", "audit", "django_q", "auth")
    admins.permissions.set(Permission.objects.filter(content_type__app_label__in=admin_apps))

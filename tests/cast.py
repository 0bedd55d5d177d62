"""The small named cast every test borrows: a connector admin, a finance clerk, and their tenant."""

from __future__ import annotations

from django.contrib.auth.models import Group, User

from connectors.roles import CONNECTOR_ADMINS, FINANCE_STAFF, sync_role_permissions

CAST_PASSWORD = "correct-horse-battery-9"


def make_user(username: str, role: str) -> User:
    """A staff user in one role (roles are created by migration; permissions refreshed here)."""
    sync_role_permissions()
    user = User.objects.create_user(username, f"{username}@example.com", CAST_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def alice_admin() -> User:
    return make_user("alice", CONNECTOR_ADMINS)


def frank_finance() -> User:
    return make_user("frank", FINANCE_STAFF)

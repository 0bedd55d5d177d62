"""The small named cast every test borrows: a connector admin, a finance clerk, and their tenant.

Alice and Frank are members of the cast's tenant (`northwind`) whichever fixture is made first;
any other tenant a test creates is not theirs unless the test says so.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, User

from connectors.models import Tenant
from connectors.roles import CONNECTOR_ADMINS, FINANCE_STAFF, sync_role_permissions
from connectors.tenancy import add_member

CAST_PASSWORD = "correct-horse-battery-9"
CAST_TENANT_SLUG = "northwind"
CAST_USERS = ("alice", "frank")


def make_user(username: str, role: str) -> User:
    """A staff user in one role (roles are created by migration; permissions refreshed here)."""
    sync_role_permissions()
    user = User.objects.create_user(username, f"{username}@example.com", CAST_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    for tenant in Tenant.objects.filter(slug=CAST_TENANT_SLUG) if username in CAST_USERS else ():
        add_member(tenant, user)
    return user


def join_cast(tenant: Tenant) -> Tenant:
    """Make the cast's users (those already created) members of their tenant."""
    for user in User.objects.filter(username__in=CAST_USERS):
        add_member(tenant, user)
    return tenant


def alice_admin() -> User:
    return make_user("alice", CONNECTOR_ADMINS)


def frank_finance() -> User:
    return make_user("frank", FINANCE_STAFF)

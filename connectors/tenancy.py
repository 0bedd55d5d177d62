"""Which tenants a person may see: the one rule every admin page, view, job, import and export uses.

A hosted connector serves several companies from one database. A user sees a tenant's data only
through a `TenantMembership`; superusers see every tenant. Everything a person reaches is narrowed
with `scope()` so there is one place to get it right, not a check per page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .models import Tenant, TenantMembership


def sees_all(user: Any) -> bool:
    """Superusers run the install: they see every tenant and manage who belongs where."""
    return bool(getattr(user, "is_active", False) and getattr(user, "is_superuser", False))


def tenants_for(user: Any) -> QuerySet[Tenant]:
    """The tenants this person may see (none for an anonymous or inactive user)."""
    if sees_all(user):
        return Tenant.objects.all()
    if not getattr(user, "is_active", False) or not getattr(user, "pk", None):
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=user)


def scope(queryset: QuerySet, user: Any, path: str = "tenant") -> QuerySet:
    """Narrow `queryset` to rows of the user's tenants; `path` leads from the row to its tenant
    ("tenant", "record__tenant", or "" when the rows are tenants)."""
    if sees_all(user):
        return queryset
    memberships = _memberships(user) if user.is_active else TenantMembership.objects.none()
    return queryset.filter(**{f"{path}__in" if path else "pk__in": memberships.values("tenant_id")})


def may_see(user: Any, tenant: Tenant | int | None) -> bool:
    """One object's check, for code that holds a tenant rather than a queryset."""
    if tenant is None:
        return sees_all(user)
    if sees_all(user):
        return True
    tenant_id = tenant.pk if isinstance(tenant, Model) else tenant
    return _memberships(user).filter(tenant_id=tenant_id).exists()


def acting_user(request: HttpRequest) -> User | None:
    """The signed-in person a row records as its author (added_by, created_by); None when anonymous."""
    return request.user if isinstance(request.user, User) else None


def _memberships(user: Any) -> QuerySet[TenantMembership]:
    """The user's membership rows; none for a user without a primary key (anonymous)."""
    pk = getattr(user, "pk", None)
    return TenantMembership.objects.none() if pk is None else TenantMembership.objects.filter(user_id=pk)


def add_member(tenant: Tenant, user: Any, added_by: Any = None) -> TenantMembership:
    """Give a person a tenant (idempotent); used by the admin, the demo and tests."""
    membership, _ = TenantMembership.objects.get_or_create(
        tenant=tenant, user=user, defaults={"added_by": added_by if getattr(added_by, "pk", None) else None}
    )
    return membership

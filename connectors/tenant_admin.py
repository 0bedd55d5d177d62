"""Tenant isolation in the admin: one mixin every tenant-owned ModelAdmin uses, and one rule for the rest.

`TenantScopedAdmin` narrows the list, the record pages, bulk actions, exports, search, the tenant
filter's choices and the tenant drop-down of forms to the user's tenants (`connectors.tenancy`).
An object of another tenant is a 404, whichever page or button asks for it, so its ID tells nothing.

Every other registered admin (task queue, users, groups, memberships) holds install-wide data that no
tenant owns; `superusers_only_outside_tenants` makes those pages superusers' only, whatever a role's
permissions say, so a connector admin of a hosted install cannot read another company's task results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from .models import Tenant
from .tenancy import may_see, scope, sees_all, tenants_for


class TenantFilter(admin.SimpleListFilter):
    """The tenant filter, offering only the user's tenants (the same URL parameter as Django's own)."""

    title = "tenant"
    parameter_name = "tenant__id__exact"

    def __init__(self, request: HttpRequest, params: Any, model: type[Model], model_admin: Any) -> None:
        self.tenant_field = getattr(model_admin, "tenant_field", "tenant")
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in tenants_for(request.user).values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        if not str(value).isdigit():
            return queryset.none()
        return queryset.filter(**{f"{self.tenant_field}__id" if self.tenant_field else "pk": int(value)})


def sees_several_tenants(request: HttpRequest) -> bool:
    """Whether the person sees more than one tenant (asked once per request)."""
    cached = getattr(request, "_ml_several_tenants", None)
    if cached is None:
        cached = tenants_for(request.user)[:2].count() > 1
        request._ml_several_tenants = cached  # type: ignore[attr-defined]
    return cached


class TenantScopedAdmin(admin.ModelAdmin):
    """Use in place of admin.ModelAdmin (after mixins that add URLs, such as import-export's, and before
    ReadOnlyAdmin); set `tenant_field` to the path from a row to its tenant."""

    tenant_field = "tenant"

    def scope_queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return scope(queryset, request.user, self.tenant_field)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.scope_queryset(request, super().get_queryset(request))

    def get_list_filter(self, request: HttpRequest) -> Any:
        several = sees_several_tenants(request)
        return tuple(
            TenantFilter if f == "tenant" else f
            for f in super().get_list_filter(request)
            if several or f != "tenant"
        )

    def get_list_display(self, request: HttpRequest) -> Any:
        """The tenant column only for a person who sees several tenants: with one it says nothing."""
        shown = super().get_list_display(request)
        return shown if sees_several_tenants(request) else tuple(f for f in shown if f != "tenant")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Tenant:
            kwargs["queryset"] = tenants_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        """Another tenant's object and a missing one answer alike: 404, never a page or a redirect."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"There is no {self.opts.verbose_name} with this ID in your tenants.")
        return obj

    def in_scope(self, request: HttpRequest, obj: Model) -> bool:
        return self.scope_queryset(request, self.model._default_manager.filter(pk=obj.pk)).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if self.tenant_field == "tenant" and not may_see(request.user, obj.tenant_id):
            raise PermissionDenied  # the form's choices already say so; this holds for any other way in
        super().save_model(request, obj, form, change)


# --- install-wide pages ------------------------------------------------------------------------------

_PERMISSION_METHODS = (
    "has_view_permission",
    "has_change_permission",
    "has_add_permission",
    "has_delete_permission",
    "has_module_permission",
)


def _superusers_only(check: Callable[..., bool]) -> Callable[..., bool]:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> bool:
        return sees_all(request.user) and check(request, *args, **kwargs)

    wrapped.superusers_only = True  # type: ignore[attr-defined]
    return wrapped


def superusers_only_outside_tenants(site: admin.AdminSite = admin.site) -> None:
    """Every registered admin that is not tenant-scoped becomes superusers' only (idempotent).

    Run once the admin registry is complete (connectors' AppConfig.ready, after autodiscover); the
    access-matrix test checks that every registered admin is one or the other.
    """
    for model_admin in site._registry.values():
        if isinstance(model_admin, TenantScopedAdmin):
            continue
        for name in _PERMISSION_METHODS:
            check = getattr(model_admin, name)
            if not getattr(check, "superusers_only", False):
                setattr(model_admin, name, _superusers_only(check))


def is_superusers_only(model_admin: admin.ModelAdmin) -> bool:
    return all(getattr(getattr(model_admin, name), "superusers_only", False) for name in _PERMISSION_METHODS)

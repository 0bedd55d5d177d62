"""GP agents in the admin (Connector admins only, like every connection page): make one and see its
token once, revoke one, see when each last called in."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from connectors.tenancy import acting_user, tenants_for
from connectors.tenant_admin import TenantScopedAdmin

from . import tokens
from .models import GPAgent


@admin.register(GPAgent)
class GPAgentAdmin(TenantScopedAdmin):
    """A connector admin sees and makes agents of their own tenants only (TenantScopedAdmin)."""

    list_display = (
        "name",
        "tenant",
        "token_hint",
        "last_seen_at",
        "version",
        "host",
        "created_at",
        "revoked_at",
    )
    list_select_related = ("tenant",)
    list_filter = ("tenant",)
    readonly_fields = (
        "token_hint",
        "created_by",
        "created_at",
        "last_seen_at",
        "version",
        "host",
        "revoked_at",
    )
    actions = ["revoke"]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "also_serves":  # other companies it may serve: among the user's tenants only
            kwargs["queryset"] = tenants_for(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_fields(self, request: HttpRequest, obj: GPAgent | None = None) -> tuple[str, ...]:
        return (
            ("tenant", "name", "also_serves")
            if obj is None
            else ("tenant", "name", "also_serves", *self.readonly_fields)
        )

    def get_readonly_fields(self, request: HttpRequest, obj: GPAgent | None = None) -> tuple[str, ...]:
        return (*self.readonly_fields, "tenant") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: GPAgent, form: Any, change: bool) -> None:
        if change:
            return super().save_model(request, obj, form, change)
        agent, token = tokens.issue(obj.tenant, obj.name, acting_user(request))
        obj.pk, obj._state, obj.token_hash = (
            agent.pk,
            agent._state,
            agent.token_hash,
        )  # save_related sets also_serves
        request._new_agent_token = token  # type: ignore[attr-defined]  # shown once, by response_add

    def response_add(
        self, request: HttpRequest, obj: GPAgent, post_url_continue: str | None = None
    ) -> HttpResponse:
        """The one page that shows the token: it is in no message, cookie, log or column."""
        token = getattr(request, "_new_agent_token", None)
        if token is None:
            return super().response_add(request, obj, post_url_continue)
        response = TemplateResponse(
            request,
            "admin/connectors/agent_token.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "agent": obj,
                "token": token,
                "title": f"Agent token for {obj.name}",
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke: refuse these agents from now on", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[GPAgent]) -> None:
        for agent in queryset:
            tokens.revoke(agent)
            self.message_user(request, f"{agent}: revoked; it gets no more GP requests.", messages.SUCCESS)

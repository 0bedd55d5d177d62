"""Connection admin: connector admins only. Secrets are write-only and never listed."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import SECRET_FIELDS, BillConnection, GPConnection, Tenant
from .secret_forms import WriteOnlySecretForm


class GPConnectionForm(WriteOnlySecretForm):
    secret_fields = SECRET_FIELDS["GPConnection"]

    class Meta:
        model = GPConnection
        fields = "__all__"


class BillConnectionForm(WriteOnlySecretForm):
    secret_fields = tuple(f for f in SECRET_FIELDS["BillConnection"] if f != "session_id")

    class Meta:
        model = BillConnection
        exclude = ("session_id", "session_last_used_at")


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active", "poll_interval_minutes")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(GPConnection)
class GPConnectionAdmin(admin.ModelAdmin):
    form = GPConnectionForm
    list_display = ("tenant", "company", "base_url", "domain", "username", "verify_tls")
    list_select_related = ("tenant",)
    search_fields = ("tenant__name", "company", "base_url")
    actions = ["test_gp_connection"]

    @admin.action(description="Test connection (sign in to GP and read the company)")
    def test_gp_connection(self, request: HttpRequest, queryset: QuerySet[GPConnection]) -> None:
        from .gp.client import diagnose

        for conn in queryset.select_related("tenant"):
            problem = diagnose(conn)
            if problem:
                self.message_user(request, f"{conn.tenant}: {problem}", messages.ERROR)
            else:
                self.message_user(request, f"{conn.tenant}: GP answered for company '{conn.company}'.", messages.SUCCESS)


@admin.register(BillConnection)
class BillConnectionAdmin(admin.ModelAdmin):
    form = BillConnectionForm
    list_display = ("tenant", "organization_id", "username", "api_base_url", "webhook_subscription_id")
    list_select_related = ("tenant",)
    search_fields = ("tenant__name", "organization_id", "username")
    readonly_fields = ("session_last_used_at",)
    actions = ["test_connection"]

    @admin.action(description="Test connection (sign in to BILL and read the session)")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[BillConnection]) -> None:
        from .bill.client import BillClient

        for conn in queryset.select_related("tenant"):
            problem = BillClient.for_connection(conn).test_connection()
            if problem:
                self.message_user(request, f"{conn.tenant}: {problem}", messages.ERROR)
            else:
                self.message_user(request, f"{conn.tenant}: signed in to BILL org {conn.organization_id}.", messages.SUCCESS)

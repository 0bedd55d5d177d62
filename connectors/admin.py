"""Connection admin: connector admins only. Secrets are write-only and never listed."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from .models import SECRET_FIELDS, BillConnection, GPConnection, GPResourceOverride, Tenant
from .relay import admin as relay_admin  # noqa: F401  (registers the GP agent pages)
from .secret_forms import WriteOnlySecretForm


class GPConnectionForm(WriteOnlySecretForm):
    secret_fields = SECRET_FIELDS["GPConnection"]

    class Meta:
        model = GPConnection
        fields = "__all__"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if "route" in self.fields:
            self.fields["route"].required = False  # left out of a POST: keep how GP is reached now

    def clean_route(self) -> str:
        return self.cleaned_data.get("route") or self.instance.route or GPConnection.ROUTE_DIRECT


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
    actions = ["sync_now"]

    def get_urls(self) -> list:
        from django.urls import path

        from .fitcheck.views import fit_check_view

        return [path("<path:object_id>/fit-check/", self.admin_site.admin_view(fit_check_view),
                     name="connectors_tenant_fit_check"), *super().get_urls()]

    def has_sync_permission(self, request: HttpRequest) -> bool:
        """Starting a sync is a job: the same permission the dashboard's buttons need."""
        return request.user.has_perm("audit.add_job")

    @admin.action(description="Sync now (both directions, as a background job)", permissions=["sync"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        from audit import jobs
        from audit.models import Job

        for tenant in queryset:
            job = jobs.start(Job.SYNC_NOW, user=request.user, tenant=tenant)
            self.message_user(request, f"{tenant}: sync started (job {job.pk}); see its progress under Jobs.",
                              messages.SUCCESS)


def webhook_url(request: HttpRequest, tenant: Tenant) -> str:
    """Where BILL must deliver this tenant's events: SITE_URL when set, else the address in use."""
    path = reverse("bill-webhook", kwargs={"slug": tenant.slug})
    return settings.SITE_URL.rstrip("/") + path if settings.SITE_URL else request.build_absolute_uri(path)


@admin.register(GPConnection)
class GPConnectionAdmin(admin.ModelAdmin):
    form = GPConnectionForm
    list_display = ("tenant", "company", "base_url", "domain", "username", "verify_tls", "fit_check")
    list_select_related = ("tenant",)
    search_fields = ("tenant__name", "company", "base_url")
    actions = ["test_gp_connection"]

    @admin.display(description="fit check")
    def fit_check(self, obj: GPConnection) -> str:
        from django.utils.html import format_html

        url = reverse("admin:connectors_tenant_fit_check", args=[obj.tenant_id])
        return format_html('<a href="{}">Fit check (read only)</a>', url)

    @admin.action(description="Test connection (sign in to GP and read the company)")
    def test_gp_connection(self, request: HttpRequest, queryset: QuerySet[GPConnection]) -> None:
        from .gp.client import diagnose

        for conn in queryset.select_related("tenant"):
            problem = diagnose(conn)
            if problem:
                self.message_user(request, f"{conn.tenant}: {problem}", messages.ERROR)
            else:
                self.message_user(request, f"{conn.tenant}: GP answered for company '{conn.company}'.", messages.SUCCESS)


@admin.register(GPResourceOverride)
class GPResourceOverrideAdmin(admin.ModelAdmin):
    """How one GP server differs from Part B. Versions are proposed, then confirmed by a Connector admin
    (the connectors app is theirs alone); a confirmed version is never edited: propose a new one."""

    list_display = ("connection", "version", "values", "proposed_by", "proposed_at", "confirmed_by", "confirmed_at")
    list_select_related = ("connection", "proposed_by", "confirmed_by")
    readonly_fields = ("version", "proposed_by", "proposed_at", "confirmed_by", "confirmed_at")
    actions = ["confirm"]

    def has_change_permission(self, request: HttpRequest, obj: GPResourceOverride | None = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.confirmed_at is None)

    def has_delete_permission(self, request: HttpRequest, obj: GPResourceOverride | None = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or obj.confirmed_at is None)

    def save_model(self, request: HttpRequest, obj: GPResourceOverride, form: object, change: bool) -> None:
        if not change:
            obj.proposed_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    @admin.action(description="Confirm: read this GP server with these settings from the next run", permissions=["change"])
    def confirm(self, request: HttpRequest, queryset: QuerySet[GPResourceOverride]) -> None:
        from .overrides import confirm

        for override in queryset.select_related("connection"):
            confirm(override, request.user)
            self.message_user(request, f"{override}: in force from the next run.", messages.SUCCESS)


@admin.register(BillConnection)
class BillConnectionAdmin(admin.ModelAdmin):
    form = BillConnectionForm
    list_display = ("tenant", "organization_id", "username", "api_base_url", "webhook_subscription_id")
    list_select_related = ("tenant",)
    search_fields = ("tenant__name", "organization_id", "username")
    readonly_fields = ("session_last_used_at",)
    actions = ["test_connection", "subscribe_webhooks", "rotate_webhook_key", "check_webhook_subscription"]

    @admin.action(description="Test connection (sign in to BILL and read the session)")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[BillConnection]) -> None:
        from .bill.client import BillClient

        for conn in queryset.select_related("tenant"):
            problem = BillClient.for_connection(conn).test_connection()
            if problem:
                self.message_user(request, f"{conn.tenant}: {problem}", messages.ERROR)
            else:
                self.message_user(request, f"{conn.tenant}: signed in to BILL org {conn.organization_id}.", messages.SUCCESS)

    def _each(self, request: HttpRequest, queryset: QuerySet[BillConnection], work: object, done: str) -> None:
        """Run `work(conn)` per connection; one plain sentence per tenant, success or failure."""
        from .bill.http import BillError

        for conn in queryset.select_related("tenant"):
            try:
                outcome = work(conn)  # type: ignore[operator]
            except BillError as exc:
                self.message_user(request, f"{conn.tenant}: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, f"{conn.tenant}: {done.format(outcome=outcome)}", messages.SUCCESS)

    @admin.action(description="Subscribe to BILL webhooks (vendor, bill and payment events)")
    def subscribe_webhooks(self, request: HttpRequest, queryset: QuerySet[BillConnection]) -> None:
        from .subscriptions import subscribe

        self._each(request, queryset, lambda c: subscribe(c.tenant, webhook_url(request, c.tenant)),
                   "subscribed (subscription {outcome}); the security key is stored encrypted.")

    @admin.action(description="Rotate the webhook security key")
    def rotate_webhook_key(self, request: HttpRequest, queryset: QuerySet[BillConnection]) -> None:
        from .subscriptions import rotate_key

        self._each(request, queryset, lambda c: rotate_key(c.tenant), "new webhook security key stored.")

    @admin.action(description="Check the webhook subscription (re-enable and backfill if BILL disabled it)")
    def check_webhook_subscription(self, request: HttpRequest, queryset: QuerySet[BillConnection]) -> None:
        from .subscriptions import watchdog

        self._each(request, queryset, lambda c: watchdog(c.tenant), "webhook subscription {outcome}.")

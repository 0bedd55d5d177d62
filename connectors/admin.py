"""Connection admin: connector admins only. Secrets are write-only and never listed."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from audit import jobs
from audit.models import Job
from connectors.sync.gp_to_bill.bill_payload import HOLD_UNKNOWN
from mappings.approval import records_waiting_for, release_ids

from .bill.client import BillClient
from .bill.http import BillError
from .fitcheck.views import fit_check_view
from .gp.transport import diagnose
from .models import (
    BILL_GATEWAYS,
    SECRET_FIELDS,
    BillConnection,
    GPConnection,
    GPResourceOverride,
    Tenant,
    TenantMembership,
)
from .overrides import confirm
from .relay import admin as relay_admin  # noqa: F401  (registers the GP agent pages)
from .secret_forms import ConnectionForm
from .subscriptions import rotate_key, subscribe, watchdog
from .tenancy import acting_user, add_member, sees_all, tenants_for
from .tenant_admin import TenantScopedAdmin

log = logging.getLogger(__name__)


class GPConnectionForm(ConnectionForm):
    secret_fields = SECRET_FIELDS["GPConnection"]
    url_fields = ("base_url",)

    class Meta:
        model = GPConnection
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "interface" in self.fields:  # a form that does not send it keeps SBA, as before the choice existed
            self.fields["interface"].required = False
        if "route" in self.fields:
            self.fields["route"].required = False  # left out of a POST: keep how GP is reached now
            self.fields["route"].help_text = (
                "Through an agent, the GP password is kept on the agent's machine only: switching to it "
                "deletes the password stored here."
            )
        self.password_dropped = False

    def clean_route(self) -> str:
        return self.cleaned_data.get("route") or self.instance.route or GPConnection.ROUTE_DIRECT

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("route") == GPConnection.ROUTE_AGENT and cleaned.get("password"):
            self.add_error(
                "password",
                "Through an agent the GP password is kept on the agent's machine only "
                "(its MLC_AGENT_GP_PASSWORD setting): leave this blank.",
            )
        return cleaned

    def save(self, commit: bool = True) -> Any:
        """Through an agent the connector never holds the GP password: a stored one is deleted."""
        if self.instance.route == GPConnection.ROUTE_AGENT:
            self.password_dropped = bool(self.instance.pk and self.instance.password)
            self.instance.password = ""
        return super().save(commit)

    def clean_interface(self) -> str:
        return self.cleaned_data.get("interface") or "sba"


class BillConnectionForm(ConnectionForm):
    secret_fields = tuple(f for f in SECRET_FIELDS["BillConnection"] if f != "session_id")
    url_fields, bill_hosts = ("api_base_url", "webhook_api_base_url"), True

    class Meta:
        model = BillConnection
        exclude = ("session_id", "session_last_used_at")

    def clean(self) -> dict[str, Any]:
        """Production and stage fill in BILL's gateway addresses; only 'other' takes typed URLs. Filled
        in before the address checks (ConnectionForm.clean), so a URL typed then ignored is never judged."""
        gateways = BILL_GATEWAYS.get(self.cleaned_data.get("environment", ""))
        if gateways:
            self.cleaned_data["api_base_url"], self.cleaned_data["webhook_api_base_url"] = gateways
            for name in ("api_base_url", "webhook_api_base_url"):
                self.errors.pop(name, None)  # a typed address was refused by its field, yet is not used
        return super().clean()


class MembershipInline(admin.TabularInline):
    """Who may see this tenant; on the tenant page of superusers only (they alone grant access)."""

    model = TenantMembership
    fields = ("user", "added_by", "added_at")
    readonly_fields = ("added_by", "added_at")
    extra = 0
    verbose_name = "person who may see this tenant"
    verbose_name_plural = "people who may see this tenant"

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return sees_all(request.user)

    has_change_permission = has_add_permission = has_delete_permission = has_view_permission


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    tenant_field = ""  # the rows are tenants
    list_display = ("name", "slug", "is_active", "poll_interval_minutes")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    actions = ["sync_now"]
    inlines = [MembershipInline]

    def save_model(self, request: HttpRequest, obj: Tenant, form: object, change: bool) -> None:
        """A connector admin who adds a tenant becomes its member, or it would vanish from their view."""
        super().save_model(request, obj, form, change)
        if not change and not sees_all(request.user):
            add_member(obj, request.user, added_by=request.user)
        if change and "send_without_hold_check" in form.changed_data and obj.send_without_hold_check:  # type: ignore[attr-defined]
            self._release_hold_check_waiters(request, obj)

    def _release_hold_check_waiters(self, request: HttpRequest, tenant: Tenant) -> None:
        """Accepting invoices without GP's hold check releases those that waited on it, as approving a
        mapping releases its waiters: nobody has to find and Replay them."""
        waiting = records_waiting_for(tenant, HOLD_UNKNOWN)
        if waiting:
            release_ids(waiting)
            self.message_user(
                request,
                f"{len(waiting):,} invoice(s) that waited for GP's hold check are on their way to BILL.",
            )

    def save_formset(self, request: HttpRequest, form: object, formset: object, change: bool) -> None:
        for membership in formset.save(commit=False):  # type: ignore[attr-defined]
            membership.added_by = membership.added_by or request.user
            membership.save()
        for gone in formset.deleted_objects:  # type: ignore[attr-defined]
            gone.delete()

    def get_urls(self) -> list:
        from django.urls import path

        return [
            path(
                "<path:object_id>/fit-check/",
                self.admin_site.admin_view(fit_check_view),
                name="connectors_tenant_fit_check",
            ),
            *super().get_urls(),
        ]

    def has_sync_permission(self, request: HttpRequest) -> bool:
        """Starting a sync is a job: the same permission the dashboard's buttons need."""
        return request.user.has_perm("audit.add_job")

    @admin.action(description="Sync now (both directions, as a background job)", permissions=["sync"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            job = jobs.start(Job.SYNC_NOW, user=request.user, tenant=tenant)
            self.message_user(
                request,
                f"{tenant}: sync started (job {job.pk}); see its progress under Jobs.",
                messages.SUCCESS,
            )


class AuditedConnectionAdmin(TenantScopedAdmin):
    """Connection changes go to the admin's history (who, when, each field before → after); a secret
    appears only as "replaced", never its value."""

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        if add or not (form.changed_data or getattr(form, "password_dropped", False)):
            return super().construct_change_message(request, form, formsets, add)
        secrets = set(SECRET_FIELDS.get(self.model.__name__, ()))
        described = []
        for name in form.changed_data:
            label = str(form.fields[name].label or name)
            if name in secrets:
                described.append(f"{label} (replaced)")
            else:
                described.append(
                    f"{label}: {_shown(form.initial.get(name))} → {_shown(form.cleaned_data.get(name))}"
                )
        if getattr(form, "identity_change", None) and "session_id" in secrets:
            described.append("stored BILL session (dropped)")
        if getattr(form, "password_dropped", False):
            described.append("stored GP password (deleted: kept on the agent's machine only)")
        log.info(
            "%s %s changed by %s: %s",
            self.model.__name__,
            form.instance.pk,
            request.user,
            "; ".join(described),
        )
        return [{"changed": {"fields": described}}]


def _shown(value: Any) -> str:
    if isinstance(value, models.Model):
        return str(value)
    text = "" if value is None else str(value)
    return repr(text[:200]) if text else "(empty)"


def webhook_url(request: HttpRequest, tenant: Tenant) -> str:
    """Where BILL must deliver this tenant's events: SITE_URL when set, else the address in use."""
    path = reverse("bill-webhook", kwargs={"slug": tenant.slug})
    return settings.SITE_URL.rstrip("/") + path if settings.SITE_URL else request.build_absolute_uri(path)


@admin.register(TenantMembership)
class TenantMembershipAdmin(admin.ModelAdmin):
    """Every membership in one list; install-wide, so superusers' only (connectors.tenant_admin)."""

    list_display = ("user", "tenant", "added_by", "added_at")
    list_filter = ("tenant",)
    list_select_related = ("user", "tenant", "added_by")
    search_fields = ("user__username", "user__email", "tenant__name", "tenant__slug")
    readonly_fields = ("added_by", "added_at")

    def save_model(self, request: HttpRequest, obj: TenantMembership, form: object, change: bool) -> None:
        obj.added_by = obj.added_by or acting_user(request)
        super().save_model(request, obj, form, change)


@admin.register(GPConnection)
class GPConnectionAdmin(AuditedConnectionAdmin):
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
        for conn in queryset.select_related("tenant"):
            problem, note = diagnose(conn)
            if problem:
                self.message_user(request, f"{conn.tenant}: {problem}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{conn.tenant}: GP answered for company '{conn.company}'.", messages.SUCCESS
                )
            if note:  # what this interface cannot do, said plainly every time
                self.message_user(request, f"{conn.tenant}: {note}", messages.WARNING)


@admin.register(GPResourceOverride)
class GPResourceOverrideAdmin(TenantScopedAdmin):
    """How one GP server differs from Part B. Versions are proposed, then confirmed by a Connector admin
    (the connectors app is theirs alone); a confirmed version is never edited: propose a new one.
    Scoped like the connection it belongs to."""

    tenant_field = "connection__tenant"

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "connection":  # only the user's tenants' GP connections are offered
            kwargs["queryset"] = GPConnection.objects.filter(tenant__in=tenants_for(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    list_display = (
        "connection",
        "version",
        "values",
        "proposed_by",
        "proposed_at",
        "confirmed_by",
        "confirmed_at",
    )
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

    @admin.action(
        description="Confirm: read this GP server with these settings from the next run",
        permissions=["change"],
    )
    def confirm(self, request: HttpRequest, queryset: QuerySet[GPResourceOverride]) -> None:
        for override in queryset.select_related("connection"):
            confirm(override, request.user)
            self.message_user(request, f"{override}: in force from the next run.", messages.SUCCESS)


@admin.register(BillConnection)
class BillConnectionAdmin(AuditedConnectionAdmin):
    form = BillConnectionForm
    list_display = ("tenant", "organization_id", "environment", "username", "webhook_subscription_id")
    list_select_related = ("tenant",)
    search_fields = ("tenant__name", "organization_id", "username")
    readonly_fields = ("session_last_used_at",)
    actions = ["test_connection", "subscribe_webhooks", "rotate_webhook_key", "check_webhook_subscription"]

    @admin.action(description="Test connection (sign in to BILL and read the session)")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[BillConnection]) -> None:
        for conn in queryset.select_related("tenant"):
            problem = BillClient.for_connection(conn).test_connection()
            if problem:
                self.message_user(request, f"{conn.tenant}: {problem}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{conn.tenant}: signed in to BILL org {conn.organization_id}.", messages.SUCCESS
                )

    def _each(
        self, request: HttpRequest, queryset: QuerySet[BillConnection], work: object, done: str
    ) -> None:
        """Run `work(conn)` per connection; one plain sentence per tenant, success or failure."""
        for conn in queryset.select_related("tenant"):
            try:
                outcome = work(conn)  # type: ignore[operator]
            except BillError as exc:
                self.message_user(request, f"{conn.tenant}: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, f"{conn.tenant}: {done.format(outcome=outcome)}", messages.SUCCESS)

    @admin.action(
        description="Subscribe to BILL webhooks (vendor, bill and payment events; replaces older ones)"
    )
    def subscribe_webhooks(self, request: HttpRequest, queryset: QuerySet[BillConnection]) -> None:
        def work(conn: BillConnection) -> str:
            subscribe(conn.tenant, webhook_url(request, conn.tenant))
            conn.refresh_from_db()
            if conn.payment_webhooks_refused:
                return (
                    "vendor and bill events only: BILL does not offer payment webhooks to this organization "
                    "(payments found by polling)"
                )
            return "vendor, bill and payment events"

        self._each(
            request,
            queryset,
            work,
            "subscribed to {outcome}; older subscriptions deleted; the security keys are stored encrypted.",
        )

    @admin.action(description="Rotate the webhook security key")
    def rotate_webhook_key(self, request: HttpRequest, queryset: QuerySet[BillConnection]) -> None:
        self._each(request, queryset, lambda c: rotate_key(c.tenant), "new webhook security key stored.")

    @admin.action(description="Check the webhook subscription (re-enable and backfill if BILL disabled it)")
    def check_webhook_subscription(self, request: HttpRequest, queryset: QuerySet[BillConnection]) -> None:
        self._each(request, queryset, lambda c: watchdog(c.tenant), "webhook subscription {outcome}.")


from . import queue_admin  # noqa: E402,F401  (re-registers django-q's task pages: resubmit for superusers only)

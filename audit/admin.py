"""Admin for the ledger: Needs attention, every record, the record page with its lineage, jobs.

Records are evidence, so nothing here edits one directly: people replay, stop (Don't sync) or
resume a record, and each of those is a domain function in `audit.actions` that writes the trail.
List pages stay fast on a large ledger: capped counts, no facets, one join for the tenant.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from connectors.sync import vendor_conflict
from connectors.sync.bill_to_gp import manual_payments
from connectors.sync.vendor_fields import FIELD_LABELS
from connectors.tenant_admin import TenantScopedAdmin
from mappings.models import VendorMapping

from . import actions, jobs, lineage, totals, waits
from .actions import Replay
from .models import (
    Attempt,
    AttentionRecord,
    Job,
    Kind,
    State,
    SyncRecord,
    WebhookEvent,
    WebhookRejection,
    attention_q,
)
from .words import money_text

KIND_WORDS: dict[str, str] = {
    Kind.VENDOR: "Vendor",
    Kind.GL_ACCOUNT: "GL account",
    Kind.GP_PAYMENT: "Payment from BILL",
    Kind.CLASSIFICATION: "Department / location / class",
    Kind.BILL: "Invoice",
    Kind.BILL_DUE: "Paid in GP outside BILL",
    Kind.VENDOR_CREDIT: "Credit memo",
    Kind.CREDIT_APPLY: "Vendor credit used in BILL → applied in GP",
}


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows: a full COUNT(*) over a large ledger on every page view is the slow part."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        rows = self.object_list[: self.CAP + 1]
        return rows.count() if isinstance(rows, QuerySet) else len(rows)  # the admin pages a QuerySet

    @property
    def is_capped(self) -> bool:
        return self.count > self.CAP


class CauseFilter(admin.SimpleListFilter):
    title = "cause"
    parameter_name = "cause"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("mapping", "Waiting for a mapping or GP"),
            ("error", "An error or unknown outcome"),
            ("decision", "Needs a decision"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "mapping":
            return queryset.filter(state=State.BLOCKED)
        if value == "error":
            return queryset.filter(state__in=[State.FAILED, State.IN_DOUBT, State.SENDING])
        if value == "decision":
            return queryset.filter(state__in=[State.FLAGGED, State.CONFLICT])
        return queryset


class WaitingForFilter(admin.SimpleListFilter):
    """`?waiting_for=vendor:ACME0001`: the records waiting for one mapping or check (audit.waits), as a
    mapping's "records waiting" link opens them. Shown only while it is set, in a clerk's words."""

    title = "waiting for"
    parameter_name = "waiting_for"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        return [(value, waits.WaitFor.parse(value).words)] if value else []

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        wanted = waits.WaitFor.parse(value)
        return waits.waiting_for(queryset, wanted.kind, wanted.key)


class AgeFilter(admin.SimpleListFilter):
    title = "since"
    parameter_name = "since"
    SPANS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("hour", "Changed in the last hour"),
            ("day", "Changed today"),
            ("week", "Changed this week"),
            ("old", "Unchanged for over a week"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value in self.SPANS:
            return queryset.filter(updated_at__gte=timezone.now() - self.SPANS[value])
        if value == "old":
            return queryset.filter(updated_at__lt=timezone.now() - self.SPANS["week"])
        return queryset


class DontSyncForm(forms.Form):
    reason = forms.CharField(
        label="Why should this not be synced?",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept on the record and in its trail, with your name.",
    )


def waiting_words(job: Job, what: str = "this record") -> str:
    """A replay that is already queued or running, in a sentence: what it is doing, who asked, when."""
    now = "is running now" if job.state == Job.RUNNING else "is queued and starts shortly"
    who = job.user.get_username() if job.user else "the connector"
    when = date_format(timezone.localtime(job.created_at), "M j, H:i T")
    return f"A replay of {what} {now} (asked for by {who}, {when})."


def state_badge(record: SyncRecord) -> str:
    return format_html('<span class="ml-badge ml-{}">{}</span>', record.state, record.get_state_display())


class RecordAdminBase(TenantScopedAdmin):
    """Shared by Needs attention and All records: read-only rows, person actions, the record page.
    Only the user's tenants' records, for the lists, the record page and every button."""

    list_select_related = ("tenant",)
    search_fields: ClassVar[tuple[str, ...]] = (
        "source_key",
        "target_id",
        "label",
        "gp_vendor",
        "document_number",
    )
    search_help_text = "GP vendor or voucher, BILL ID, or the vendor/invoice text."
    ordering = ("-updated_at", "-id")
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    actions = ("replay_selected", "dont_sync_selected", "gp_manual_payments_file")
    change_form_template = "admin/audit/record_page.html"
    readonly_fields = (
        "tenant",
        "kind",
        "source_key",
        "target_id",
        "state",
        "reason",
        "fix",
        "waiting_on",
        "label",
        "attempts",
        "next_retry_at",
        "created_at",
        "updated_at",
    )
    exclude = ("synced_hash", "snapshot")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the ledger is evidence of what was sent

    change_list_template = "admin/audit/record_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The GP vendor's name, as its mapping knows it (a vendor record is its own vendor).
        name = VendorMapping.objects.filter(tenant=OuterRef("tenant"), gp_vendor_id=OuterRef("gp_vendor"))
        own = VendorMapping.objects.filter(tenant=OuterRef("tenant"), gp_vendor_id=OuterRef("source_key"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                vendor_name=Subquery(name.values("gp_name")[:1]), own_name=Subquery(own.values("gp_name")[:1])
            )
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        cl = (context or {}).get("cl")
        if cl is not None and context is not None:
            capped = cl.result_count > CappedCountPaginator.CAP
            context["totals"] = [] if capped else totals.by_state(cl.queryset)
            context["totals_capped"] = capped
        return response

    @admin.display(description="document", ordering="gp_vendor")
    def record_link(self, obj: SyncRecord) -> str:
        """Vendor name and invoice number first; the GP and BILL keys on a quieter line below."""
        url = reverse("admin:audit_syncrecord_change", args=[obj.pk])
        vendor = getattr(obj, "vendor_name", None) or obj.gp_vendor
        if obj.kind == Kind.VENDOR:
            vendor = getattr(obj, "own_name", None) or obj.label or obj.source_key
        if obj.kind == Kind.BILL and vendor:
            title = vendor
            what = f"Invoice {obj.document_number}" if obj.document_number else "Invoice"
        elif obj.kind == Kind.GP_PAYMENT and vendor:
            title, what = vendor, "Payment from BILL"
        elif obj.kind == Kind.VENDOR_CREDIT and vendor:
            title = vendor
            what = f"Credit memo {obj.document_number}" if obj.document_number else "Credit memo"
        elif obj.kind == Kind.CREDIT_APPLY and vendor:
            title, what = (
                vendor,
                f"Vendor credit used in BILL → credit memo {obj.document_number} applied in GP",
            )
        else:
            title, what = (
                vendor or obj.label or obj.source_key,
                KIND_WORDS.get(obj.kind, obj.get_kind_display()),
            )
        gp_id, bill_id = (
            (obj.target_id, obj.source_key)
            if obj.kind in (Kind.GP_PAYMENT, Kind.CREDIT_APPLY)
            else (obj.source_key, obj.target_id)
        )
        ids = " · ".join(
            x for x in (f"GP {gp_id}" if gp_id else "", f"BILL {bill_id}" if bill_id else "") if x
        )
        ids = format_html_join(" · ", '<span class="ml-id">{}</span>', ((x,) for x in ids.split(" · ") if x))
        return format_html(
            '<a href="{}" class="ml-doc">{}</a><div>{}</div><div class="ml-sub ml-ids">{}</div>',
            url,
            title,
            what,
            ids,
        )

    @admin.display(description="invoice date", ordering="document_date", empty_value="")
    def invoice_date(self, obj: SyncRecord) -> str:
        return date_format(obj.document_date, "M j, Y") if obj.document_date else ""

    @admin.display(description="due", ordering="due_date", empty_value="")
    def due(self, obj: SyncRecord) -> str:
        return date_format(obj.due_date, "M j, Y") if obj.due_date else ""

    @admin.display(description="amount", ordering="amount", empty_value="")
    def amount_text(self, obj: SyncRecord) -> str:
        return money_text(obj.amount, obj.currency)

    @admin.display(description="changed", ordering="updated_at")
    def changed(self, obj: SyncRecord) -> str:
        return date_format(timezone.localtime(obj.updated_at), "M j, H:i T")

    @admin.display(description="what happened, and what fixes it", ordering="state")
    def problem(self, obj: SyncRecord) -> str:
        return format_html(
            '{}<div>{}</div><div class="ml-fix">{}</div>',
            state_badge(obj),
            obj.reason or "",
            self.what_to_do(obj),
        )

    @admin.display(description="what fixes it")
    def what_to_do(self, obj: SyncRecord) -> str:
        links = format_html_join(
            "",
            '<div class="ml-sub">→ <a href="{}">{}</a></div>',
            ((link.url, link.text) for link in lineage.waiting_links(obj)),
        )
        button = ""
        if lineage.can_replay(obj) and obj.state != State.BLOCKED:
            url = reverse("admin:audit_syncrecord_replay", args=[obj.pk])
            # formaction posts the list's own form, so the row button carries its CSRF token.
            button = format_html(
                '<button type="submit" class="ml-row-button" formaction="{}">Replay</button>', url
            )
        return format_html("<div>{}</div>{}{}", obj.fix or "", links, button)

    @admin.display(description="state", ordering="state")
    def state_label(self, obj: SyncRecord) -> str:
        return state_badge(obj)

    # --- actions (bulk) -------------------------------------------------------------------------

    @admin.action(description="Replay selected records (runs as a background job)", permissions=["change"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        ids = list(queryset.values_list("pk", flat=True)[:5000])
        job = jobs.start(Job.REPLAY, user=request.user, record_ids=ids)
        self.message_user(request, f"Replaying {len(ids)} record(s); progress is shown below.")
        return HttpResponseRedirect(reverse("ml:job", args=[job.pk]))

    @admin.action(
        description="Download the GP manual-payments file (payments to record in GP)", permissions=["view"]
    )
    def gp_manual_payments_file(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        response = HttpResponse(
            manual_payments.file_text(queryset.order_by("id")), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="gp-manual-payments.csv"'
        return response

    @admin.action(description="Don't sync selected records (asks for a reason)", permissions=["change"])
    def dont_sync_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = DontSyncForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = actions.dont_sync(queryset, form.cleaned_data["reason"], request.user)
            self.message_user(request, done.message(), messages.WARNING if done.moved else messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Don't sync these records?",
            "form": form,
            "records": queryset[:200],
            "count": queryset.count(),
            "opts": self.model._meta,
            "action": "dont_sync_selected",
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/audit/dont_sync.html", context)

    # --- the record page and its buttons ----------------------------------------------------------

    def get_urls(self) -> list[Any]:
        if self.model is not SyncRecord:
            return super().get_urls()
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/replay/", wrap(self.replay_view), name="audit_syncrecord_replay"),
            path("<int:pk>/dont-sync/", wrap(self.dont_sync_view), name="audit_syncrecord_dont_sync"),
            path("<int:pk>/resume/", wrap(self.resume_view), name="audit_syncrecord_resume"),
            path("<int:pk>/keep/", wrap(self.keep_view), name="audit_syncrecord_keep"),
            *super().get_urls(),
        ]

    def _record_for_post(self, request: HttpRequest, pk: int) -> SyncRecord:
        if request.method != "POST":
            raise PermissionDenied("Use the button on the record page.")
        record = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, record):
            raise PermissionDenied
        return record

    def _back(self, request: HttpRequest, record: SyncRecord) -> HttpResponseRedirect:
        back = request.POST.get("next") or ""
        if not back.startswith("/admin/"):
            back = reverse("admin:audit_syncrecord_change", args=[record.pk])
        return HttpResponseRedirect(back)

    def replay_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Replay runs as a job (GP or BILL may be slow); the job page shows it and where it ended."""
        record = self._record_for_post(request, pk)
        replay = actions.start_replay(record, request.user)
        return self._to_replay(request, record, replay, f"Replaying {record.label or record}")

    def _to_replay(
        self, request: HttpRequest, record: SyncRecord, replay: Replay, started: str, before: str = ""
    ) -> HttpResponse:
        """To the job page of the replay, saying whether this press queued it or found it waiting."""
        job = replay.job
        if replay.queued_now:
            self.message_user(request, f"{started}; progress is shown below.")
            return HttpResponseRedirect(reverse("ml:job", args=[job.pk]))
        said = f"{before}{waiting_words(job, record.label or str(record))} No second replay was queued."
        if not jobs.visible_to(request.user).filter(pk=job.pk).exists():  # another person's bulk replay
            self.message_user(request, f"{said} Reload this page to see where the record ends.")
            return self._back(request, record)
        self.message_user(request, f"{said} Its progress is shown below.")
        return HttpResponseRedirect(reverse("ml:job", args=[job.pk]))

    def dont_sync_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = self._record_for_post(request, pk)
        form = DontSyncForm(request.POST)
        if form.is_valid():
            done = actions.dont_sync([record], form.cleaned_data["reason"], request.user)
            if done.moved:
                self.message_user(
                    request,
                    f"{record.label or record} was left as it is: the connector was working "
                    "on it or it changed while you looked. Reload and decide again.",
                    messages.WARNING,
                )
            else:
                self.message_user(request, f"{record.label or record} will not be synced.", messages.SUCCESS)
        else:
            self.message_user(request, "Say why this record should not be synced.", messages.ERROR)
        return self._back(request, record)

    def resume_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = self._record_for_post(request, pk)
        replay = actions.resume(record, request.user)
        if replay is None:
            self.message_user(request, f"{record.label or record} is already syncing.", messages.WARNING)
            return self._back(request, record)
        name = record.label or str(record)
        return self._to_replay(
            request, record, replay, f"{name} is syncing again", before=f"{name} will sync again. "
        )

    def keep_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Keep GP's value / Keep BILL's value for one field of a vendor that differs: that field only."""
        record = self._record_for_post(request, pk)
        field, keep = request.POST.get("field", ""), request.POST.get("keep", "")
        try:
            ended = vendor_conflict.keep_value(
                record, field, keep, request.user, confirmed=request.POST.get("confirm") == field
            )
        except vendor_conflict.ChoiceRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
        else:
            side = "GP's" if keep == "gp" else "BILL's"
            done = (
                f"The {FIELD_LABELS[field]} now has {side} value in both GP and BILL; "
                "no other field was changed."
            )
            if ended.state == State.SYNCED:
                done += " GP and BILL now agree on every field."
            self.message_user(request, done, messages.SUCCESS)
        return self._back(request, record)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        record = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if record is not None:
            replay_waiting = jobs.replay_waiting_for(record)
            extra.update(
                {
                    "title": lineage.title(record),
                    "record": record,
                    "sides": lineage.sides(record),
                    "conflict_rows": lineage.conflict_rows(record),
                    "review_url": lineage.review_url(record),
                    "next_retry": lineage.next_retry(record),
                    "snapshot_rows": lineage.snapshot_rows(record),
                    "waiting_links": lineage.waiting_links(record),
                    "vendor_changes": lineage.vendor_field_changes(record),
                    "trail": record.trail.select_related("user")[:200],
                    "can_replay": lineage.can_replay(record),
                    "replay_waiting": replay_waiting,
                    "replay_job_visible": replay_waiting is not None
                    and jobs.visible_to(request.user).filter(pk=replay_waiting.pk).exists(),
                    "can_act": self.has_change_permission(request, record),
                    "dont_sync_form": DontSyncForm(),
                    "show_save": False,
                    "show_save_and_continue": False,
                    "show_save_and_add_another": False,
                    "show_delete": False,
                }
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)


@admin.register(AttentionRecord)
class AttentionRecordAdmin(RecordAdminBase):
    """Needs attention: every blocked, failed, in-doubt, flagged or conflicting record, newest first."""

    list_display = ("record_link", "invoice_date", "due", "amount_text", "problem", "changed", "tenant")
    list_filter = (CauseFilter, "state", "kind", AgeFilter, "tenant", WaitingForFilter)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(attention_q())  # SyncRecordQuerySet.needing_attention

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(request, {"title": "Needs attention", **(extra_context or {})})

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # One record page for every record: the ledger's own URL stays stable after the fix.
        if not (
            str(object_id).isdigit()
            and self.scope_queryset(request, SyncRecord.objects.filter(pk=int(object_id))).exists()
        ):
            raise Http404("There is no record with this ID in your tenants.")
        return HttpResponseRedirect(reverse("admin:audit_syncrecord_change", args=[object_id]))


@admin.register(SyncRecord)
class SyncRecordAdmin(RecordAdminBase):
    list_display = ("record_link", "invoice_date", "due", "amount_text", "state_label", "changed", "tenant")
    list_filter = ("state", "kind", AgeFilter, "tenant", WaitingForFilter)
    search_fields = ("source_key", "target_id", "label", "reason", "gp_vendor", "document_number")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(request, {"title": "Sync records", **(extra_context or {})})


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists of evidence: nobody adds, edits or deletes rows through the admin (put a tenant scope
    before it in the bases: `class X(TenantScopedAdmin, ReadOnlyAdmin)`)."""

    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Attempt)
class AttemptAdmin(TenantScopedAdmin, ReadOnlyAdmin):
    """The trail across all records: every attempt, who or what triggered it, what came back."""

    tenant_field = "record__tenant"
    list_display = (
        "started_at",
        "record_link",
        "flow",
        "trigger",
        "outcome",
        "response_status",
        "error_short",
        "user",
    )
    list_filter = ("outcome", "flow", "trigger")
    list_select_related = ("record", "record__tenant", "user")
    search_fields = ("record__source_key", "record__label", "error")
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    exclude = ("request",)  # already redacted, but the record page shows it in context

    @admin.display(description="record", ordering="record__source_key")
    def record_link(self, obj: Attempt) -> str:
        url = reverse("admin:audit_syncrecord_change", args=[obj.record_id])
        return format_html('<a href="{}">{}</a>', url, obj.record.label or obj.record)

    @admin.display(description="error")
    def error_short(self, obj: Attempt) -> str:
        return obj.error[:160]


@admin.register(Job)
class JobAdmin(TenantScopedAdmin, ReadOnlyAdmin):
    list_display = ("job_link", "tenant", "user", "state", "progress", "created_at", "finished_at")
    list_filter = ("kind", "state")
    list_select_related = ("tenant", "user")

    def scope_queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return jobs.visible_to(request.user, queryset)

    @admin.display(description="job")
    def job_link(self, obj: Job) -> str:
        return format_html('<a href="{}">{}</a>', reverse("ml:job", args=[obj.pk]), obj)

    @admin.display(description="progress")
    def progress(self, obj: Job) -> str:
        return f"{obj.done} / {obj.total}" if obj.total else obj.get_state_display()


@admin.register(WebhookEvent)
class WebhookEventAdmin(TenantScopedAdmin, ReadOnlyAdmin):
    """BILL events as received (verified ones only); processing outcome and error."""

    list_display = ("received_at", "tenant", "event_type", "entity_id", "state", "processed_at", "error")
    list_filter = ("state", "event_type", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("event_id", "entity_id")
    paginator = CappedCountPaginator
    show_full_result_count = False
    exclude = ("payload",)


@admin.register(WebhookRejection)
class WebhookRejectionAdmin(TenantScopedAdmin, ReadOnlyAdmin):
    """Deliveries refused at the door, counted by tenant, reason and hour; their bodies are never kept.
    A member sees the refusals addressed to their tenants; those for unknown tenants are superusers'."""

    list_display = ("hour", "tenant", "why", "count", "last_at")
    list_filter = ("reason", "tenant")
    list_select_related = ("tenant",)

    @admin.display(description="Refused because", ordering="reason")
    def why(self, obj: WebhookRejection) -> str:
        # audit.status imports attention_q from this module: imported here, neither loads the other.
        from .status import REFUSAL_REASONS

        return REFUSAL_REASONS.get(obj.reason, obj.reason.replace("_", " "))

"""Mapping review: unmapped GP vendors, accounts and checkbooks with their ranked BILL suggestions.

Finance approves a suggestion, picks another, approves "create in BILL", or rejects — one at a time
on the review page or in bulk from the list. Every decision goes through `mappings.approval`, which
keeps the change (who, when, before, after) and releases the records that waited for it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from import_export.admin import ImportExportMixin

from audit import waits
from audit.admin import ReadOnlyAdmin
from audit.models import ATTENTION_STATES, SyncRecord
from audit.words import money_sum_text
from connectors.sync import vendor_fields as vf
from connectors.sync.gp_to_bill import vendor_link
from connectors.tenancy import may_see, tenants_for
from connectors.tenant_admin import TenantScopedAdmin, sees_several_tenants

from . import approval, gp_checkbooks, import_preview
from .bill_targets import TargetCheckedForm
from .import_limits import LIMITED_FORMATS, LimitedImportMixin, ScopedExportForm
from .matching import Party, score_vendor
from .models import (
    AccountingClassMapping,
    ChangeSubject,
    CheckbookMapping,
    ClassificationAction,
    ClassificationMapping,
    DepartmentMapping,
    GLAccountMapping,
    LocationMapping,
    MappingAction,
    MappingChange,
    MappingState,
    Suggestion,
    VendorMapping,
)
from .resources import (
    AccountMappingResource,
    CheckbookMappingResource,
    ClassMappingResource,
    DepartmentMappingResource,
    LocationMappingResource,
    VendorMappingResource,
    after_approval,
)


class ReviewFilter(admin.SimpleListFilter):
    """Opens on what still needs a decision; 'All' shows everything."""

    title = "review"
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("todo", "To review"), ("approved", "Approved"), ("rejected", "Rejected"), ("all", "All")]

    def value(self) -> str:
        return super().value() or "todo"

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        state = {
            "todo": MappingState.SUGGESTED,
            "approved": MappingState.APPROVED,
            "rejected": MappingState.REJECTED,
        }
        value = self.value()
        return queryset.filter(state=state[value]) if value in state else queryset


class BlocksFilter(admin.SimpleListFilter):
    title = "holds up records"
    parameter_name = "blocking"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Records are waiting for it"), ("no", "Nothing waiting")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(waiting__gt=0)
        if self.value() == "no":
            return queryset.filter(waiting=0)
        return queryset


class ReviewAdmin(LimitedImportMixin, ImportExportMixin, TenantScopedAdmin):
    """What the three mapping admins share: the review page, decisions, history, waiting records.
    Lists, pages, decisions, imports and exports cover the user's tenants only (TenantScopedAdmin)."""

    gp_key: str = ""
    target_field: str = ""
    waiting_prefix: str = ""
    suggestion_kind: str | None = None
    list_select_related = ("tenant", "approved_by")
    list_per_page = 50
    show_facets = admin.ShowFacets.NEVER
    actions: tuple[str, ...] = ("approve_selected", "approve_as_create", "reject_selected")
    change_form_template = "admin/mappings/review_page.html"
    formats = LIMITED_FORMATS  # size and row limits, streaming XLSX, defused XML (mappings/import_limits.py)
    readonly_fields = ("state", "approved_by", "approved_at", "updated_at")
    form = TargetCheckedForm  # a BILL ID typed by hand is checked like one approved on the review page

    def get_resource_kwargs(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Imports and exports know who is asking: rows may name only the user's tenants."""
        return {**super().get_resource_kwargs(request, *args, **kwargs), "user": request.user}

    # --- import and export, in words --------------------------------------------------------------

    import_template_name = "admin/mappings/import.html"
    export_template_name = "admin/mappings/export.html"
    export_form_class = ScopedExportForm

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """The preview and its errors per line of the file, in words (see mappings.import_preview)."""
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None)
        result = (context or {}).get("result")
        if result is not None and context is not None:
            rows = import_preview.rows_in_words(result)
            context.update(
                ml_import_rows=rows,
                ml_import_counts=import_preview.counts(rows),
                ml_import_errors=any(r["errors"] for r in rows) or result.has_errors(),
            )
        return response

    def get_export_queryset(self, request: HttpRequest) -> QuerySet:
        """Everything of the user's tenants, or the list as filtered (the person chooses on the export
        page)."""
        if request.POST.get("scope") == "all":
            return self.get_queryset(request)
        return super().get_export_queryset(request)

    def export_action(self, request: HttpRequest) -> HttpResponse:
        response = super().export_action(request)
        context = getattr(response, "context_data", None)
        if context is not None:
            narrowed = [
                f"search “{value}”" if key == "q" else key.split("__")[0].replace("_", " ")
                for key, value in request.GET.items()
                if key not in ("o", "p", "_changelist_filters", "e")
            ]
            context.update(
                ml_all_count=self.get_queryset(request).count(),
                ml_filtered_count=super().get_export_queryset(request).count(),
                ml_filters=("filtered by " + ", ".join(narrowed)) if narrowed else "",
            )
        return response

    # --- the list --------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        waiting = waits.count_waiting(self.waiting_prefix, OuterRef("tenant"), OuterRef(self.gp_key))
        return super().get_queryset(request).annotate(waiting=waiting)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        cl = super().get_changelist_instance(request)
        self._attach_suggestions(list(cl.result_list))
        self._attach_waiting_money(list(cl.result_list))
        return cl

    def _attach_waiting_money(self, mappings: list[Any]) -> None:
        """The money waiting on each mapping of the page, summed per currency (one query for the page):
        "$1,200.00 + €300.00", never dollars and euros added together."""
        pairs = {(m.tenant_id, getattr(m, self.gp_key)) for m in mappings if m.waiting}
        sums = waits.money_waiting(self.waiting_prefix, pairs)
        for m in mappings:
            found = sums.get((m.tenant_id, getattr(m, self.gp_key)))
            m.waiting_money = money_sum_text(found) if found else ""

    def _attach_suggestions(self, mappings: list[Any]) -> None:
        """One query for the whole page's suggestions (they are keyed by text, not a foreign key)."""
        if not self.suggestion_kind or not mappings:
            return
        keys = {getattr(m, self.gp_key) for m in mappings}
        found: dict[tuple[int, str], list[Suggestion]] = defaultdict(list)
        for s in Suggestion.objects.filter(
            kind=self.suggestion_kind, gp_key__in=keys, tenant__in={m.tenant_id for m in mappings}
        ):
            found[(s.tenant_id, s.gp_key)].append(s)
        for m in mappings:
            m.suggestions = found[(m.tenant_id, getattr(m, self.gp_key))]

    @admin.display(description="state", ordering="state")
    def state_badge(self, obj: Any) -> str:
        css = {"suggested": "blocked", "approved": "synced", "rejected": "skipped"}[obj.state]
        return format_html('<span class="ml-badge ml-{}">{}</span>', css, obj.get_state_display())

    @admin.display(description="records waiting", ordering="waiting")
    def waiting_count(self, obj: Any) -> str:
        if not obj.waiting:
            return "—"
        url = (
            reverse("admin:audit_attentionrecord_changelist")
            + "?"
            + urlencode(
                {
                    "tenant__id__exact": obj.tenant_id,
                    "waiting_for": waits.WaitFor(self.waiting_prefix, getattr(obj, self.gp_key)),
                }
            )
        )
        money = getattr(obj, "waiting_money", "")
        return format_html(
            '<a href="{}">{} record{}</a><div class="ml-sub">{}</div>',
            url,
            obj.waiting,
            "" if obj.waiting == 1 else "s",
            money,
        )

    @admin.display(description="proposed")
    def proposal(self, obj: Any) -> str:
        if getattr(obj, "action", MappingAction.LINK) == MappingAction.CREATE:
            return format_html("<strong>{}</strong>", "Create in BILL")
        if getattr(obj, "action", "") == ClassificationAction.BLANK:
            return format_html("<strong>{}</strong>", "Leave blank in BILL")
        target = getattr(obj, self.target_field)
        if not target:
            return format_html('<span class="ml-sub">{}</span>', "nothing chosen yet")
        return format_html("{}<div class='ml-sub'>{}</div>", getattr(obj, "bill_name", "") or target, target)

    @admin.display(description="suggestions (best first)")
    def suggestion_list(self, obj: Any) -> str:
        items = getattr(obj, "suggestions", [])[:3]
        if not items:
            return format_html('<span class="ml-sub">{}</span>', "no BILL record looks like it")
        # The evidence as facts (same name, same tax ID …), never a percentage: a clerk weighs facts.
        return format_html_join(
            "",
            "<div>{} <span class='ml-reasons'>{}</span></div>",
            (
                (
                    s.bill_name,
                    format_html_join(
                        "", "<span>{}</span>", ((r.strip(),) for r in s.reasons.split(",") if r.strip())
                    ),
                )
                for s in items
            ),
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        title = str(self.model._meta.verbose_name_plural)
        return super().changelist_view(
            request, {"title": title[:1].upper() + title[1:], **(extra_context or {})}
        )

    # --- bulk actions ----------------------------------------------------------------------------

    def _decide_all(self, request: HttpRequest, queryset: QuerySet, decide: Any, done: str) -> None:
        ok, problems = 0, []
        for mapping in queryset.select_related("tenant"):
            try:
                decide(mapping)
                ok += 1
            except ValueError as exc:
                problems.append(f"{mapping}: {exc}")
        self._report(request, ok, problems, done)

    def _report(self, request: HttpRequest, ok: int, problems: list[str], done: str) -> None:
        if ok:
            self.message_user(request, f"{ok} mapping(s) {done}.", messages.SUCCESS)
        for problem in problems[:20]:
            self.message_user(request, problem, messages.ERROR)

    @admin.action(description="Approve the proposed match", permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._report(
            request, *approval.approve_many(queryset.select_related("tenant"), request.user), "approved"
        )

    @admin.action(description="Approve as 'create in BILL'", permissions=["change"])
    def approve_as_create(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._report(
            request,
            *approval.approve_many(queryset.select_related("tenant"), request.user, create=True),
            "approved to be created in BILL",
        )

    @admin.action(description="Reject (leave unmapped)", permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide_all(
            request,
            queryset,
            lambda m: approval.reject(m, request.user, "Rejected from the list."),
            "rejected",
        )

    # --- the review page -------------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/decide/", wrap(self.decide_view), name=f"{prefix}_decide"),
            path("by-key/", wrap(self.by_key_view), name=f"{prefix}_by_key"),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """One decision from the review page: approve a suggestion, approve as create, or reject."""
        mapping = get_object_or_404(
            self.scope_queryset(request, self.model.objects.select_related("tenant")), pk=pk
        )
        if request.method != "POST" or not self.has_change_permission(request, mapping):
            raise PermissionDenied
        decision = request.POST.get("decision")
        try:
            if decision == "approve":
                target_id = request.POST.get("target_id") or None
                choices = self.field_choices(request, mapping, target_id)
                approval.approve(mapping, request.user, target_id=target_id, field_choices=choices)
                self.message_user(
                    request,
                    f"Approved {self.described(mapping)}.{self.effects_said(choices)} "
                    "Records that waited for it are being sent.",
                    messages.SUCCESS,
                )
            elif decision == "create":
                approval.approve(mapping, request.user, create=True)
                self.message_user(
                    request, f"Approved: {mapping}. It will be created in BILL.", messages.SUCCESS
                )
            elif decision == "blank" and isinstance(mapping, ClassificationMapping):
                approval.approve(mapping, request.user, blank=True)
                self.message_user(
                    request,
                    f"Approved: {mapping}. Lines with it go to BILL without a "
                    f"{mapping.get_kind_display().lower()}.",
                    messages.SUCCESS,
                )
            elif decision == "reject":
                approval.reject(mapping, request.user, request.POST.get("note", ""))
                self.message_user(request, f"Rejected {getattr(mapping, self.gp_key)}.", messages.SUCCESS)
            else:
                raise PermissionDenied
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[pk])
        )

    def field_choices(
        self, request: HttpRequest, mapping: Any, target_id: str | None
    ) -> dict[str, Any] | None:
        """Which side wins per differing field (vendors only; see VendorMappingAdmin)."""
        return None

    def effects_said(self, choices: dict[str, Any] | None) -> str:
        return ""

    def described(self, mapping: Any) -> str:
        """The mapping as a clerk names it: GP key → BILL name (falls back to the IDs)."""
        target = getattr(mapping, self.target_field)
        name = getattr(mapping, "bill_name", "") or target
        return f"{getattr(mapping, self.gp_key)} → {name}" if target else str(mapping)

    def review_context(self, request: HttpRequest, mapping: Any) -> dict[str, Any]:
        """What a kind of mapping adds to its review page (vendors: both sides, field by field)."""
        return {}

    def by_key_view(self, request: HttpRequest) -> HttpResponse:
        """Where the needs-attention list links: the mapping's review page, or a new one for that key."""
        tenant_id, key = request.GET.get("tenant", ""), request.GET.get("key", "")
        if tenant_id and not (tenant_id.isdigit() and may_see(request.user, int(tenant_id))):
            raise Http404("No such tenant among yours.")
        mapping = self.scope_queryset(
            request, self.model.objects.filter(tenant_id=tenant_id or None, **{self.gp_key: key})
        ).first()
        if mapping is not None:
            return HttpResponseRedirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[mapping.pk])
            )
        query = urlencode({"tenant": tenant_id, self.gp_key: key})
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_add") + "?" + query
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        mapping = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if mapping is not None:
            key = getattr(mapping, self.gp_key)
            self._attach_suggestions([mapping])
            extra.update(
                {
                    "title": f"Review {self.task_noun} match",
                    "subtitle": " — ".join(
                        v
                        for v in (
                            key,
                            getattr(mapping, "gp_name", "")
                            or getattr(mapping, "gp_description", "")
                            or getattr(mapping, "bill_funding_name", ""),
                        )
                        if v
                    ),
                    "show_save_and_add_another": False,
                    "mapping": mapping,
                    "gp_key": key,
                    "suggestions": [
                        {
                            "bill_id": s.bill_id,
                            "bill_name": s.bill_name,
                            "percent": int(s.score * 100),
                            "reasons": [r.strip() for r in s.reasons.split(",") if r.strip()],
                        }
                        for s in getattr(mapping, "suggestions", [])
                    ],
                    "can_create": hasattr(mapping, "action"),
                    "target_label": self.model._meta.get_field(self.target_field).verbose_name,
                    "current_target": getattr(mapping, self.target_field),
                    "waiting": SyncRecord.objects.filter(
                        tenant=mapping.tenant,
                        state__in=ATTENTION_STATES,
                        pk__in=approval.records_waiting_on(mapping),
                    ).order_by("-updated_at")[:50],
                    "history": [
                        {
                            "at": c.at,
                            "user": c.user,
                            "changes": changed_fields(c.before, c.after),
                            "subject": c.get_subject_display() if c.subject != ChangeSubject.MAPPING else "",
                        }
                        for c in MappingChange.objects.filter(
                            tenant=mapping.tenant, mapping_kind=self.change_kind, key=key
                        ).select_related("user")[:50]
                    ],
                    "decide_url": reverse(
                        f"admin:{self.opts.app_label}_{self.opts.model_name}_decide", args=[mapping.pk]
                    ),
                    "can_decide": self.has_change_permission(request, mapping),
                }
            )
            extra.update(self.review_context(request, mapping))
        return super().change_view(request, object_id, form_url, extra_context=extra)

    task_noun = "mapping"

    @property
    def change_kind(self) -> str:
        return self.model.__name__.replace("Mapping", "").lower()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """A hand edit is a mapping change too: keep it, and release waiters if it is approved."""
        before = {}
        if change:
            old = type(obj).objects.get(pk=obj.pk)
            before = approval._snapshot(old)
        if isinstance(obj, VendorMapping):
            obj.field_choices = {}  # a hand edit links only; field choices are made on the review page
        super().save_model(request, obj, form, change)
        approval.log_change(obj, before, request.user)
        if obj.state == MappingState.APPROVED:
            after_approval(obj, request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # reject instead: a deleted mapping would be suggested again and lose its history


@admin.register(VendorMapping)
class VendorMappingAdmin(ReviewAdmin):
    gp_key, target_field, waiting_prefix, suggestion_kind = (
        "gp_vendor_id",
        "bill_vendor_id",
        "vendor",
        Suggestion.KIND_VENDOR,
    )
    task_noun = "vendor"

    def _known_targets(self, mapping: VendorMapping) -> list[str]:
        """BILL vendors this page may read: the suggestions and the current target, nothing typed in."""
        suggested = [
            s.bill_id
            for s in getattr(mapping, "suggestions", None)
            or Suggestion.objects.filter(
                tenant=mapping.tenant, kind=Suggestion.KIND_VENDOR, gp_key=mapping.gp_vendor_id
            )
        ]
        return [*([mapping.bill_vendor_id] if mapping.bill_vendor_id else []), *suggested]

    def review_context(self, request: HttpRequest, mapping: Any) -> dict[str, Any]:
        """GP and one BILL vendor side by side, read live, and what approving would change on each."""
        known = self._known_targets(mapping)
        wanted = request.GET.get("compare", "")
        target = wanted if wanted in known else (known[0] if known else "")
        if not target or (mapping.action == MappingAction.CREATE and not wanted):
            return {}
        comparison = vendor_link.read_both(mapping.tenant, mapping.gp_vendor_id, target)
        names = {s.bill_id: s.bill_name for s in getattr(mapping, "suggestions", [])}
        if mapping.bill_vendor_id:
            names.setdefault(mapping.bill_vendor_id, mapping.bill_name)
        linked = mapping.is_approved and target == mapping.bill_vendor_id
        return {
            "compare": comparison,
            "compare_name": names.get(target) or target,
            "compare_evidence": evidence(comparison),
            "compare_linked": linked,
            "pending_effects": vendor_link.effects(mapping.field_choices) if linked else {},
        }

    def field_choices(
        self, request: HttpRequest, mapping: Any, target_id: str | None
    ) -> dict[str, Any] | None:
        picks = {f: request.POST.get(f"keep_{f}", "") for f in vf.ALIGNED_FIELDS}
        if not any(w in (vendor_link.GP, vendor_link.BILL) for w in picks.values()):
            return None
        target = target_id or mapping.bill_vendor_id
        if target not in self._known_targets(mapping):
            raise ValueError(
                "Field choices can only be made for a suggested BILL vendor. Nothing was approved."
            )
        comparison = vendor_link.read_both(mapping.tenant, mapping.gp_vendor_id, target)
        return vendor_link.decide(
            comparison, picks, set(request.POST.getlist("confirm")), request.POST.get("fingerprint", "")
        )

    def effects_said(self, choices: dict[str, Any] | None) -> str:
        said = vendor_link.effects(choices or {})
        return "".join(
            f" In {side}: {'; '.join(said[key]) or 'nothing changes'}."
            for side, key in (("BILL", vendor_link.BILL), ("GP", vendor_link.GP))
        )

    resource_classes = [VendorMappingResource]
    list_display = (
        "gp_vendor_id",
        "gp_name",
        "state_badge",
        "proposal",
        "suggestion_list",
        "waiting_count",
        "tenant",
    )
    list_filter = (ReviewFilter, BlocksFilter, "action", "tenant")
    search_fields = ("gp_vendor_id", "gp_name", "bill_vendor_id", "bill_name")
    fields = (
        "tenant",
        "gp_vendor_id",
        "gp_name",
        "action",
        "bill_vendor_id",
        "bill_name",
        "note",
        *ReviewAdmin.readonly_fields,
    )


@admin.register(GLAccountMapping)
class GLAccountMappingAdmin(ReviewAdmin):
    gp_key, target_field, waiting_prefix, suggestion_kind = (
        "gp_account",
        "bill_account_id",
        "account",
        Suggestion.KIND_ACCOUNT,
    )
    task_noun = "GL account"
    resource_classes = [AccountMappingResource]
    list_display = (
        "gp_account",
        "gp_description",
        "state_badge",
        "proposal",
        "suggestion_list",
        "waiting_count",
        "tenant",
    )
    list_filter = (ReviewFilter, BlocksFilter, "action", "tenant")
    search_fields = ("gp_account", "gp_description", "bill_account_id", "bill_name")
    fields = (
        "tenant",
        "gp_account",
        "gp_description",
        "action",
        "bill_account_id",
        "bill_name",
        "note",
        *ReviewAdmin.readonly_fields,
    )


class ClassificationMappingAdmin(ReviewAdmin):
    """One review list per classification kind (department, location, accounting class): GP segment
    values of the tenant's chosen account segment, with BILL's records of that kind suggested by code."""

    gp_key, target_field = "gp_value", "bill_id"
    actions = ("approve_selected", "approve_as_create", "approve_as_blank", "reject_selected")
    list_display = (
        "gp_value",
        "gp_description",
        "state_badge",
        "proposal",
        "suggestion_list",
        "waiting_count",
        "tenant",
    )
    list_filter = (ReviewFilter, BlocksFilter, "action", "tenant")
    search_fields = ("gp_value", "gp_description", "bill_id", "bill_name")
    fields = (
        "tenant",
        "gp_value",
        "gp_description",
        "action",
        "bill_id",
        "bill_name",
        "note",
        *ReviewAdmin.readonly_fields,
    )

    @property
    def change_kind(self) -> str:
        return self.model.KIND

    @admin.action(description="Approve as 'leave blank in BILL'", permissions=["change"])
    def approve_as_blank(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._report(
            request,
            *approval.approve_many(queryset.select_related("tenant"), request.user, blank=True),
            "approved to be left blank in BILL",
        )

    def review_context(self, request: HttpRequest, mapping: Any) -> dict[str, Any]:
        word = mapping.get_kind_display().lower()
        setting = mapping.tenant.segment_settings.get(mapping.kind)
        return {
            "can_leave_blank": True,
            "classification_word": word,
            "subtitle": f"GP {word} {mapping.gp_value}"
            + (
                f" (segment {setting} of the GP account)"
                if setting
                else " (no GP account segment is set for it now)"
            ),
        }


@admin.register(DepartmentMapping)
class DepartmentMappingAdmin(ClassificationMappingAdmin):
    waiting_prefix = suggestion_kind = "department"
    task_noun = "department"
    resource_classes = [DepartmentMappingResource]


@admin.register(LocationMapping)
class LocationMappingAdmin(ClassificationMappingAdmin):
    waiting_prefix = suggestion_kind = "location"
    task_noun = "location"
    resource_classes = [LocationMappingResource]


@admin.register(AccountingClassMapping)
class AccountingClassMappingAdmin(ClassificationMappingAdmin):
    waiting_prefix = suggestion_kind = "class"
    task_noun = "accounting class"
    resource_classes = [ClassMappingResource]


@admin.register(CheckbookMapping)
class CheckbookMappingAdmin(ReviewAdmin):
    gp_key, target_field, waiting_prefix = "bill_funding_account_id", "gp_checkbook_id", "checkbook"
    task_noun = "checkbook"
    resource_classes = [CheckbookMappingResource]
    actions = ("approve_selected", "reject_selected")
    list_display = (
        "bill_funding_account_id",
        "bill_funding_name",
        "state_badge",
        "gp_checkbook_id",
        "waiting_count",
        "tenant",
    )
    list_filter = (ReviewFilter, BlocksFilter, "tenant")
    search_fields = ("bill_funding_account_id", "bill_funding_name", "gp_checkbook_id")
    fields = (
        "tenant",
        "bill_funding_account_id",
        "bill_funding_name",
        "gp_checkbook_id",
        "note",
        *ReviewAdmin.readonly_fields,
    )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        """The GP checkbook is picked from GP's own list (read through the tenant's GP client)."""
        base = super().get_form(request, obj, change=change, **kwargs)
        tenant = (
            obj.tenant
            if obj is not None
            else (tenants_for(request.user).first() if not sees_several_tenants(request) else None)
        )
        if tenant is None or "gp_checkbook_id" not in base.base_fields:
            return base
        try:
            listed, problem = gp_checkbooks.checkbooks(tenant), ""
        except gp_checkbooks.GPUnreachable as exc:
            listed, problem = [], str(exc)
        current = getattr(obj, "gp_checkbook_id", "") if obj is not None else ""
        if current and current not in {key for key, _ in listed}:
            listed = [(current, f"{current} (chosen before; GP does not list it now)"), *listed]
        help_text = (
            problem
            or "GP's active checkbooks, as GP lists them. Payments from this BILL account are "
            "written to GP from the checkbook chosen here."
        )
        field = forms.ChoiceField(
            label="GP checkbook",
            required=False,
            help_text=help_text,
            choices=[("", "— choose a GP checkbook —"), *listed],
        )
        return type(base.__name__, (base,), {"gp_checkbook_id": field})


@admin.register(MappingChange)
class MappingChangeAdmin(TenantScopedAdmin, ReadOnlyAdmin):
    """Every mapping change, who made it and when; read-only by design."""

    list_display = ("when", "user", "what", "changes", "tenant")
    list_filter = ("subject", "mapping_kind", "tenant")
    list_select_related = ("user", "tenant")
    search_fields = ("key",)

    @admin.display(description="at", ordering="at")
    def when(self, obj: MappingChange) -> str:
        """With its zone, like every other time on the screens: a clerk in another office reads it right."""
        return date_format(timezone.localtime(obj.at), "M j, Y, H:i T")

    @admin.display(description="what changed", ordering="key")
    def what(self, obj: MappingChange) -> str:
        return format_html(
            "{} {}<div class='ml-sub'>{}</div>", obj.mapping_kind.title(), obj.key, obj.get_subject_display()
        )

    @admin.display(description="before → after")
    def changes(self, obj: MappingChange) -> str:
        return format_html_join(
            "", "<div><strong>{}</strong>: {} → {}</div>", changed_fields(obj.before, obj.after)
        )


def evidence(comparison: vendor_link.Comparison) -> list[str]:
    """Why these two look like one vendor, as facts (same tax ID, same e-mail, same name, same address)."""
    if comparison.error:
        return []

    def party(side: dict[str, Any]) -> Party:
        return Party(
            "", side["name"], side["email"], side["tax_id"], side["address"]["line1"], side["address"]["zip"]
        )

    return list(score_vendor(party(comparison.gp), party(comparison.bill)).reasons)


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str, str]]:
    keys = sorted(set(before) | set(after))
    return [
        (k, before.get(k, "") or "∅", after.get(k, "") or "∅") for k in keys if before.get(k) != after.get(k)
    ]

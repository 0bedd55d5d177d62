"""The dashboard, the job pages and the buttons that start long actions (inside the admin's login).

Views are thin: the numbers come from `audit.status`, the work from `audit.jobs`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from connectors.models import Tenant
from connectors.subscriptions import subscription_state
from connectors.sync.errors import explain
from connectors.tenancy import tenants_for

from . import jobs, status
from .models import Job

VIEW_PERM = "audit.view_syncrecord"
RUN_PERM = "audit.add_job"
# What each start button may start; replays are started from the record lists.
STARTABLE = {Job.SYNC_NOW, Job.INITIAL_LOAD, Job.PREVIEW, Job.DRIFT}
# Jobs that read all of GP and BILL (every vendor, invoice, bill): connector admins only, so finance
# cannot spend the org's BILL budget and hold workers by pressing a button again and again.
HEAVY = {Job.INITIAL_LOAD, Job.DRIFT}
HEAVY_PERM = "connectors.change_tenant"  # connector admins (and superusers)


def may_start(user: Any, kind: str) -> bool:
    return kind in STARTABLE and user.has_perm(RUN_PERM) and (kind not in HEAVY or user.has_perm(HEAVY_PERM))


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _tenant(request: HttpRequest, slug: str) -> Tenant:
    """One of the user's tenants by slug; another tenant's slug is a 404, like an unknown one."""
    return get_object_or_404(tenants_for(request.user), slug=slug)


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), **extra}


def dashboard(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """One panel per active tenant of the user's (or the one asked for)."""
    _require(request, VIEW_PERM)
    tenants = (
        tenants_for(request.user).filter(is_active=True).select_related("bill_connection", "gp_connection")
    )
    if slug:
        tenants = tenants.filter(pk=_tenant(request, slug).pk)
    panels = [status.tenant_status(t) for t in tenants]
    return TemplateResponse(
        request,
        "ml/dashboard.html",
        _context(
            request,
            title="Dashboard",
            panels=panels,
            can_run=request.user.has_perm(RUN_PERM),
            kinds=[(k, label) for k, label in Job.KINDS if may_start(request.user, k)],
        ),
    )


@require_POST
def start_job(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    tenant = _tenant(request, slug)  # first: another tenant's page is a 404 whatever the user may start
    if not may_start(request.user, kind):
        raise PermissionDenied
    # One job of a kind per tenant at a time: pressing again shows the one already under way.
    running = Job.objects.filter(tenant=tenant, kind=kind, state__in=(Job.QUEUED, Job.RUNNING)).first()
    if running is not None:
        messages.info(request, f"{running} for {tenant} is already under way; here is its progress.")
        return HttpResponseRedirect(reverse("ml:job", args=[running.pk]))
    job = jobs.start(kind, user=request.user, tenant=tenant)
    return HttpResponseRedirect(reverse("ml:job", args=[job.pk]))


@require_POST
def check_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask BILL now whether the subscription is enabled (one call, on a person's request only)."""
    _require(request, VIEW_PERM)
    tenant = _tenant(request, slug)

    try:
        messages.info(
            request, f"{tenant}: BILL says the webhook subscription is {subscription_state(tenant)}."
        )
    except Exception as exc:
        messages.error(request, f"{tenant}: could not ask BILL: {explain(exc)}")
    return HttpResponseRedirect(reverse("ml:dashboard"))


def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress while a job runs (the page refreshes itself), its result when done."""
    _require(request, VIEW_PERM)
    job = get_object_or_404(jobs.visible_to(request.user).select_related("tenant", "user"), pk=pk)
    return TemplateResponse(
        request,
        "ml/job.html",
        _context(
            request,
            title=str(job),
            job=job,
            touched=jobs.records_touched(job) if not job.total else None,
            refresh=not job.is_finished,
        ),
    )


def job_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """A report job (drift, preview) as CSV: every section's rows with plain amounts, for a spreadsheet."""
    import csv
    import io

    _require(request, VIEW_PERM)
    job = get_object_or_404(jobs.visible_to(request.user), pk=pk, kind__in=(Job.DRIFT, Job.PREVIEW))
    out = io.StringIO()
    writer = csv.writer(out)
    width = max([len(s.get("columns", [])) for s in (job.result or {}).get("sections", [])] or [0])
    writer.writerow(["Section", *(f"Column {i + 1}" for i in range(width))])
    for section in (job.result or {}).get("sections", []):
        writer.writerow([section["title"], *section.get("columns", [])])
        for row in section.get("rows", []):
            writer.writerow([section["title"], *row])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"{job.get_kind_display().lower().replace(' ', '-')}-{job.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

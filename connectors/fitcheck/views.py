"""The fit check page (Connector admins): one page a finance lead and an IT admin read together,
plus its JSON and the CSV of problems. Running it only reads GP and BILL."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from connectors.models import Tenant
from connectors.overrides import propose
from connectors.tenancy import tenants_for

from . import run_fit_check, to_csv

PERM = "connectors.change_gpconnection"  # Connector admins: the fit check shows connection details


def fit_check_view(request: HttpRequest, object_id: str) -> HttpResponse:
    if not request.user.has_perm(PERM):
        raise PermissionDenied
    # Another tenant's fit check answers 404, like any of its pages (connectors/tenancy.py).
    tenant = get_object_or_404(
        tenants_for(request.user).select_related("gp_connection", "bill_connection"), pk=object_id
    )
    if request.method == "POST":
        return _propose(request, tenant)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": f"Fit check: {tenant.name}",
        "tenant": tenant,
        "report": None,
    }
    if request.GET.get("run"):
        report = run_fit_check(tenant)
        fmt = request.GET.get("format")
        if fmt == "json":
            return JsonResponse(report, json_dumps_params={"indent": 2})
        if fmt == "csv":
            response = HttpResponse(to_csv(report["problems"]), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="fit-check-{tenant.slug}.csv"'
            return response
        context.update(
            report=report,
            chart=_chart(report.get("plan") or {}),
            proposed_json=json.dumps(report["proposed_overrides"], sort_keys=True),
        )
    return TemplateResponse(request, "admin/connectors/fit_check.html", context)


def _chart(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Approved GP invoices: ready to go vs waiting, as bar segments (percent of the whole)."""
    ready = plan.get("bills_ready", 0)
    parts = [
        ("ready", "Ready for BILL", ready),
        ("waiting", "Waiting for a mapping or a hold check", plan.get("bills_to_create", 0) - ready),
        ("held", "Vendor on hold or inactive", plan.get("bills_held_vendor", 0)),
        ("parked", "Parked for a person", plan.get("bills_parked", 0)),
    ]
    total = sum(n for _, _, n in parts) or 1
    # `width`: a whole percent for the ml-w-N class (the CSP allows no style attribute).
    return [
        {
            "key": k,
            "label": label,
            "count": n,
            "percent": round(100 * n / total, 1),
            "width": max(1, round(100 * n / total)) if n else 0,
        }
        for k, label, n in parts
    ]


def _propose(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """Save what the check proposed as a new resource map version, for a Connector admin to confirm."""
    try:
        values = json.loads(request.POST.get("values") or "{}")
        if not isinstance(values, dict) or not values:
            raise ValueError("Nothing to propose.")
        override = propose(tenant.gp_connection, values, "Proposed by the fit check.", request.user)
    except (ValueError, Tenant.gp_connection.RelatedObjectDoesNotExist) as exc:
        messages.error(request, f"Not saved: {exc}")
        return HttpResponseRedirect(request.path)
    messages.success(
        request, f"Saved as GP resource map version {override.version}: confirm it to put it in force."
    )
    return HttpResponseRedirect(reverse("admin:connectors_gpresourceoverride_change", args=[override.pk]))

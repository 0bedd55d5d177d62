"""The finance screens that are not a model list: dashboard, jobs. All behind the admin login."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from . import dashboard

app_name = "ml"
wrap = admin.site.admin_view

urlpatterns = [
    path("dashboard/", wrap(dashboard.dashboard), name="dashboard"),
    path("dashboard/<slug:slug>/", wrap(dashboard.dashboard), name="tenant-dashboard"),
    path("dashboard/<slug:slug>/start/<str:kind>/", wrap(dashboard.start_job), name="start-job"),
    path("dashboard/<slug:slug>/check-webhook/", wrap(dashboard.check_webhook), name="check-webhook"),
    path("jobs/<int:pk>/", wrap(dashboard.job_page), name="job"),
    path("jobs/<int:pk>/report.csv", wrap(dashboard.job_csv), name="job-csv"),
]

"""URL routes: the admin is the application; the BILL webhook endpoint is the only public URL."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from connectors.login_throttle import ThrottledAdminLoginForm
from connectors.webhooks import bill_webhook

admin.site.site_header = "ml-connector — Dynamics GP ⇄ BILL"
admin.site.site_title = "ml-connector"
admin.site.index_title = "Sync administration"
admin.site.login_form = ThrottledAdminLoginForm

urlpatterns = [
    path("webhooks/bill/<slug:slug>/", bill_webhook, name="bill-webhook"),
    # The same endpoint without the slash: a POST is answered, never redirected (a redirect loses the body).
    path("webhooks/bill/<slug:slug>", bill_webhook, name="bill-webhook-no-slash"),
    path("admin/ops/", include("audit.urls")),
    path("admin/", admin.site.urls),
]

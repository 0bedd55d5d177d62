"""URL routes: the admin is the application. Outside it: the BILL webhook endpoint (HMAC-signed), the
health probe (names nothing) and the Prometheus figures (closed unless METRICS_TOKEN is set)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from audit.health import ConnectorHealthView
from audit.metrics import metrics
from connectors.login_throttle import ThrottledAdminLoginForm
from connectors.relay import views as agent_views
from connectors.webhooks import bill_webhook

admin.site.site_header = "ml-connector — Dynamics GP ⇄ BILL"
# The lists need the width (document, dates, money, what happened): the links along the top and the
# home page take the place of Django's side navigation.
admin.site.enable_nav_sidebar = False
admin.site.site_title = "ml-connector"
admin.site.index_title = "Sync administration"
admin.site.login_form = ThrottledAdminLoginForm
admin.site.site_url = "/admin/ops/dashboard/"  # "View site": the dashboard, never a bare 404 at /

urlpatterns = [
    path("webhooks/bill/<slug:slug>/", bill_webhook, name="bill-webhook"),
    # The same endpoint without the slash: a POST is answered, never redirected (a redirect loses the body).
    path("webhooks/bill/<slug:slug>", bill_webhook, name="bill-webhook-no-slash"),
    path("health/", ConnectorHealthView.as_view(), name="health"),
    path("metrics", metrics, name="metrics"),
    path("agent/poll", agent_views.poll, name="agent-poll"),  # GP agents (token auth), see connectors/relay
    path("agent/answer", agent_views.answer, name="agent-answer"),
    path("admin/ops/", include("audit.urls")),
    path("admin/", admin.site.urls),
]

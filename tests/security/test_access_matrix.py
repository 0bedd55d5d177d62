"""Who reaches what: every admin page and action, discovered from the admin registry and the URL
resolver (nothing hand-listed), for an anonymous visitor, finance staff and a connector admin.

The policy (README › Roles): finance staff work mappings and sync records and may see which tenants
exist; connection pages, users and the task queue are connector admins' only. Anonymous visitors
reach nothing but the login page and the signed webhook endpoint.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from tests.cast import CAST_PASSWORD

FINANCE_APPS = {"mappings", "audit"}
FINANCE_VIEW_ONLY = {"connectors.tenant"}  # list and change page (read-only); never add or delete
# Actions finance may run outside their apps: "Sync now" starts the same job the dashboard offers them.
FINANCE_ACTIONS = {("connectors.tenant", "sync_now")}


@pytest.fixture
def world(tenant, alice, frank):
    """One of everything the admin lists, so every object page has an object."""
    from django.utils import timezone

    from audit.models import Attempt, Job, SyncRecord, WebhookEvent, WebhookRejection
    from connectors.models import BillConnection, GPConnection, GPResourceOverride
    from mappings.models import CheckbookMapping, GLAccountMapping, MappingChange, VendorMapping

    gp = GPConnection.objects.create(tenant=tenant, base_url="https://gp.example", company="Fabrikam", domain="CORP",
                                     username="svc", password="pw")
    GPResourceOverride.objects.create(connection=gp, values={"modified_precision": "day"})
    BillConnection.objects.create(tenant=tenant, organization_id="00802ORG", username="ap@example.com",
                                  password="pw", dev_key="dk")
    record = SyncRecord.objects.create(tenant=tenant, kind="bill", source_key="V1", state="failed", reason="x")
    Attempt.objects.create(record=record, flow="gp_bills", trigger="schedule", started_at=timezone.now(),
                           outcome="failed")
    VendorMapping.objects.create(tenant=tenant, gp_vendor_id="ACME0001", gp_name="Acme")
    GLAccountMapping.objects.create(tenant=tenant, gp_account="000-6100-00")
    CheckbookMapping.objects.create(tenant=tenant, bill_funding_account_id="bac0201")
    MappingChange.objects.create(tenant=tenant, mapping_kind="vendor", key="ACME0001")
    WebhookEvent.objects.create(tenant=tenant, event_id="e1", event_type="bill.created", entity_id="b1")
    WebhookRejection.objects.create(slug="northwind", reason="bad_signature", count=1)
    Job.objects.create(tenant=tenant, kind=Job.PREVIEW)
    return tenant


def _admin_urls() -> list[tuple[str, str, str]]:
    """(model label, url name, path) for every URL of every registered model admin, object URLs
    filled with that model's first object."""
    out = []
    for model, model_admin in admin.site._registry.items():
        obj = model._default_manager.first()
        for pattern in model_admin.get_urls():
            if not pattern.name:
                continue
            kwargs_needed = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))
            if kwargs_needed and obj is None:
                continue
            try:
                url = reverse(f"admin:{pattern.name}", kwargs={k: str(obj.pk) for k in kwargs_needed})
            except NoReverseMatch:
                continue
            out.append((model._meta.label_lower, pattern.name, url))
    return out


def _ops_urls(tenant: Any) -> list[str]:
    from audit.models import Job

    job = Job.objects.first()
    return [reverse("ml:dashboard"), reverse("ml:tenant-dashboard", args=[tenant.slug]),
            reverse("ml:check-webhook", args=[tenant.slug]), reverse("ml:job", args=[job.pk]),
            reverse("ml:start-job", args=[tenant.slug, "preview"])]


def _finance_may(label: str, name: str) -> bool:
    app = label.split(".")[0]
    if app in FINANCE_APPS:
        return True
    return label in FINANCE_VIEW_ONLY and re.search(r"_(changelist|change|history)$", name) is not None


@pytest.fixture
def disabled(world, django_user_model) -> set[str]:
    """Pages refused even to a superuser (adding a log entry, a task result, a needs-attention row):
    nobody has them, so every role must be refused them."""
    django_user_model.objects.create_superuser("root", "root@example.com", CAST_PASSWORD)
    root = _client("root")
    return {url for _, _, url in _admin_urls() if root.get(url).status_code == 403}


def _client(user: str | None) -> Client:
    client = Client()
    if user:
        assert client.login(username=user, password=CAST_PASSWORD)
    return client


def _to_login(response) -> bool:
    return response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_matrix_covers_every_registered_model_admin(world):
    covered = {label for label, _, _ in _admin_urls()}
    assert covered == {m._meta.label_lower for m in admin.site._registry}


def test_anonymous_visitors_are_sent_to_login_from_every_admin_page(world):
    anonymous = _client(None)
    for label, name, url in _admin_urls():
        assert _to_login(anonymous.get(url)), (label, name, url)
    for url in _ops_urls(world):
        assert _to_login(anonymous.get(url)), url


def test_finance_staff_reach_their_pages_and_are_refused_the_rest(world, disabled):
    finance = _client("frank")
    for label, name, url in _admin_urls():
        status = finance.get(url).status_code
        if _finance_may(label, name) and url not in disabled:
            assert status in (200, 302, 405), (label, name, url, status)
        else:
            assert status == 403, (label, name, url, status)


def test_connector_admins_reach_every_page(world, disabled):
    # Switched off for everyone: add/delete of evidence and the POST-only decision endpoints; never a
    # list, object or history page.
    lists = {url for _, name, url in _admin_urls() if re.search(r"_(changelist|change|history)$", name)}
    assert not disabled & lists, disabled & lists
    admin_user = _client("alice")
    for label, name, url in _admin_urls():
        status = admin_user.get(url).status_code
        assert status in ((403,) if url in disabled else (200, 302, 405)), (label, name, url, status)
    for url in _ops_urls(world):
        assert admin_user.get(url).status_code in (200, 302, 405), url


def _actions() -> list[tuple[str, str, str, Any]]:
    out = []
    for model, model_admin in admin.site._registry.items():
        obj = model._default_manager.first()
        for action in model_admin.actions or ():
            name = action if isinstance(action, str) else action.__name__
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            out.append((model._meta.label_lower, name, url, obj))
    return out


def test_every_admin_action_is_refused_to_anonymous_visitors_and_to_finance_outside_its_area(world):
    anonymous, finance = _client(None), _client("frank")
    actions = _actions()
    assert {name for _, name, _, _ in actions} >= {"test_gp_connection", "replay_selected", "approve_selected"}
    for label, name, url, obj in actions:
        data = {"action": name, "_selected_action": [obj.pk] if obj else [], "index": 0}
        assert _to_login(anonymous.post(url, data)), (label, name)
        if (not _finance_may(label, "x_changelist") or label in FINANCE_VIEW_ONLY) and (label, name) not in FINANCE_ACTIONS:
            response = finance.post(url, data)
            assert response.status_code == 403, (label, name, response.status_code)


def test_connection_actions_are_not_even_offered_to_finance(world, rf, frank, alice):
    from connectors.models import BillConnection, GPConnection, Tenant

    for model in (GPConnection, BillConnection):
        request = rf.get("/")
        request.user = frank
        assert not admin.site._registry[model].has_view_or_change_permission(request)
    request = rf.get("/")
    request.user = frank
    assert set(admin.site._registry[Tenant].get_actions(request)) <= {name for _, name in FINANCE_ACTIONS}
    request.user = alice
    for model in (GPConnection, BillConnection):
        assert admin.site._registry[model].get_actions(request), model


def _all_patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    out = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            out += _all_patterns(entry, prefix + str(entry.pattern))
        else:
            out.append((prefix + str(entry.pattern), entry))
    return out


def test_nothing_outside_the_admin_but_the_signed_webhook_health_metrics_and_agent_endpoints_is_served(db):
    public = [route for route, _ in _all_patterns(get_resolver()) if not route.startswith("admin/")]
    # /health/ names nothing; /metrics is a 404 without METRICS_TOKEN (tests/ops); the agent endpoints
    # take only an agent token (below, and tests/relay).
    assert public == ["webhooks/bill/<slug:slug>/", "health/", "metrics", "agent/poll", "agent/answer"]


@pytest.mark.parametrize("endpoint", ["agent/poll", "agent/answer"])
@pytest.mark.parametrize("authorization", [None, "Bearer mlca_not-a-real-token", "Basic YWxpY2U6cGFzcw=="])
def test_the_agent_endpoints_refuse_anyone_without_a_live_agent_token(client, alice, endpoint, authorization):
    client.force_login(alice)  # an admin's session is not an agent token either
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.post(f"/{endpoint}", data="{}", content_type="application/json", **headers)
    assert response.status_code == 401 and b"requests" not in response.content
    assert client.get(f"/{endpoint}").status_code == 405


def test_the_only_admin_pages_an_anonymous_visitor_may_open_are_login_and_logout(world):
    anonymous = _client(None)
    open_to_all = []
    for route, _pattern in _all_patterns(get_resolver()):
        if not route.startswith("admin/") or "<" in route or "(?P" in route:
            continue
        path = "/" + route.replace("^", "").replace("$", "")
        response = anonymous.get(path)
        if response.status_code == 200:
            open_to_all.append(path)
    assert open_to_all == ["/admin/login/"]


def test_every_admin_form_refuses_a_post_without_its_csrf_token(world):
    strict = Client(enforce_csrf_checks=True)
    assert strict.login(username="alice", password=CAST_PASSWORD)
    posts = [url for _, _, url in _admin_urls()] + _ops_urls(world) + ["/admin/logout/", "/admin/password_change/"]
    for url in posts:
        response = strict.post(url, {"action": "delete_selected"})
        assert response.status_code == 403, (url, response.status_code)
    assert Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "alice",
                                                                   "password": CAST_PASSWORD}).status_code == 403

"""Who reaches what: every admin page and action, discovered from the admin registry and the URL
resolver (nothing hand-listed), for an anonymous visitor, finance staff and a connector admin.

The policy (README › Roles): finance staff work mappings and sync records and may see which tenants
exist; connection pages are connector admins' only. Users, groups, permissions, tenant memberships and
the task queue (django-q schedules and tasks, whose `func` runs anything, and whose results name every
tenant) are superusers' only. Anonymous visitors reach nothing but the login page and the signed webhook
endpoint.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from connectors.tenant_admin import TenantScopedAdmin, is_superusers_only
from tests.cast import CAST_PASSWORD, CAST_TENANT_SLUG

FINANCE_APPS = {"mappings", "audit"}
FINANCE_VIEW_ONLY = {"connectors.tenant"}  # list and change page (read-only); never add or delete
# Actions finance may run outside their apps: "Sync now" starts the same job the dashboard offers them.
FINANCE_ACTIONS = {("connectors.tenant", "sync_now")}


OTHER = "contoso"  # the other tenant's slug; every string of its data contains it (the leak marker)


def _one_of_everything(tenant: Any, tag: str) -> None:
    """One of each thing the admin lists, belonging to `tenant`, every text carrying `tag`."""
    from django.utils import timezone
    from django_q.models import Schedule

    from audit.models import Attempt, Job, SyncRecord, WebhookEvent, WebhookRejection
    from connectors.models import BillConnection, GPConnection, GPResourceOverride
    from mappings.models import CheckbookMapping, GLAccountMapping, MappingChange, VendorMapping

    gp = GPConnection.objects.create(
        tenant=tenant,
        base_url=f"https://gp.{tag}.example",
        company=f"{tag} Inc.",
        domain="CORP",
        username=f"svc-{tag}",
        password="pw",
    )
    GPResourceOverride.objects.create(connection=gp, values={"modified_precision": "day"})
    BillConnection.objects.create(
        tenant=tenant,
        organization_id=f"00802{tag}",
        username=f"ap@{tag}.example",
        password="pw",
        dev_key="dk",
    )
    record = SyncRecord.objects.create(
        tenant=tenant,
        kind="bill",
        source_key=f"V-{tag}",
        state="failed",
        reason=f"x {tag}",
        label=f"{tag} invoice",
        waiting_on=f"vendor:{tag}01",
    )
    Attempt.objects.create(
        record=record,
        flow="gp_bills",
        trigger="schedule",
        started_at=timezone.now(),
        outcome="failed",
        error=f"refused {tag}",
    )
    VendorMapping.objects.create(
        tenant=tenant, gp_vendor_id=f"{tag}01", gp_name=f"{tag} Supply", bill_vendor_id=f"00901{tag}"
    )
    GLAccountMapping.objects.create(
        tenant=tenant, gp_account=f"000-6100-{tag}", bill_account_id=f"0ca01{tag}"
    )
    CheckbookMapping.objects.create(
        tenant=tenant, bill_funding_account_id=f"bac{tag}", gp_checkbook_id="FIRST"
    )
    from mappings.models import AccountingClassMapping, DepartmentMapping, LocationMapping

    DepartmentMapping.objects.create(tenant=tenant, gp_value=f"D{tag[:4]}", bill_id=f"0de01{tag}")
    LocationMapping.objects.create(tenant=tenant, gp_value=f"L{tag[:4]}", bill_id=f"loc01{tag}")
    AccountingClassMapping.objects.create(tenant=tenant, gp_value=f"C{tag[:4]}", bill_id=f"cls01{tag}")
    MappingChange.objects.create(tenant=tenant, mapping_kind="vendor", key=f"{tag}01")
    WebhookEvent.objects.create(
        tenant=tenant, event_id=f"e-{tag}", event_type="bill.created", entity_id=f"b-{tag}"
    )
    WebhookRejection.objects.create(tenant=tenant, reason="bad_signature", count=1)
    Job.objects.create(tenant=tenant, kind=Job.PREVIEW, result={"summary": f"preview of {tag}"})
    Schedule.objects.create(
        name=f"ml-connector:{tenant.slug}:sync",
        func="connectors.tasks.sync_tenant",
        args=repr((tenant.pk,)),
        schedule_type=Schedule.MINUTES,
        minutes=15,
    )
    from django_q.models import OrmQ, Task

    for ok, name in ((True, "done"), (False, "broke")):
        Task.objects.create(
            id=f"{name}-{tag}",
            name=f"{name} {tag}",
            func="connectors.tasks.sync_tenant",
            started=timezone.now(),
            stopped=timezone.now(),
            success=ok,
        )
    OrmQ.objects.create(key="ml-connector", payload=f"x {tag}", lock=timezone.now())


@pytest.fixture
def world(tenant, alice, frank):
    """Two companies on one connector: Alice and Frank belong to Northwind only."""
    from connectors.models import Tenant

    _one_of_everything(tenant, "northwind")
    _one_of_everything(Tenant.objects.create(name="Contoso Pharmaceuticals", slug=OTHER), OTHER)
    return tenant


@pytest.fixture
def other(world):
    from connectors.models import Tenant

    return Tenant.objects.get(slug=OTHER)


def _object_of(model: Any, model_admin: Any, tenant: Any) -> Any:
    """The tenant's object of a model, for a tenant-scoped admin; any object for install-wide ones."""
    if not isinstance(model_admin, TenantScopedAdmin):
        return model._default_manager.order_by("pk").first()
    path = model_admin.tenant_field
    return model._default_manager.filter(**{path: tenant} if path else {"pk": tenant.pk}).first()


def _admin_urls(tenant: Any = None, objects_only: bool = False) -> list[tuple[str, str, str]]:
    """(model label, url name, path) for every URL of every registered model admin, object URLs
    filled with the object of `tenant` (the cast's own when not given)."""
    from connectors.models import Tenant

    tenant = tenant or Tenant.objects.get(slug=CAST_TENANT_SLUG)
    out = []
    for model, model_admin in admin.site._registry.items():
        obj = _object_of(model, model_admin, tenant)
        for pattern in model_admin.get_urls():
            if not pattern.name:
                continue
            kwargs_needed = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))
            if (kwargs_needed and obj is None) or (objects_only and not kwargs_needed):
                continue
            try:
                url = reverse(f"admin:{pattern.name}", kwargs={k: str(obj.pk) for k in kwargs_needed})
            except NoReverseMatch:
                continue
            out.append((model._meta.label_lower, pattern.name, url))
    return out


def _ops_urls(tenant: Any) -> list[str]:
    """The dashboard and job pages of `tenant`, and the POST buttons on them."""
    from audit.models import Job

    job = Job.objects.filter(tenant=tenant).first()
    return [
        reverse("ml:dashboard"),
        reverse("ml:tenant-dashboard", args=[tenant.slug]),
        reverse("ml:check-webhook", args=[tenant.slug]),
        reverse("ml:job", args=[job.pk]),
        reverse("ml:start-job", args=[tenant.slug, "preview"]),
    ]


def _finance_may(label: str, name: str) -> bool:
    app = label.split(".")[0]
    if app in FINANCE_APPS:
        return True
    return label in FINANCE_VIEW_ONLY and re.search(r"_(changelist|change|history)$", name) is not None


def _install_wide(label: str) -> bool:
    """Pages no tenant owns (task queue, users, groups, memberships): superusers' only."""
    return is_superusers_only(admin.site._registry[apps.get_model(label)])


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


def test_every_admin_is_scoped_to_the_users_tenants_or_is_for_superusers_only(world):
    unscoped = [
        m._meta.label_lower
        for m, a in admin.site._registry.items()
        if not isinstance(a, TenantScopedAdmin) and not is_superusers_only(a)
    ]
    assert unscoped == []
    # The pages a finance user or connector admin works in are all tenant-scoped.
    for label in (
        "audit.syncrecord",
        "audit.attentionrecord",
        "audit.attempt",
        "audit.job",
        "audit.webhookevent",
        "audit.webhookrejection",
        "mappings.vendormapping",
        "mappings.glaccountmapping",
        "mappings.checkbookmapping",
        "mappings.mappingchange",
        "connectors.tenant",
        "connectors.gpconnection",
        "connectors.billconnection",
    ):
        assert isinstance(admin.site._registry[apps.get_model(label)], TenantScopedAdmin), label


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


def test_connector_admins_reach_every_page_of_their_tenants_and_superusers_the_install_wide_ones(
    world, disabled
):
    # Switched off for everyone: add/delete of evidence and the POST-only decision endpoints; never a
    # list, object or history page.
    lists = {url for _, name, url in _admin_urls() if re.search(r"_(changelist|change|history)$", name)}
    assert not disabled & lists, disabled & lists
    admin_user, root = _client("alice"), _client("root")
    install_wide = set()
    for label, name, url in _admin_urls():
        status = admin_user.get(url).status_code
        if _install_wide(label):
            install_wide.add(label)
            assert status == 403, (label, name, url, status)
            assert root.get(url).status_code in ((403,) if url in disabled else (200, 302, 405)), (label, url)
        else:
            assert status in ((403,) if url in disabled else (200, 302, 405)), (label, name, url, status)
    assert {"auth.user", "auth.group", "django_q.schedule", "connectors.tenantmembership"} <= install_wide
    for url in _ops_urls(world):
        assert admin_user.get(url).status_code in (200, 302, 405), url


def test_a_connector_admin_cannot_schedule_a_shell_command(world, alice):
    from django_q.models import Schedule

    admin_user = _client("alice")
    add = reverse("admin:django_q_schedule_add")
    attack = {
        "name": "pwn",
        "func": "os.system",
        "args": "'id > /tmp/pwned'",
        "schedule_type": "O",
        "repeats": "-1",
        "next_run_0": "2026-01-01",
        "next_run_1": "00:00:00",
    }
    assert admin_user.post(add, attack).status_code == 403
    schedule = Schedule.objects.get(name="ml-connector:northwind:sync")
    change = reverse("admin:django_q_schedule_change", args=[schedule.pk])
    assert admin_user.post(change, {**attack, "name": schedule.name}).status_code == 403
    assert not Schedule.objects.filter(func="os.system").exists()
    assert Schedule.objects.get(pk=schedule.pk).func == "connectors.tasks.sync_tenant"
    delete = reverse("admin:django_q_schedule_delete", args=[schedule.pk])
    assert admin_user.post(delete, {"post": "yes"}).status_code == 403


def test_only_superusers_may_resubmit_a_task(world, alice, rf, django_user_model):
    from django_q.models import Failure, OrmQ, Success

    queued = OrmQ.objects.count()
    admin_user = _client("alice")
    for model in (Success, Failure):
        url = reverse(f"admin:django_q_{model._meta.model_name}_changelist")
        admin_user.post(
            url, {"action": "resubmit_task", "_selected_action": [model.objects.first().pk], "index": 0}
        )
        request = rf.get("/")
        request.user = alice
        assert "resubmit_task" not in admin.site._registry[model].get_actions(request)
        request.user = django_user_model.objects.create_superuser(
            f"root-{model.__name__}", "r@example.com", "x"
        )
        assert "resubmit_task" in admin.site._registry[model].get_actions(request)
    assert OrmQ.objects.count() == queued
    assert Failure.objects.exists()  # a resubmit would have deleted it


def test_a_connector_admin_cannot_make_anyone_a_superuser_or_grant_permissions(world, alice, frank):
    from django.contrib.auth.models import Group, Permission

    admin_user = _client("alice")
    for target in (alice, frank):
        url = reverse("admin:auth_user_change", args=[target.pk])
        response = admin_user.post(
            url,
            {
                "username": target.username,
                "is_active": "on",
                "is_staff": "on",
                "is_superuser": "on",
                "date_joined_0": "2026-01-01",
                "date_joined_1": "00:00:00",
            },
        )
        assert response.status_code == 403, target
        target.refresh_from_db()
        assert not target.is_superuser
    new_user = {"username": "mallory", "password1": "Zx-long-pass-91", "password2": "Zx-long-pass-91"}
    assert admin_user.post(reverse("admin:auth_user_add"), new_user).status_code == 403
    assert not type(alice).objects.filter(username="mallory").exists()
    group = Group.objects.get(name="Finance staff")
    every = list(Permission.objects.values_list("pk", flat=True))
    assert (
        admin_user.post(
            reverse("admin:auth_group_change", args=[group.pk]), {"name": group.name, "permissions": every}
        ).status_code
        == 403
    )
    assert group.permissions.count() < len(every)
    assert not alice.has_perm("auth.change_user") and not alice.has_perm("django_q.add_schedule")


def _actions(tenant: Any = None) -> list[tuple[str, str, str, Any]]:
    """Every admin action (Django's delete_selected included) with `tenant`'s object to select."""
    from connectors.models import Tenant

    tenant = tenant or Tenant.objects.get(slug=CAST_TENANT_SLUG)
    out = []
    for model, model_admin in admin.site._registry.items():
        obj = _object_of(model, model_admin, tenant)
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for action in ("delete_selected", *(model_admin.actions or ())):
            name = action if isinstance(action, str) else action.__name__
            out.append((model._meta.label_lower, name, url, obj))
    return out


def test_every_admin_action_is_refused_to_anonymous_visitors_and_to_finance_outside_its_area(world):
    anonymous, finance = _client(None), _client("frank")
    actions = [a for a in _actions() if a[1] != "delete_selected"]
    assert {name for _, name, _, _ in actions} >= {
        "test_gp_connection",
        "replay_selected",
        "approve_selected",
    }
    for label, name, url, obj in actions:
        data = {"action": name, "_selected_action": [obj.pk] if obj else [], "index": 0}
        assert _to_login(anonymous.post(url, data)), (label, name)
        if (not _finance_may(label, "x_changelist") or label in FINANCE_VIEW_ONLY) and (
            label,
            name,
        ) not in FINANCE_ACTIONS:
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


# --- two tenants: nothing of Contoso reaches Northwind's people, nothing they send touches Contoso ---------


def _other_tenants_data() -> dict[str, list[dict[str, Any]]]:
    """Every row of the other tenant, per model, as the database holds it (to prove nothing changed)."""
    from audit.models import Job, SyncRecord
    from connectors.models import Tenant

    other = Tenant.objects.get(slug=OTHER)
    out = {}
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, TenantScopedAdmin):
            obj = _object_of(model, model_admin, other)
            rows = (
                model._default_manager.filter(pk=obj.pk) if obj is not None else model._default_manager.none()
            )
            out[model._meta.label_lower] = [{k: str(v) for k, v in row.items()} for row in rows.values()]
    out["records"] = [
        {k: str(v) for k, v in r.items()} for r in SyncRecord.objects.filter(tenant=other).values()
    ]
    other_ids = set(SyncRecord.objects.filter(tenant=other).values_list("pk", flat=True))
    out["jobs"] = [
        str(j.pk) for j in Job.objects.all() if j.tenant_id == other.pk or other_ids & set(j.record_ids)
    ]
    return out


def _shows_other_tenant(response: Any) -> bool:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return OTHER.encode() in body.lower()


@pytest.mark.parametrize("user", ["frank", "alice"])
def test_no_page_a_member_opens_shows_another_tenants_data(world, user):
    client = _client(user)
    pages = [url for _, _, url in _admin_urls()] + _ops_urls(world) + ["/admin/"]
    lists = [url for _, name, url in _admin_urls() if name.endswith("_changelist")]
    pages += [f"{url}?review=all" for url in lists] + [
        f"{url}?q=ONTOS" for url in lists
    ]  # matches its rows, not the marker
    opened = 0
    for url in pages:
        response = client.get(url)
        if response.status_code == 200:
            opened += 1
            assert not _shows_other_tenant(response), (user, url)
    assert opened > 30  # the lists, record pages, review pages, dashboard and jobs were really read


@pytest.mark.parametrize("user", ["frank", "alice"])
def test_another_tenants_object_urls_answer_404_to_every_get_and_post(world, other, user):
    client = _client(user)
    before = _other_tenants_data()
    urls = [
        (label, url) for label, _, url in _admin_urls(other, objects_only=True) if not _install_wide(label)
    ]
    assert {label for label, _ in urls} >= {"audit.syncrecord", "mappings.vendormapping", "connectors.tenant"}
    form = {
        "decision": "approve",
        "target_id": "00901X",
        "reason": "not ours",
        "note": "x",
        "post": "yes",
        "name": "Taken over",
        "slug": OTHER,
        "state": "approved",
        "tenant": str(other.pk),
    }
    for label, url in urls:
        for response in (client.get(url), client.post(url, form)):
            assert response.status_code in (403, 404), (user, label, url, response.status_code)
            assert not _shows_other_tenant(response), (user, url)
    for url in _ops_urls(other)[1:]:  # [0] is the dashboard of all the user's tenants
        for response in (client.get(url), client.post(url)):
            assert response.status_code in (403, 404, 405), (user, url, response.status_code)
            assert not _shows_other_tenant(response), (user, url)
    assert _other_tenants_data() == before


@pytest.mark.parametrize("user", ["frank", "alice"])
def test_actions_on_another_tenants_objects_change_nothing(world, other, user):
    from django.db import connection
    from django.test import TestCase

    client = _client(user)
    before = _other_tenants_data()
    tried = 0
    for label, name, url, obj in _actions(other):
        # Tenant data only: the install-wide pages are refused to both roles (and deleting a user
        # would log this one out, proving nothing).
        if (
            obj is None
            or label.split(".")[0] not in ("connectors", "audit", "mappings")
            or _install_wide(label)
        ):
            continue
        data = {
            "action": name,
            "_selected_action": [obj.pk],
            "index": 0,
            "post": "yes",
            "apply": "1",
            "reason": "not ours",
        }
        with TestCase.captureOnCommitCallbacks(using=connection.alias, execute=True):
            response = client.post(url, data, follow=True)
        tried += 1
        assert response.status_code in (200, 403), (user, label, name, response.status_code)
        assert not any("/admin/login/" in hop for hop, _ in response.redirect_chain), (user, label, name)
        assert not _shows_other_tenant(response), (user, label, name)
    assert tried > 10
    assert _other_tenants_data() == before


@pytest.mark.parametrize("user", ["frank", "alice"])
def test_an_import_row_naming_another_tenant_is_refused(world, other, user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mappings.models import VendorMapping

    client = _client(user)
    row = f"{OTHER},{OTHER}01,,link,00901{OTHER},,rejected,\n"
    upload = SimpleUploadedFile(
        "vendors.csv",
        ("tenant,gp_vendor_id,gp_name,action,bill_vendor_id,bill_name,state,note\n" + row).encode(),
    )
    page = client.post(
        "/admin/mappings/vendormapping/import/", {"import_file": upload, "format": "0", "resource": "0"}
    ).content.decode()
    assert f"Unknown tenant &#x27;{OTHER}&#x27;." in page  # the words for a tenant that does not exist
    assert 'name="import_file_name"' not in page
    assert VendorMapping.objects.get(tenant=other).state == "suggested"


@pytest.mark.parametrize("user", ["frank", "alice"])
def test_exports_hold_only_the_users_tenants_in_every_format(world, other, user):
    from mappings.models import VendorMapping

    client = _client(user)
    url = "/admin/mappings/vendormapping/export/"
    form = client.get(url).context["form"]
    columns = {name: "on" for name in form.fields if name.startswith("vendormappingresource_")}
    formats = [value for value, _ in form.fields["format"].choices if value != ""]
    assert len(formats) >= 2
    mine = VendorMapping.objects.get(tenant=world)
    theirs = VendorMapping.objects.get(tenant=other)
    for fmt in formats:
        everything = client.post(url, {"format": fmt, "resource": "0", **columns})
        assert everything.status_code == 200 and not _shows_other_tenant(everything), fmt
        selected = client.post(
            url, {"format": fmt, "resource": "0", **columns, "export_items": [mine.pk, theirs.pk]}
        )
        assert selected.status_code == 200 and not _shows_other_tenant(selected), fmt
    text = client.post(url, {"format": "0", "resource": "0", **columns}).content.decode()
    assert "northwind01" in text


@pytest.mark.parametrize("user", ["frank", "alice"])
def test_filter_choices_and_form_drop_downs_offer_only_the_users_tenants(world, user):
    client = _client(user)
    page = client.get("/admin/mappings/vendormapping/?review=all").content.decode()
    # One tenant: no tenant column or filter at all (issue 16), and never another tenant's name.
    assert "northwind01" in page  # the own tenant's mapping is listed
    assert "Contoso" not in page and "column-tenant" not in page
    add = client.get("/admin/mappings/vendormapping/add/").context["adminform"].form
    assert [t.slug for t in add.fields["tenant"].queryset] == [CAST_TENANT_SLUG]


def test_the_autocomplete_endpoint_never_lists_another_tenant(world):
    client = _client("alice")
    for model in admin.site._registry:
        for field in model._meta.get_fields():
            if getattr(field, "related_model", None) is None or not getattr(field, "concrete", False):
                continue
            response = client.get(
                "/admin/autocomplete/",
                {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field.name,
                    "term": "",
                },
            )
            assert response.status_code == 403 or not _shows_other_tenant(response), (model, field.name)


def test_superusers_see_every_tenant(world, disabled):
    root = _client("root")
    assert b"Contoso Pharmaceuticals" in root.get("/admin/ops/dashboard/").content
    assert _shows_other_tenant(root.get("/admin/mappings/vendormapping/?review=all"))
    assert root.get(reverse("ml:tenant-dashboard", args=[OTHER])).status_code == 200


def test_only_superusers_grant_tenants_and_an_admin_who_adds_one_becomes_its_member(world, disabled):
    from connectors.models import Tenant, TenantMembership

    alice = _client("alice")
    page = alice.get(reverse("admin:connectors_tenant_change", args=[world.pk])).content.decode()
    assert "people who may see this tenant" not in page.lower()
    other = Tenant.objects.get(slug=OTHER)
    refused = alice.post(
        reverse("admin:connectors_tenantmembership_add"),
        {"user": str(django_user("alice").pk), "tenant": str(other.pk)},
    )
    assert refused.status_code == 403
    assert not TenantMembership.objects.filter(tenant=other).exists()
    response = alice.post(
        reverse("admin:connectors_tenant_add"),
        {
            "name": "Fabrikam Retail",
            "slug": "fabrikam",
            "is_active": "on",
            "poll_interval_minutes": "15",
            "bill_policy": "posted_open",
            "paid_statuses": "PAID",
            "vendor_fields_to_gp": "name",
            "agent_silence_alert_minutes": "10",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": str(django_user("frank").pk),
        },
    )
    assert response.status_code == 302, response.content[:3000]
    fabrikam = Tenant.objects.get(slug="fabrikam")
    assert list(fabrikam.memberships.values_list("user__username", flat=True)) == [
        "alice"
    ]  # the inline was ignored
    root = _client("root")
    assert (
        "people who may see this tenant"
        in root.get(reverse("admin:connectors_tenant_change", args=[world.pk])).content.decode().lower()
    )


def django_user(username: str) -> Any:
    from django.contrib.auth.models import User

    return User.objects.get(username=username)


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
    assert public == [
        "webhooks/bill/<slug:slug>/",
        "webhooks/bill/<slug:slug>",
        "health/",
        "metrics",
        "agent/poll",
        "agent/answer",
    ]


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
    posts = (
        [url for _, _, url in _admin_urls()]
        + _ops_urls(world)
        + ["/admin/logout/", "/admin/password_change/"]
    )
    for url in posts:
        response = strict.post(url, {"action": "delete_selected"})
        assert response.status_code == 403, (url, response.status_code)
    assert (
        Client(enforce_csrf_checks=True)
        .post("/admin/login/", {"username": "alice", "password": CAST_PASSWORD})
        .status_code
        == 403
    )

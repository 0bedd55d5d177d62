"""What the record page promises about a vendor that differs in GP and BILL is there: the Keep
buttons only for people who may change records, and a link to the side-by-side review."""

from __future__ import annotations

from django.contrib.auth.models import Permission, User

from audit.models import State
from connectors.models import Tenant
from connectors.tenancy import add_member
from tests import cast
from tests.admin.conftest import record

SNAPSHOT = {
    "agreed": {"name": "Acme"},
    "gp": {"name": "Acme Ltd"},
    "bill": {"name": "Acme Limited"},
    "conflicts": ["name"],
}


def _conflict(tenant):
    return record(tenant, "ACME", "conflict", kind="vendor", target_id="00901ACME", snapshot=SNAPSHOT)


def test_the_conflict_panel_links_to_the_vendors_side_by_side_review(as_frank, tenant):
    rec = _conflict(tenant)
    page = as_frank.get(f"/admin/audit/syncrecord/{rec.pk}/change/").content.decode()
    assert 'id="ml-review-vendor"' in page and "Compare GP and BILL side by side" in page
    link = f"/admin/mappings/vendormapping/by-key/?tenant={tenant.pk}&amp;key=ACME"
    assert link in page
    assert as_frank.get(link.replace("&amp;", "&")).status_code == 302  # to the mapping's review page
    failed = record(tenant, "ACME2", "failed", kind="vendor")
    assert (
        "ml-review-vendor"
        not in as_frank.get(f"/admin/audit/syncrecord/{failed.pk}/change/").content.decode()
    )


def test_only_people_who_may_change_the_record_get_keep_buttons_and_their_press_counts(client, tenant):
    rec = _conflict(tenant)
    keep = {"field": "name", "keep": "gp"}
    viewer = User.objects.create_user("vera", "vera@example.com", cast.CAST_PASSWORD, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_syncrecord"))
    add_member(tenant, viewer)
    client.force_login(viewer)
    page = client.get(f"/admin/audit/syncrecord/{rec.pk}/change/").content.decode()
    assert "Acme Ltd" in page and "Acme Limited" in page and "Keep GP's value<" not in page
    assert client.post(f"/admin/audit/syncrecord/{rec.pk}/keep/", keep).status_code == 403
    outsider = cast.make_user("otto", cast.FINANCE_STAFF)
    add_member(Tenant.objects.create(name="Contoso Pharmaceuticals", slug="contoso"), outsider)
    client.force_login(outsider)
    assert client.post(f"/admin/audit/syncrecord/{rec.pk}/keep/", keep).status_code == 404
    rec.refresh_from_db()
    assert rec.state == State.CONFLICT and rec.snapshot == SNAPSHOT and not rec.trail.exists()

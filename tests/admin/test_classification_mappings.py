"""The department / location / accounting-class review lists: tenant isolation, who may decide what, and the
tenant's segment setting (connector admins only)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from audit.models import SyncRecord
from connectors.models import Tenant
from mappings.models import DepartmentMapping, LocationMapping, MappingChange, MappingState, Suggestion
from tests.waiting import with_waits


@pytest.fixture
def contoso(db) -> Tenant:
    return Tenant.objects.create(name="Contoso Pharmaceuticals", slug="contoso")


def _department(tenant: Tenant, value: str = "20", **fields: Any) -> DepartmentMapping:
    Suggestion.objects.create(
        tenant=tenant,
        kind="department",
        gp_key=value,
        bill_id=f"0de02{tenant.slug}{value}",
        bill_name="Sales",
        score="0.800",
        reasons="same code",
    )
    return DepartmentMapping.objects.create(
        tenant=tenant,
        gp_value=value,
        bill_id=f"0de02{tenant.slug}{value}",
        bill_name="Sales",
        note="Suggested: same code",
        **fields,
    )


def test_another_tenants_department_mapping_is_a_404_on_every_page_and_button(client, tenant, contoso, frank):
    theirs = _department(contoso)
    client.force_login(frank)
    for name in ("change", "history"):
        assert (
            client.get(reverse(f"admin:mappings_departmentmapping_{name}", args=[theirs.pk])).status_code
            == 404
        )
    decide = reverse("admin:mappings_departmentmapping_decide", args=[theirs.pk])
    assert client.post(decide, {"decision": "blank"}).status_code == 404
    by_key = reverse("admin:mappings_departmentmapping_by_key") + f"?tenant={contoso.pk}&key=20"
    assert client.get(by_key).status_code == 404
    listed = client.get(reverse("admin:mappings_departmentmapping_changelist") + "?review=all")
    assert list(listed.context["cl"].result_list) == []
    theirs.refresh_from_db()
    assert theirs.state == MappingState.SUGGESTED


def test_a_location_is_not_listed_as_a_department_of_the_same_code(client, tenant, frank):
    mine = _department(tenant, "100")
    LocationMapping.objects.create(tenant=tenant, gp_value="100", bill_id="loc02HQ")
    client.force_login(frank)
    listed = client.get(reverse("admin:mappings_departmentmapping_changelist") + "?review=all")
    assert [m.pk for m in listed.context["cl"].result_list] == [mine.pk]
    assert client.get(reverse("admin:mappings_locationmapping_change", args=[mine.pk])).status_code == 404


def test_finance_leaves_a_zero_department_blank_and_the_change_is_kept(client, tenant, frank, released):
    waiting = with_waits(
        SyncRecord.objects.create(
            tenant=tenant,
            kind="bill",
            source_key="V1",
            state="blocked",
            waiting_on="department:00",
            label="Invoice 1",
        )
    )
    mapping = DepartmentMapping.objects.create(tenant=tenant, gp_value="00", action="blank")
    client.force_login(frank)
    page = client.get(reverse("admin:mappings_departmentmapping_change", args=[mapping.pk])).content.decode()
    assert "Leave the department blank in BILL" in page and "Invoice 1" in page
    client.post(reverse("admin:mappings_departmentmapping_decide", args=[mapping.pk]), {"decision": "blank"})
    mapping.refresh_from_db()
    assert (
        mapping.state == MappingState.APPROVED and mapping.action == "blank" and mapping.approved_by == frank
    )
    change = MappingChange.objects.get(tenant=tenant, mapping_kind="department", key="00")
    assert change.after["state"] == "approved" and change.user == frank
    assert released() == [[waiting.pk]]  # sent through its flow again (the replay itself: tests/sync)


def test_a_typed_bill_id_of_the_wrong_kind_is_refused_in_words(client, tenant, frank):
    mapping = _department(tenant)
    client.force_login(frank)
    client.post(
        reverse("admin:mappings_departmentmapping_decide", args=[mapping.pk]),
        {"decision": "approve", "target_id": "loc02NOTADEPARTMENT1"},
    )
    mapping.refresh_from_db()
    assert mapping.state == MappingState.SUGGESTED
    messages = [
        str(m) for m in client.get(reverse("admin:mappings_departmentmapping_changelist")).context["messages"]
    ]
    assert any("BILL department ID" in m and "0de" in m for m in messages), messages


def test_finance_cannot_change_the_tenants_segment_setting_and_a_connector_admin_can(
    client, tenant, frank, alice
):
    url = reverse("admin:connectors_tenant_change", args=[tenant.pk])
    client.force_login(frank)
    page = client.get(url)
    assert page.status_code in (200, 403)
    if page.status_code == 200:  # finance may see the tenant, never change it
        assert 'name="department_segment"' not in page.content.decode()
    client.post(url, {"department_segment": "3"})
    tenant.refresh_from_db()
    assert tenant.department_segment is None

    client.force_login(alice)
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (list, dict))}
    data.update(
        {
            "department_segment": "3",
            "location_segment": "3",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        }
    )
    refused = client.post(url, data)
    assert refused.status_code == 200 and "Segment 3 is already the department" in refused.content.decode()
    data["location_segment"] = "1"
    client.post(url, data)
    tenant.refresh_from_db()
    assert (tenant.department_segment, tenant.location_segment) == (3, 1)


DEPT_IMPORT = "/admin/mappings/departmentmapping/import/"
DEPT_CONFIRM = "/admin/mappings/departmentmapping/process_import/"
DEPT_HEADER = "tenant,gp_value,gp_description,action,bill_id,bill_name,state,note\n"


def _upload(client: Any, text: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        DEPT_IMPORT,
        {"import_file": SimpleUploadedFile("departments.csv", text.encode()), "format": "0", "resource": "0"},
    )


def test_departments_import_with_link_create_and_blank_and_refuse_bad_rows_in_words(
    client, tenant, frank, released
):
    _department(tenant, "20")
    DepartmentMapping.objects.create(tenant=tenant, gp_value="00", action="create")
    DepartmentMapping.objects.create(tenant=tenant, gp_value="30", action="create")
    waiting = with_waits(
        SyncRecord.objects.create(
            tenant=tenant, kind="bill", source_key="V9", state="blocked", waiting_on="department:20"
        )
    )
    client.force_login(frank)
    bad = _upload(
        client,
        DEPT_HEADER + "northwind,20,,link,loc02WRONGKIND,,approved,\n"
        "northwind,99,,create,,,approved,\n"
        "northwind,00,,remove,,,approved,\n",
    ).content.decode()
    assert "BILL department ID" in bad and "Unknown GP department &#x27;99&#x27;." in bad
    assert "Action must be" in bad
    assert not DepartmentMapping.objects.filter(state=MappingState.APPROVED).exists()

    good = _upload(
        client,
        DEPT_HEADER + f"northwind,20,Sales,link,0de02{tenant.slug}20,Sales,,\n"
        "northwind,00,,blank,,,,\nnorthwind,30,Service,create,,,,\n",
    )
    client.post(DEPT_CONFIRM, {**good.context["confirm_form"].initial, "resource": "0"}, follow=True)
    got = {
        m.gp_value: (m.state, m.action, m.bill_id) for m in DepartmentMapping.objects.filter(tenant=tenant)
    }
    assert got == {
        "20": ("approved", "link", f"0de02{tenant.slug}20"),
        "00": ("approved", "blank", ""),
        "30": ("approved", "create", ""),
    }
    assert [waiting.pk] in released()
    exported = client.post(
        "/admin/mappings/departmentmapping/export/",
        {
            "format": "0",
            "resource": "0",
            "scope": "all",
            **{
                f"departmentmappingresource_{f}": "on"
                for f in ("tenant", "gp_value", "action", "bill_id", "state")
            },
        },
    )
    assert exported.status_code == 200

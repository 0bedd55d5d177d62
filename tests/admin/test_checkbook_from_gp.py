"""The GP checkbook of a checkbook mapping is picked from GP's own list, never typed."""

from __future__ import annotations

from django.core.cache import cache

from mappings.models import CheckbookMapping, MappingChange
from tests.fixtures_gp import wire_gp_connection

FUNDING = "0ba01ABCDEFGHIJKLMNO"


def test_the_checkbook_is_chosen_from_gps_active_checkbooks(as_frank, tenant, gp_sandbox):
    cache.clear()
    wire_gp_connection(tenant, gp_sandbox)
    mapping = CheckbookMapping.objects.create(
        tenant=tenant, bill_funding_account_id=FUNDING, bill_funding_name="Operating account"
    )
    url = f"/admin/mappings/checkbookmapping/{mapping.pk}/change/"
    page = as_frank.get(url).content.decode()
    assert '<select name="gp_checkbook_id"' in page
    assert "UPTOWN TRUST — Uptown Trust Operating (account ending 4321)" in page
    assert "FIRST NATIONAL" in page
    assert "OLD SAVINGS" not in page  # inactive in GP: not offered
    form = {
        "tenant": tenant.pk,
        "bill_funding_account_id": FUNDING,
        "bill_funding_name": "Operating account",
        "note": "",
    }
    refused = as_frank.post(url, {**form, "gp_checkbook_id": "TYPED BY HAND"})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert CheckbookMapping.objects.get(pk=mapping.pk).gp_checkbook_id == ""
    saved = as_frank.post(url, {**form, "gp_checkbook_id": "UPTOWN TRUST"})
    assert saved.status_code == 302
    assert CheckbookMapping.objects.get(pk=mapping.pk).gp_checkbook_id == "UPTOWN TRUST"
    assert MappingChange.objects.filter(mapping_kind__icontains="checkbook").exists()


def test_without_gp_the_page_says_so_and_offers_nothing_to_type(as_frank, tenant):
    cache.clear()
    mapping = CheckbookMapping.objects.create(tenant=tenant, bill_funding_account_id=FUNDING)
    page = as_frank.get(f"/admin/mappings/checkbookmapping/{mapping.pk}/change/").content.decode()
    assert "no GP connection yet, so GP's checkbooks cannot be listed" in page
    assert '<select name="gp_checkbook_id"' in page
    assert '<input type="text" name="gp_checkbook_id"' not in page


def test_the_review_page_says_to_choose_from_gps_list(as_frank, tenant):
    cache.clear()
    mapping = CheckbookMapping.objects.create(tenant=tenant, bill_funding_account_id=FUNDING)
    page = as_frank.get(f"/admin/mappings/checkbookmapping/{mapping.pk}/change/").content.decode()
    assert (
        "Choose the GP checkbook from GP&#x27;s list below" in page
        or "Choose the GP checkbook from GP's list below" in page
    )
    assert "type its ID below" not in page

"""A mapping's "records waiting" opens the records that wait for it — by account or segment value too,
which no search of the list's text finds — with the filter named in a clerk's words."""

from __future__ import annotations

import re
from urllib.parse import unquote

from mappings.models import GLAccountMapping
from tests.admin.conftest import record

ATTENTION = "/admin/audit/attentionrecord/"


def test_the_records_waiting_for_an_account_open_from_its_mapping(as_frank, tenant):
    GLAccountMapping.objects.create(tenant=tenant, gp_account="000-6100-00")
    record(
        tenant,
        "00000001",
        "blocked",
        label="ACME invoice 1",
        waiting_on="vendor:ACME0001 account:000-6100-00",
    )
    record(tenant, "00000002", "blocked", label="BOLT invoice 2", waiting_on="account:000-6100-00")
    record(tenant, "00000003", "blocked", label="ACME invoice 3", waiting_on="account:000-6100-001")

    listing = as_frank.get("/admin/mappings/glaccountmapping/").content.decode()
    link = re.search(r'<a href="([^"]+)">2 records</a>', listing)
    assert link, "the mapping counts the two records waiting for exactly its account"

    page = as_frank.get(unquote(link.group(1)).replace("&amp;", "&")).content.decode()
    assert "ACME invoice 1" in page and "BOLT invoice 2" in page
    assert "ACME invoice 3" not in page
    assert "GP account 000-6100-00" in page


def test_the_filter_by_what_records_wait_for_names_it_and_keeps_to_that_key(as_frank, tenant):
    record(tenant, "00000004", "blocked", label="Held invoice", waiting_on="gp-hold:unknown")
    record(tenant, "00000005", "blocked", label="Vendor invoice", waiting_on="vendor:ACME0001")

    page = as_frank.get(ATTENTION + "?waiting_for=gp-hold:unknown").content.decode()

    assert "Held invoice" in page and "Vendor invoice" not in page
    assert "GP&#x27;s hold check" in page or "GP's hold check" in page

"""Every finance screen in a real browser at 1280 and 1440 px, as a clerk reads it: nothing wider than the
window or cut off inside it, no Python values, no raw state codes. A screenshot of each screen at each
width goes to var/screens/screen-<name>-<width>.png (`make screens`, or the command in the README).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from tests.browser.conftest import sign_in
from tests.browser.test_vendor_match_review import SCREENS

pytestmark = pytest.mark.browser

WIDTHS = (1280, 1440)
RAW = ("{'", "[{'", "Decimal(")
# Codes the ledger and the flows use, which must never reach a clerk as such.
CODES = re.compile(
    r"\b(?:in_doubt|updated_gp|bill_ignored|gp_bills|gp_vendors|gl_accounts|bill_payments|"
    r"bill_vendors|gp_payment|bill_due|gl_account|vendor_link|suggestapproved|createlink|"
    r"blocked|synced|in-doubt)\b"
)

# Elements inside the page's main area that cut off what they hold (a scroller hiding columns counts).
CLIPPED = """() => {
  const out = [];
  for (const el of document.querySelectorAll('#content, #content *')) {
    const style = getComputedStyle(el);
    if (!['auto', 'scroll', 'hidden'].includes(style.overflowX)) continue;
    if (el.closest('svg') || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA') continue;
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) out.push(
      `${el.tagName}.${el.className} ${el.scrollWidth}>${el.clientWidth}`);
  }
  const main = document.querySelector('#content');
  if (main && main.getBoundingClientRect().right > window.innerWidth + 1) out.push(
    '#content beyond the window');
  return out;
}"""


@pytest.fixture
def ledger(tenant: Any, gp_connection: Any, bill_connection: Any) -> Any:
    """A first sync, the strong matches approved and a second sync: bills synced, some waiting, one failed."""
    from audit.ledger import settle
    from audit.models import Job, SyncRecord
    from connectors.sync.runner import run_gp_to_bill
    from mappings.models import CheckbookMapping, GLAccountMapping, VendorMapping

    run_gp_to_bill(tenant, full=True)
    GLAccountMapping.objects.filter(tenant=tenant).exclude(bill_account_id="").update(state="approved")
    VendorMapping.objects.filter(tenant=tenant, gp_vendor_id__in=["ACETRAVE0001"]).update(state="approved")
    run_gp_to_bill(tenant, full=True)
    waiting = SyncRecord.objects.filter(tenant=tenant, kind="bill", state="blocked").first()
    if waiting is not None:
        settle(
            waiting,
            "failed",
            reason="BILL did not take the bill: 503 Service Unavailable",
            fix="It is retried automatically; Replay to retry now.",
        )
    CheckbookMapping.objects.get_or_create(
        tenant=tenant,
        bill_funding_account_id="0ba01SANDBOXFUND00001",
        defaults={"bill_funding_name": "Operating account"},
    )
    from audit.tasks import run_job

    job = Job.objects.create(kind=Job.DRIFT, tenant=tenant)
    run_job(job.pk)
    return {"tenant": tenant, "drift_job": Job.objects.get(pk=job.pk)}


def check(page: Any, name: str) -> None:
    """At each width: no page overflow, nothing clipped, no reprs, no codes; a screenshot."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(50)
        page.screenshot(path=str(SCREENS / f"screen-{name}-{width}.png"), full_page=True)
        wider = page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")
        assert wider <= 0, f"{name}: the page is {wider}px wider than the window at {width}px"
        clipped = page.evaluate(CLIPPED)
        assert not clipped, f"{name} at {width}px cuts off: {clipped}"
        text = page.locator("body").inner_text()
        for raw in RAW:
            assert raw not in text, f"{name}: Python value {raw!r} on the page"
        codes = sorted(set(CODES.findall(text)))
        assert not codes, f"{name}: raw codes on the page: {codes}"


def test_every_finance_screen_fits_1280_and_1440_and_reads_in_words(
    page, live_server, frank, alice, ledger, inline_tasks
):
    from audit.models import SyncRecord
    from mappings.models import CheckbookMapping, VendorMapping

    tenant = ledger["tenant"]
    sign_in(page, live_server, "frank")
    base = live_server.url
    bill = SyncRecord.objects.filter(tenant=tenant, kind="bill", state="synced").first()
    waiting = VendorMapping.objects.filter(tenant=tenant, state="suggested").first()
    checkbook = CheckbookMapping.objects.get(tenant=tenant)
    screens = {
        "dashboard": "/admin/ops/dashboard/",
        "needs-attention": "/admin/audit/attentionrecord/",
        "sync-records": "/admin/audit/syncrecord/",
        "record": f"/admin/audit/syncrecord/{bill.pk}/change/",
        "vendor-mappings": "/admin/mappings/vendormapping/",
        "vendor-review": f"/admin/mappings/vendormapping/{waiting.pk}/change/",
        "account-mappings": "/admin/mappings/glaccountmapping/",
        "checkbook-mappings": "/admin/mappings/checkbookmapping/",
        "checkbook-review": f"/admin/mappings/checkbookmapping/{checkbook.pk}/change/",
        "vendor-import": "/admin/mappings/vendormapping/import/",
        "vendor-export": "/admin/mappings/vendormapping/export/",
        "drift-report": "",
    }
    for name, path in screens.items():
        if name == "drift-report":
            path = _job_path(ledger["drift_job"])
        response = page.goto(base + path)
        assert response.status == 200, f"{name}: {response.status}"
        check(page, name)
    # The lists speak money: the amount column is right-aligned dollars.
    page.goto(base + "/admin/audit/syncrecord/")
    amounts = page.locator("td.field-amount_text").all_inner_texts()
    odd = [
        a
        for a in amounts
        if a.strip() and not re.fullmatch(r"-?(?:\$|€|£)?[\d,]+(?:\.\d\d)?(?: [A-Z]{3})?", a.strip())
    ]
    assert amounts and not odd, odd
    assert "$999.99" in amounts
    assert "bills" in page.locator("#ml-totals").inner_text()
    assert bill.amount is not None and Decimal(bill.amount) > 0


def _job_path(job: Any) -> str:
    from django.urls import reverse

    return reverse("ml:job", args=[job.pk])

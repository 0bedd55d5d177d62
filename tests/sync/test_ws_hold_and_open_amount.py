"""Issue 12's money rule over GP Web Services: BILL's due on a synced bill is at most GP's open amount,
and an invoice on hold in GP never reaches BILL unseen.

GP Web Services documents TotalPayments and WriteoffAmount on a payables invoice (and the terms discount
taken), so a partly paid voucher's open amount is known and BILL's due is brought down to it as over SBA
(record-payment for what GP applied). It documents no hold flag: by default every invoice read over it
waits in Needs attention with the reason said; only a tenant that accepted sending without a hold check
sends them. End to end: the SOAP sandbox serves the SBA sandbox's company, BILL is read through its API.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from audit.models import Kind, State, SyncRecord
from connectors.bill.client import BillClient
from connectors.devtools.agreement import measure_bills
from connectors.gp.transport import gp_client_for
from connectors.sync.replay import replay_record
from tests.fixtures_gp_ws import wire_gp_interface
from tests.sync.conftest import approve_all, bills_by_voucher, record, run

PARTLY_PAID = "00000000000000306"  # Contoso CT-88121, 999.99 with 500.00 already applied in GP
HELD = "00000000000000309"  # Ace Travel INV-1003, on hold in GP
FREE = "00000000000000305"  # Contoso CT-88120, 2,260.00, nothing applied, not on hold


@pytest.fixture
def over_ws(wired, gp_sandbox, gp_ws_sandbox):
    wire_gp_interface(wired, gp_sandbox, gp_ws_sandbox, "web_services")
    wired.refresh_from_db()
    return wired


def gp_open(gp_sandbox, voucher: str) -> Decimal:
    """GP's own current (open) amount, from the company's table, not through the connector."""
    return Decimal(
        str(gp_sandbox.data().tables["PayablesInvoices"].get(voucher)["CurrentTransactionAmount"]["Value"])
    )


def bill_of(tenant, voucher: str):
    return BillClient.for_connection(tenant.bill_connection).get_bill(
        record(tenant, "bill", voucher).target_id
    )


def sync_twice(tenant, *, accept_without_hold_check: bool = False) -> None:
    """A first run, every suggested mapping approved, a second run; the switch set first if asked."""
    if accept_without_hold_check:
        tenant.send_without_hold_check = True
        tenant.save()
    run(tenant)
    approve_all(tenant)
    run(tenant)


def test_the_web_services_client_reads_a_partly_paid_vouchers_open_amount(over_ws, gp_sandbox):
    client = gp_client_for(over_ws.gp_connection)
    try:
        invoice = client.get_invoice(PARTLY_PAID)
        assert invoice.document_amount == Decimal("999.99")
        assert invoice.remaining == Decimal("499.99") == gp_open(gp_sandbox, PARTLY_PAID)
        assert client.get_invoice(FREE).remaining == gp_open(gp_sandbox, FREE) == Decimal("2260.00")
        # No documented hold flag: the client says "not known", never "not on hold".
        assert client.get_invoice(HELD).hold_known is False
    finally:
        client.close()


def test_a_partly_paid_voucher_reaches_bill_with_gp_open_amount_due(over_ws, gp_sandbox):
    sync_twice(over_ws, accept_without_hold_check=True)
    bill = bill_of(over_ws, PARTLY_PAID)
    assert bill.amount == Decimal("999.99")  # the bill says what was bought …
    assert bill.due_amount == Decimal("499.99") == gp_open(gp_sandbox, PARTLY_PAID)  # … and owes what GP owes
    assert record(over_ws, "bill_due", PARTLY_PAID).state == State.SYNCED
    assert measure_bills(over_ws)["bill_due_over_gp_open"] == 0


def test_a_clerks_check_in_gp_after_the_bill_went_brings_bills_due_down_over_ws(over_ws, gp_sandbox):
    sync_twice(over_ws, accept_without_hold_check=True)
    assert bill_of(over_ws, FREE).due_amount == Decimal("2260.00")
    gp_sandbox.data().apply_outside(FREE, "1000.00", document="CHK-WS-1")
    run(over_ws)
    assert bill_of(over_ws, FREE).due_amount == Decimal("1260.00") == gp_open(gp_sandbox, FREE)


def test_a_held_invoice_is_not_sent_over_web_services(over_ws, gp_sandbox):
    sync_twice(over_ws)
    in_bill = bills_by_voucher(over_ws)
    assert HELD not in in_bill
    held = record(over_ws, "bill", HELD)
    assert held.state == State.BLOCKED and not held.target_id
    assert "does not show whether invoice INV-1003" in held.reason and "on hold in GP" in held.reason
    assert "send invoices read over GP Web Services" in held.fix
    # GP cannot say which invoices are held, so none goes until the tenant accepts that: said, not lost.
    assert in_bill == {}
    free = record(over_ws, "bill", FREE)
    assert free.state == State.BLOCKED and "on hold in GP" in free.reason
    measured = measure_bills(over_ws)
    assert measured["missing"] == 0 and measured["gp_invoices_waiting_hold_check"] >= 2


def test_accepting_sending_without_a_hold_check_releases_the_waiting_invoices(over_ws):
    sync_twice(over_ws)
    over_ws.send_without_hold_check = True
    over_ws.save()
    after = replay_record(record(over_ws, "bill", FREE))
    assert after.state == State.SYNCED and after.target_id
    assert bill_of(over_ws, FREE).amount == Decimal("2260.00")


def test_sba_still_reads_the_hold_flag_and_ignores_the_web_services_switch(wired):
    sync_twice(wired, accept_without_hold_check=True)
    assert HELD not in bills_by_voucher(wired)
    assert not SyncRecord.objects.filter(
        tenant=wired, kind=Kind.BILL, source_key=HELD, target_id__gt=""
    ).exists()


def _tenant_form_data(tenant: Any, **changes: Any) -> dict[str, Any]:
    """What the tenant's change page posts: every field as shown, with `changes` applied."""
    from django.contrib import admin as django_admin

    from connectors.models import Tenant

    form = django_admin.site._registry[Tenant].get_form(None, tenant)(instance=tenant)
    data: dict[str, Any] = {}
    for name in form.fields:
        value = changes.get(name, form[name].value())
        if value is True:
            data[name] = "on"
        elif value not in (False, None):
            data[name] = value
    return {**data, "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}


def test_turning_on_sending_without_a_hold_check_in_the_tenant_page_sends_the_waiting_invoices(over_ws):
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    sync_twice(over_ws)
    assert FREE not in bills_by_voucher(over_ws)
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    page = reverse("admin:connectors_tenant_change", args=[over_ws.pk])
    response = admin.post(page, _tenant_form_data(over_ws, send_without_hold_check=True), follow=True)
    assert response.status_code == 200 and "waited for GP&#x27;s hold check are on their way to BILL" in (
        response.content.decode()
    )
    # Released by itself, as a mapping approval releases its waiters: no Replay needed.
    assert record(over_ws, "bill", FREE).state == State.SYNCED
    assert bill_of(over_ws, FREE).amount == Decimal("2260.00")

"""The flows through an agent are the flows direct: the same records in BILL and GP, and a GP write
whose answer is lost between GP and the connector is in doubt and reconciled, never repeated."""

from __future__ import annotations

from audit.models import State, SyncRecord
from connectors.sync.keys import gp_payment_number
from connectors.sync.replay import replay_record
from connectors.sync.runner import run_bill_to_gp
from tests.fixtures_bill import wire_bill_connection
from tests.gp.clients import sba_client
from tests.sync.conftest import approve_all, approved_invoices, bills_by_voucher, record, run


def test_a_payment_whose_answer_is_lost_after_gp_saved_it_is_reconciled_to_one_gp_payment(
    through_agent, token, start_agent, gp_sandbox, bill_sandbox
):
    from bench._chaos_faults import GPAfterCommit

    tenant = through_agent.tenant
    wire_bill_connection(tenant, bill_sandbox)
    tenant.default_checkbook_id = "UPTOWN TRUST"
    tenant.save()
    start_agent(token)
    gp_sandbox.reset_stats()
    run(tenant)
    approve_all(tenant)
    synced = set(
        SyncRecord.objects.filter(tenant=tenant, kind="bill", state=State.SYNCED).values_list(
            "source_key", flat=True
        )
    )
    assert (
        synced and synced <= set(approved_invoices(tenant)) and synced == set(bills_by_voucher(tenant)) - {""}
    )
    assert not SyncRecord.objects.filter(
        tenant=tenant, state__in=[State.FAILED, State.IN_DOUBT, State.SENDING]
    ).exists()
    bill_record = next(
        r
        for r in SyncRecord.objects.filter(tenant=tenant, kind="bill", state=State.SYNCED).order_by(
            "source_key"
        )
    )
    payment = bill_sandbox.pay_bills([{"billId": bill_record.target_id}])
    handler = gp_sandbox.server.RequestHandlerClass
    faults = GPAfterCommit(seed=1, rate=1.0, hold_seconds=0, path_contains="PayablesPayments")
    faults.install(gp_sandbox)
    gp_sandbox.server.drop_connections()  # the agent's open connection would keep the old handler
    try:
        run_bill_to_gp(tenant)
    finally:
        gp_sandbox.server.RequestHandlerClass = handler
    assert sum(faults.injected.values()) == 1  # GP saved the payment, then the agent lost its answer
    r = record(tenant, "gp_payment", payment["id"])
    if r.state != State.SYNCED:  # in doubt until proven: the next run (here a replay) reconciles first
        assert r.state == State.IN_DOUBT, (r.state, r.reason)
        replay_record(r)
        r.refresh_from_db()
    assert r.state == State.SYNCED, r.reason
    number = gp_payment_number(payment["id"])
    direct = sba_client(
        gp_sandbox.url, gp_sandbox.tenant, gp_sandbox.company, gp_sandbox.account, gp_sandbox.password
    )
    assert [p.payment_number for p in direct.iter_payments()].count(number) == 1
    assert direct.get_invoice(bill_record.source_key).remaining == 0
    assert "adopted" in set(r.trail.values_list("outcome", flat=True))  # found in GP, not written again

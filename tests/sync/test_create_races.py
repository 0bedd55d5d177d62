"""Two paths that decide to create the same vendor at once make one BILL vendor (issue 12 §6).

Deterministic: the run's bulk create is held inside its BILL call (the row already written ahead)
while the mapping-approval task for one of its vendors runs to the end — what a qcluster worker did 39 ms
after the run's bulk create in the field. Before, the task saw the row `sending`, looked BILL up
(nothing yet), and created the vendor a second time.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db import connection

from audit.models import Kind, State, SyncRecord
from connectors.bill.client import BillClient
from mappings.models import MappingAction, MappingState, VendorMapping
from tests.sync.conftest import run


def test_an_approval_task_during_a_runs_bulk_create_makes_no_second_vendor(wired, bill_sandbox, monkeypatch):
    import mappings.approval
    from connectors import tasks
    from mappings.approval import approve

    run(wired)  # suggestions
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(mappings.approval, "enqueue", lambda func, *args, **kw: queued.append((func, *args)))
    to_create = list(
        VendorMapping.objects.filter(tenant=wired, state=MappingState.SUGGESTED, action=MappingAction.CREATE)
    )
    assert len(to_create) >= 2, "the seed should suggest creating several vendors (a bulk create)"
    for mapping in to_create:
        approve(mapping, None, create=True)  # approved; the tasks wait in the queue

    entered, go = threading.Event(), threading.Event()
    real_bulk, real_one = BillClient.bulk_create_vendors, BillClient.create_vendor

    def held(real):
        def call(self, *args, **kwargs):
            if threading.current_thread() is not threading.main_thread() and not entered.is_set():
                entered.set()  # the run is inside its create, its rows written ahead
                go.wait(60)
            return real(self, *args, **kwargs)

        return call

    monkeypatch.setattr(BillClient, "bulk_create_vendors", held(real_bulk))
    monkeypatch.setattr(BillClient, "create_vendor", held(real_one))
    before = {v.id for v in BillClient.for_connection(wired.bill_connection).iter_vendors()}

    def full_run() -> None:
        try:
            run(wired, full=True)
        finally:
            connection.close()

    runner = threading.Thread(target=full_run)
    runner.start()
    try:
        assert entered.wait(60), "the run never reached its vendor create"
        approved = [args for func, *args in queued if func == "connectors.tasks.mapping_approved"]
        for label, pk, user_id in approved:  # the qcluster worker runs the approval tasks now
            tasks.mapping_approved(label, pk, user_id)
    finally:
        go.set()
        runner.join(120)
    assert not runner.is_alive()

    made = [v for v in BillClient.for_connection(wired.bill_connection).iter_vendors() if v.id not in before]
    assert len(made) == len(to_create), sorted(v.name for v in made)  # none twice, no orphan
    for mapping in to_create:
        mapping.refresh_from_db()
        record = SyncRecord.objects.get(tenant=wired, kind=Kind.VENDOR, source_key=mapping.gp_vendor_id)
        assert record.state == State.SYNCED and record.target_id == mapping.bill_vendor_id
        assert mapping.bill_vendor_id in {v.id for v in made}
    assert len({m.bill_vendor_id for m in to_create}) == len(to_create)

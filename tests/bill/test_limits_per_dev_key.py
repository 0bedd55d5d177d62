"""BILL's limits are per developer key (20,000 calls and 200 sign-ins an hour, shared by every org
using the key); no answer from BILL can make the client sign in over and over. Over HTTP."""

from __future__ import annotations

import pytest
import requests

from connectors.bill.client import BillClient
from connectors.bill.gate import reset_gates
from connectors.bill.http import BillError
from connectors.models import Tenant
from tests.fixtures_bill import fast_backoff, wire_bill_connection


@pytest.fixture
def small_hour(settings):
    settings.BILL_HOURLY_BUDGET = 40
    settings.BILL_HOURLY_LOGINS = 200
    reset_gates()
    yield settings
    reset_gates()


def _calls_until_refused(client: BillClient, limit: int = 100) -> tuple[int, BillError]:
    for n in range(limit):
        try:
            client.session_info()
        except BillError as exc:
            return n, exc
    raise AssertionError("never refused")


def test_two_orgs_sharing_a_developer_key_share_its_hour_fairly(db, tenant, small_hour, bill_sandbox_factory):
    # Two BILL organizations, one developer key.
    first = bill_sandbox_factory()
    second = bill_sandbox_factory(dev_key=first.credentials.dev_key)
    other = Tenant.objects.create(name="Second Company", slug="second")
    quiet_conn = wire_bill_connection(other, second)
    busy = BillClient.for_connection(wire_bill_connection(tenant, first), backoff=fast_backoff())

    done, refused = _calls_until_refused(busy)
    assert refused.code == "HOURLY_BUDGET" and "2 organization(s) share it" in refused.message
    sent_by_busy = first.stats()["requests"]["total"]
    assert (
        sent_by_busy == 20
    )  # its half of the key's 40 (a sign-in and 19 calls): the rest is the other org's

    quiet = BillClient.for_connection(quiet_conn, backoff=fast_backoff())
    quiet_done, _ = _calls_until_refused(quiet)
    assert quiet_done == 19  # the quiet org still has its whole share
    assert first.stats()["requests"]["total"] + second.stats()["requests"]["total"] == 40


def test_sign_ins_are_counted_against_the_keys_hour_and_capped(db, tenant, settings, bill_sandbox):
    settings.BILL_HOURLY_LOGINS = 2
    reset_gates()
    try:
        client = BillClient.for_connection(wire_bill_connection(tenant, bill_sandbox), backoff=fast_backoff())
        assert client.test_connection() is None
        assert client.test_connection() is None
        problem = (
            client.test_connection()
        )  # a third sign-in this hour: the gate refuses it, BILL never sees it
        assert problem and "sign-ins for this hour is used up" in problem
        assert bill_sandbox.stats()["logins"] == 2
    finally:
        reset_gates()


def test_a_bill_answering_malformed_401s_cannot_cause_a_login_storm(db, tenant, bill_sandbox):
    client = BillClient.for_connection(wire_bill_connection(tenant, bill_sandbox), backoff=fast_backoff())
    vendor_id = next(iter(bill_sandbox.store.vendors))
    bill_sandbox.add_fault("malformed", count=100, status=401, path_contains="/v3/vendors/")
    failures = 0
    for _ in range(10):  # ten parked records, each asking for its vendor
        try:
            client.get_vendor(vendor_id)
        except BillError:
            failures += 1
    assert failures == 10
    assert bill_sandbox.stats()["requests"]["by_path"]["POST /connect/v3/login"] == {"200": 1}


def test_sign_ins_answered_with_garbage_are_not_repeated_per_call(db, tenant, bill_sandbox):
    client = BillClient.for_connection(wire_bill_connection(tenant, bill_sandbox), backoff=fast_backoff())
    bill_sandbox.add_fault("malformed", count=100, status=200, path_contains="/v3/login")
    for _ in range(5):
        with pytest.raises(BillError):
            client.session_info()
    assert bill_sandbox.stats()["requests"]["by_path"]["POST /connect/v3/login"] == {"200": 1}


def test_a_session_that_worked_and_then_expired_is_renewed_at_once(db, tenant, bill_sandbox):
    client = BillClient.for_connection(wire_bill_connection(tenant, bill_sandbox), backoff=fast_backoff())
    for _ in range(3):  # well inside the sign-in cool-down
        client.session_info()
        bill_sandbox.expire_sessions()
    client.session_info()
    assert bill_sandbox.stats()["logins"] == 4


def test_the_sandbox_limits_sign_ins_per_developer_key_per_hour(bill_sandbox_factory):
    sandbox = bill_sandbox_factory(hourly_logins=2)
    c = sandbox.credentials
    body = {"username": c.username, "password": c.password, "organizationId": c.org_id, "devKey": c.dev_key}
    answers = [requests.post(f"{sandbox.api_url}/v3/login", json=body, timeout=10) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()[0]["code"] == "BDC_1144"
    assert "logins per hour" in answers[2].json()[0]["message"]


def test_a_sign_in_bill_turns_away_as_too_busy_is_tried_again_not_held_back(db, tenant, bill_sandbox):
    client = BillClient.for_connection(wire_bill_connection(tenant, bill_sandbox), backoff=fast_backoff())
    client.session_info()
    bill_sandbox.expire_sessions()
    bill_sandbox.hold_slots(3, seconds=0.3)  # another integration: the sign-in gets BDC_1322
    client.session_info()  # backs off, signs in, answers
    assert bill_sandbox.stats()["logins"] == 2
    assert bill_sandbox.stats()["orgs"][bill_sandbox.credentials.org_id]["refused"].get("BDC_1322", 0) >= 1

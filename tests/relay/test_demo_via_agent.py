"""`manage.py demo --once --gp-via-agent` (issue 19's "Done when"): the whole job with GP reachable only
by a GP agent agrees from both APIs, and the GP sandbox saw every request come from the agent."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

AGENT = "ml-connector-agent"


@pytest.mark.slow
def test_the_demo_through_a_gp_agent_agrees_from_both_apis_and_gp_hears_only_the_agent(transactional_db):
    from connectors.relay.models import RelayedRequest

    out = io.StringIO()
    call_command("demo", "--once", "--gp-via-agent", "--seed", "small", stdout=out)
    text = out.getvalue()
    result = json.loads(text.strip().splitlines()[-1])
    assert "GP is reachable only through the agent" in text and ".invalid" in text
    assert result["agree"] is True and result["duplicates"] == 0 and result["double_payment_risks_open"] == 0
    assert result["bill_payments_paid"] > 0 and result["gp_payments_applied"] == result["bill_payments_paid"]
    by_client = result["gp_requests_by_client"]
    assert set(by_client) == {AGENT} and by_client[AGENT] > 0, by_client
    assert result["gp_requests_not_from_agent"] == 0
    relayed = RelayedRequest.objects.filter(state=RelayedRequest.ANSWERED)
    assert (
        relayed.filter(method="GET").exists() and relayed.filter(method="POST").exists()
    )  # reads and writes

"""The GP sandbox's request counts belong to one test: a slow request of an earlier one never lands in
them."""

from __future__ import annotations

import time

import pytest

from connectors.gp.http import GPError
from tests.gp.clients import sba_client


def test_it_does_not_count_a_request_that_began_before_the_counts_were_reset(gp_sandbox):
    client = sba_client(
        gp_sandbox.url,
        gp_sandbox.tenant,
        gp_sandbox.company,
        gp_sandbox.account,
        gp_sandbox.password,
        timeout=0.3,
        sleep=lambda s: None,
    )
    client.get_vendor("ACETRAVE0001")
    gp_sandbox.set_faults("timeout", rate=1.0, count=3, timeout_seconds=0.6)
    with pytest.raises(GPError):
        client.get_vendor("CONTOSO0001")  # the client gives up; the sandbox's threads are still sleeping
    gp_sandbox.reset("small")  # what the next test's fixture does
    time.sleep(1.0)  # the slept requests now end, after the reset
    assert gp_sandbox.stats()["requests"]["by_status"] == {}
    client.close()

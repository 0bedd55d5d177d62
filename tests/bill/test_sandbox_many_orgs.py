"""One BILL sandbox process serving many orgs (the tenants benchmark): each extra org signs in as
itself, an org it was not given is refused as BILL refuses wrong credentials."""

from __future__ import annotations

import requests


def _login(sandbox, org_id: str) -> requests.Response:
    c = sandbox.credentials
    return requests.post(
        f"{sandbox.api_url}/v3/login",
        json={"username": c.username, "password": c.password, "organizationId": org_id, "devKey": c.dev_key},
        timeout=10,
    )


def test_an_extra_org_signs_in_as_itself_and_an_unknown_org_is_refused(bill_sandbox_factory):
    sandbox = bill_sandbox_factory(extra_orgs=("00802TEXTRA000000001",))

    own, extra, unknown = (
        _login(sandbox, o)
        for o in (sandbox.credentials.org_id, "00802TEXTRA000000001", "00802TNOTGIVEN00001")
    )

    assert own.status_code == 200 and own.json()["organizationId"] == sandbox.credentials.org_id
    assert extra.status_code == 200 and extra.json()["organizationId"] == "00802TEXTRA000000001"
    assert unknown.status_code == 400 and "BDC_1101" in unknown.text

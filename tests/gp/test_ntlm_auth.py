"""NTLM against the sandbox over real loopback HTTP: the handshake is verified, not faked."""

from __future__ import annotations

import pytest
import requests
from requests_ntlm import HttpNtlmAuth

from connectors.gp.client import GPClient
from connectors.gp.http import GPError
from tests.fixtures_gp import GP_ODD_COMPANY, GP_UNMAPPED_ACCOUNT, GP_UNMAPPED_PASSWORD
from tests.gp.clients import sba_client


def client_for(sandbox, account=None, password=None, company=None, **options) -> GPClient:
    return sba_client(
        sandbox.url,
        sandbox.tenant,
        company or sandbox.company,
        account or sandbox.account,
        password if password is not None else sandbox.password,
        timeout=5,
        sleep=lambda s: None,
        **options,
    )


def test_it_completes_the_ntlm_handshake_with_the_right_password(gp_sandbox):
    client = client_for(gp_sandbox)
    vendor = client.get_vendor("ACETRAVE0001")
    assert vendor is not None and vendor.name == "A Travel Company"
    # 401 without credentials, 401 with the challenge, then the answer: three legs on one connection.
    assert client.http.wire_count == 3
    assert gp_sandbox.stats()["requests"]["by_path"]["GET Purchasing/Vendors({key})"] == {"401": 2, "200": 1}


def test_it_keeps_the_connection_authenticated_across_requests(gp_client, gp_sandbox):
    gp_client.get_vendor("ACETRAVE0001")
    gp_client.get_vendor("CONTOSO0001")
    assert gp_client.http.wire_count == 4  # the second request needs no new handshake


def test_it_rejects_a_wrong_password(gp_sandbox):
    with pytest.raises(GPError) as caught:
        client_for(gp_sandbox, password="not-the-password").get_vendor("ACETRAVE0001")
    error = caught.value
    assert (error.status, error.code, error.retryable) == (401, "auth", False)
    assert "not-the-password" not in str(error) and "CORP\\svc-gp" in str(error)


def test_it_rejects_an_unknown_user(gp_sandbox):
    with pytest.raises(GPError) as caught:
        client_for(gp_sandbox, account="CORP\\stranger", password="x").get_vendor("ACETRAVE0001")
    assert caught.value.code == "auth"


def test_it_forbids_a_known_user_not_mapped_to_the_company(gp_sandbox):
    with pytest.raises(GPError) as caught:
        client_for(gp_sandbox, account=GP_UNMAPPED_ACCOUNT, password=GP_UNMAPPED_PASSWORD).get_vendor(
            "ACETRAVE0001"
        )
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (403, "forbidden", False)
    assert "not mapped" in caught.value.message


def test_it_answers_401_with_negotiate_and_ntlm_challenges(gp_sandbox):
    response = requests.get(gp_sandbox.company_url() + "Purchasing/Vendors", timeout=5)
    assert response.status_code == 401
    assert response.raw.headers.getlist("WWW-Authenticate") == ["Negotiate", "NTLM"]
    assert set(response.json()["Error"]) == {"Code", "Message", "LogId"}


def test_it_accepts_basic_auth_with_a_domain_account(gp_sandbox):
    client = client_for(gp_sandbox, auth_mode="basic")
    assert [c.checkbook_id for c in client.iter_checkbooks()] == [
        "UPTOWN TRUST",
        "FIRST NATIONAL",
        "OLD SAVINGS",
    ]
    with pytest.raises(GPError) as caught:
        client_for(gp_sandbox, password="wrong", auth_mode="basic").get_vendor("ACETRAVE0001")
    assert caught.value.code == "auth"


def test_it_addresses_a_company_with_parentheses_and_accents(gp_sandbox):
    client = client_for(gp_sandbox, company=GP_ODD_COMPANY)
    assert client.get_vendor("MULLERBU0001").name == "Büro Müller & Söhne GmbH"
    assert "Compa%C3%B1%C3%ADa%20%28Pruebas%29" in client.http.company_root


def test_it_says_when_the_company_is_unknown(gp_sandbox):
    with pytest.raises(GPError) as caught:
        client_for(gp_sandbox, company="Fabrikam Ltd").get_vendor("ACETRAVE0001")
    assert (caught.value.status, caught.value.code) == (404, "company_not_found")


def test_it_serves_requests_in_parallel_connections(gp_sandbox):
    from concurrent.futures import ThreadPoolExecutor

    def read(_: int) -> str:
        session = requests.Session()
        session.auth = HttpNtlmAuth(gp_sandbox.account, gp_sandbox.password)
        return session.get(gp_sandbox.company_url() + "Purchasing/Vendors(CONTOSO0001)", timeout=5).json()[
            "Payload"
        ]["Name"]

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(read, range(16))) == {"Contoso, Ltd."}

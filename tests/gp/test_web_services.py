"""What is particular to GP Web Services: the WSDL behind Windows authentication, the integer company key
of the Context, the 1,000-row list limit, faults with logged validation results, and the interface
choice ("auto" probes SBA, then Web Services)."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from connectors.gp.client import GPClient
from connectors.gp.http import GPError
from connectors.gp.soap import ws_map as ws
from connectors.gp.soap.client import GPWSClient
from connectors.gp.transport import gp_client_for
from sandbox.gp_ws.server import start_gp_ws_sandbox
from tests.fixtures_gp import GP_ODD_COMPANY, wire_gp_connection
from tests.gp.clients import ws_client_from


def ws_client(sandbox, company=None, **options) -> GPWSClient:
    return ws_client_from(
        sandbox.url,
        company or sandbox.company,
        sandbox.account,
        sandbox.password,
        timeout=5,
        sleep=lambda s: None,
        **options,
    )


def test_the_service_description_needs_windows_authentication(gp_ws_sandbox):
    anonymous = requests.get(gp_ws_sandbox.url + "?wsdl", timeout=5)
    assert anonymous.status_code == 401
    assert {"NTLM", "Negotiate"} <= set(anonymous.headers["WWW-Authenticate"].replace(",", " ").split())


def test_calls_go_over_one_ntlm_authenticated_connection(gp_ws_sandbox):
    client = ws_client(gp_ws_sandbox)
    before = gp_ws_sandbox.stats()["requests"]["by_status"].get("401", 0)
    for _ in range(3):
        assert client.get_vendor("ACETRAVE0001") is not None
    after = gp_ws_sandbox.stats()["requests"]["by_status"]
    assert (
        after.get("401", 0) - before == 2
    )  # one handshake (anonymous try, then the challenge), then signed in
    assert client.http.session.auth.__class__.__name__ == "HttpNtlmAuth"


def test_the_context_names_the_company_by_its_integer_id(gp_ws_sandbox, gp_sandbox):
    gp_sandbox.data(GP_ODD_COMPANY).create_vendor(
        {"Key": {"Id": "ODDONLY0001"}, "Name": "Only in the odd company"}
    )
    odd = ws_client(gp_ws_sandbox, company=GP_ODD_COMPANY)
    assert odd.context()["OrganizationKey"].Id == 1
    assert (
        ws_client(gp_ws_sandbox).context()["OrganizationKey"].Id == -1
    )  # the sample company, as in GP's docs
    assert odd.get_vendor("ODDONLY0001").name == "Only in the odd company"
    assert ws_client(gp_ws_sandbox).get_vendor("ODDONLY0001") is None


def test_a_list_is_cut_at_1000_and_the_client_still_reads_everything(gp_ws_sandbox, gp_sandbox):
    table = gp_sandbox.data().tables["GLAccounts"]
    stamp = "2026-03-01T12:00:00Z"  # one second: the client must page by key inside it
    for n in range(1205):
        table.put(
            {
                "Key": {"Id": f"100-{n:04d}-00"},
                "Description": f"Account {n}",
                "Category": "Operating Expenses",
                "IsActive": True,
                "AllowAccountEntry": True,
                "ModifiedDate": stamp,
            }
        )
    client = ws_client(gp_ws_sandbox)
    raw = client.call(ws.GET_GL_ACCOUNT_LIST, criteria={})
    assert len(raw) == 1000  # GP's cut, silent
    accounts = [a.account for a in client.iter_gl_accounts()]
    assert len(accounts) == len(set(accounts)) == 1205 + 11


def test_a_full_window_is_narrowed_until_it_fits(gp_ws_sandbox, gp_sandbox):
    table = gp_sandbox.data().tables["GLAccounts"]
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for n in range(1500):
        at = (start + dt.timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        table.put(
            {
                "Key": {"Id": f"200-{n:04d}-00"},
                "Description": "x",
                "Category": "Cash",
                "IsActive": True,
                "AllowAccountEntry": True,
                "ModifiedDate": at,
            }
        )
    accounts = list(ws_client(gp_ws_sandbox).iter_gl_accounts())
    assert len({a.account for a in accounts}) == 1500 + 11
    stamps = [a.modified_date for a in accounts]
    assert stamps == sorted(stamps)  # oldest change first, as the cursor needs


def test_a_refused_call_carries_gps_logged_validation_result(gp_ws_sandbox):
    client = ws_client(gp_ws_sandbox)
    with pytest.raises(GPError) as caught:
        client.call(
            ws.UPDATE_VENDOR, vendor={"Key": {"Id": "ACETRAVE0001"}, "Name": "No policy"}, policy=None
        )
    error = caught.value
    assert error.code == "validation" and not error.retryable and error.log_id
    assert "The policy parameter is required." in error.message  # from GetLoggedValidationResultByKey
    assert client.call(ws.GET_LOGGED_VALIDATION_RESULT, logId=error.log_id)["Errors"]


def test_a_vendor_change_takes_the_operations_policy(gp_ws_sandbox, gp_sandbox):
    client = ws_client(gp_ws_sandbox)
    client.patch_vendor("CONTOSO0001", {"Name": "Contoso (renamed)"})
    assert gp_sandbox.data().get("Vendors", "CONTOSO0001")["Name"] == "Contoso (renamed)"
    assert "UpdateVendor" in client._policies


def test_payments_cannot_be_created_over_web_services(gp_ws_sandbox):
    client = ws_client(gp_ws_sandbox)
    assert client.writes_payments is False
    with pytest.raises(GPError, match="Payments cannot be written back over GP Web Services"):
        client.create_payment()


def test_auto_uses_sba_when_it_answers(tenant, gp_sandbox, gp_ws_sandbox):
    conn = wire_gp_connection(tenant, gp_sandbox, interface="auto", web_services_url=gp_ws_sandbox.url)
    assert isinstance(gp_client_for(conn), GPClient)


def test_auto_falls_back_to_web_services_on_a_gp_without_sba(tenant):
    with start_gp_ws_sandbox() as only_ws:  # a GP 2013 install: Web Services, no SBA
        conn = wire_gp_connection(tenant, only_ws, interface="auto", web_services_url=only_ws.url)
        client = gp_client_for(conn)
        assert isinstance(client, GPWSClient)
        assert [v.vendor_id for v in client.iter_vendors()][:2] == ["ACETRAVE0001", "ADVANCED0001"]


def test_web_services_on_a_wrong_address_says_so(tenant, gp_sandbox):
    from connectors.gp.transport import diagnose

    conn = wire_gp_connection(
        tenant,
        gp_sandbox,
        interface="web_services",
        web_services_url=gp_sandbox.url + "/DynamicsGPWebServices/DynamicsGPService.asmx",
    )
    problem, _ = diagnose(conn)
    assert problem == f"There is no GP Web Services endpoint at {conn.web_services_url}."


def test_it_works_over_https_with_the_ca_bundle_and_refuses_an_untrusted_certificate():
    with start_gp_ws_sandbox(tls=True) as secure:
        trusted = ws_client_from(
            secure.url,
            secure.company,
            secure.account,
            secure.password,
            timeout=5,
            ca_bundle_pem=secure.ca_pem.decode(),
        )
        assert secure.url.startswith("https://")
        assert trusted.get_vendor("CONTOSO0001").country == "CA"  # NTLM with channel bindings passed
        untrusted = ws_client_from(secure.url, secure.company, secure.account, secure.password, timeout=5)
        assert untrusted.test_connection() == (
            "The GP server's certificate is not trusted: upload its CA bundle (PEM) on this connection."
        )


def test_the_admins_connection_check_says_payments_cannot_be_written_back(
    client, alice, tenant, gp_sandbox, gp_ws_sandbox
):
    from django.contrib.messages import get_messages

    conn = wire_gp_connection(
        tenant, gp_sandbox, interface="web_services", web_services_url=gp_ws_sandbox.url
    )
    client.force_login(alice)
    response = client.post(
        "/admin/connectors/gpconnection/",
        {"action": "test_gp_connection", "_selected_action": [conn.pk]},
        follow=True,
    )
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts[0] == f"{tenant}: GP answered for company 'Fabrikam, Inc.'."
    assert "Payments cannot be written back over GP Web Services." in texts[1]
    assert "It shows no invoice holds, so invoices wait in Needs attention" in texts[1]

"""TLS with the sandbox's self-signed certificate: the CA bundle option is tested for real."""

from __future__ import annotations

import requests
from requests_ntlm import HttpNtlmAuth

from connectors.gp.client import diagnose
from tests.fixtures_gp import wire_gp_connection
from tests.gp.clients import sba_client


def test_it_works_over_https_with_the_ca_bundle(gp_tls_sandbox):
    client = sba_client(
        gp_tls_sandbox.url,
        gp_tls_sandbox.tenant,
        gp_tls_sandbox.company,
        gp_tls_sandbox.account,
        gp_tls_sandbox.password,
        ca_bundle_pem=gp_tls_sandbox.ca_pem.decode(),
        timeout=5,
    )
    assert gp_tls_sandbox.url.startswith("https://")
    assert client.get_vendor("CONTOSO0001").country == "CA"  # NTLM with channel bindings passed
    client.close()


def test_it_refuses_an_untrusted_certificate_with_the_certificate_message(tenant, gp_tls_sandbox):
    conn = wire_gp_connection(tenant, gp_tls_sandbox, ca_bundle_pem="")
    assert (
        diagnose(conn)
        == "The GP server's certificate is not trusted: upload its CA bundle (PEM) on this connection."
    )


def test_it_skips_verification_only_when_told(tenant, gp_tls_sandbox):
    conn = wire_gp_connection(tenant, gp_tls_sandbox, ca_bundle_pem="", verify_tls=False)
    assert diagnose(conn) is None


def test_it_refuses_ntlm_without_channel_bindings_over_tls(gp_tls_sandbox, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_bytes(gp_tls_sandbox.ca_pem)
    session = requests.Session()
    session.auth = HttpNtlmAuth(gp_tls_sandbox.account, gp_tls_sandbox.password, send_cbt=False)
    response = session.get(gp_tls_sandbox.company_url() + "Purchasing/Vendors", verify=str(ca), timeout=5)
    assert response.status_code == 401

"""A write GP accepted (2xx) but answered with a body that is not JSON may have been carried out: the
error says so (`in_doubt`), so the ledger keeps the row in doubt and looks it up before any resend, instead
of flagging it as refused. A read answered the same way did nothing, and says so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from audit.ledger import may_have_written
from connectors.gp.http import GPError, GPHttp


class _NotJson(BaseHTTPRequestHandler):
    def _answer(self, status: int) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b"<html>Saved</html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        self._answer(201)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(200)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gp_answering_html() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotJson)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _http(url: str) -> GPHttp:
    return GPHttp(url, "DefaultTenant", "Fabrikam", "CORP\\svc", "pw", auth_mode="basic", max_tries=1)


def test_a_write_answered_with_success_but_no_json_is_in_doubt(gp_answering_html):
    http = _http(gp_answering_html)
    with pytest.raises(GPError) as raised:
        http.request("POST", "Purchasing/PayablesPayments", body={"PaymentNumber": "BL1"})
    assert raised.value.code == "bad_response" and raised.value.in_doubt
    assert may_have_written(raised.value)


def test_a_read_answered_with_no_json_did_nothing(gp_answering_html):
    http = _http(gp_answering_html)
    with pytest.raises(GPError) as raised:
        http.request("GET", "Purchasing/Vendors")
    assert raised.value.code == "bad_response" and not raised.value.in_doubt
    assert not may_have_written(raised.value)

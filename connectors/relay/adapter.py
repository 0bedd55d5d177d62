"""A `requests` transport adapter that sends a GP HTTP request through the tenant's agents instead of
the network. Mounted on a GP connection's session in "through agent" mode; everything above the
session (NTLM aside, which the agent does) is unchanged, and failures come back as the same
`GPError` codes as a direct call: no agent took it → `unreachable` (GP surely never saw it, so even a
write may be sent again); taken but unanswered → `timeout` (a write is in doubt and is reconciled).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from connectors.gp.http import RelayFailure

from . import queue

DROPPED_HEADERS = {"authorization", "cookie", "host", "content-length", "connection"}
SERVICE_HEADER = "X-MLC-GP-Service"  # which of the agent's GP addresses the path is under; the agent drops it
ERROR_SENTENCES = {
    "timeout": "GP did not answer the agent within {t:g} seconds.",
    "reset": "The connection from the agent to GP was dropped mid-request.",
    "unreachable": "The agent cannot reach the GP server; check the GP URL in the agent's settings.",
    "tls": "The agent does not trust the GP server's TLS certificate; check the agent's CA setting.",
    "in_doubt": "The agent lost track of this write (it restarted while GP was running it).",
}
RETRYABLE = {"timeout": True, "reset": True, "unreachable": True, "tls": False, "in_doubt": True}
CODE = {"in_doubt": "timeout"}


class AgentAdapter(BaseAdapter):
    """Relay each request of a session whose URLs start with `base_url` to `tenant_id`'s agents.
    `service` names the agent's GP address the paths are under: "sba" (its GP URL) or "web_services"
    (its GP Web Services URL)."""

    def __init__(self, tenant_id: int, base_url: str, service: str = "sba") -> None:
        super().__init__()
        self.tenant_id, self.base_url, self.service = tenant_id, base_url.rstrip("/"), service

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        connect, read = float(connect or 10.0), float(read or 60.0)
        url = request.url or ""
        path = (
            url[len(self.base_url) :]
            if url.startswith(self.base_url)
            else urlsplit(url)._replace(scheme="", netloc="").geturl()
        )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in DROPPED_HEADERS}
        if self.service != "sba":
            headers[SERVICE_HEADER] = self.service
        body = request.body.encode() if isinstance(request.body, str) else request.body
        try:
            answer = queue.relay(self.tenant_id, request.method or "GET", path, headers, body, connect, read)
        except queue.NoAgentTookIt:
            raise RelayFailure(
                "No GP agent of this tenant took the request within "
                f"{connect:g} seconds: check that the agent service is running and can reach "
                "the connector.",
                code="unreachable",
                retryable=True,
            ) from None
        except queue.NoAnswerInTime:
            raise RelayFailure(
                f"The GP agent took the request but sent no answer within {connect + read:g} seconds.",
                code="timeout",
                retryable=True,
            ) from None
        if answer.error:
            raise RelayFailure(
                ERROR_SENTENCES.get(answer.error, "The agent could not run the request.").format(t=read),
                code=CODE.get(answer.error, answer.error),
                retryable=RETRYABLE.get(answer.error, False),
            )
        response = requests.Response()
        response.status_code = answer.status or 0
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.body
        response.url, response.request, response.encoding = url, request, None
        response.reason = ""
        return response

    def close(self) -> None:
        pass

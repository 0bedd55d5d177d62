"""A short way through the middleware for machines' calls: BILL's webhook deliveries and the GP agents'
polls and answers.

Neither carries a session or login cookie (a delivery is HMAC-signed, an agent call has a bearer
token checked by its view on every call), neither is a page, and their views are CSRF- and
CSP-exempt. Sessions, auth, messages, CSRF, clickjacking and CSP therefore had nothing to do for them
but still cost ≈ 0.3 ms of CPU a call (issue 21 §5; an agent makes one or two calls per relayed GP
request, issue 19 §5). Placed right after SecurityMiddleware (whose headers — nosniff, referrer policy,
HSTS — every answer keeps), this hands a request whose path resolves to one of those views straight to
it, and adds `X-Frame-Options: DENY` as the skipped clickjacking middleware would, and
`Content-Length` as CommonMiddleware would (else gunicorn answers chunked). The Host header is still
checked against ALLOWED_HOSTS. Any other path goes the usual way.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from connectors.relay import views as agent_views
from connectors.webhooks import bill_webhook

PREFIXES = ("/webhooks/bill/", "/agent/")
VIEWS = frozenset({bill_webhook, agent_views.poll, agent_views.answer})


class WebhookFastPath:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIXES):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if match.func not in VIEWS:
            return self.get_response(request)
        request.get_host()  # ALLOWED_HOSTS still applies (CommonMiddleware, skipped here, would check it)
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not response.streaming and "Content-Length" not in response.headers:  # as CommonMiddleware does
            response.headers["Content-Length"] = str(len(response.content))
        return response

"""A short way through the middleware for BILL's webhook deliveries.

A delivery is a machine's signed POST: it carries no session or login cookie, is not a page, and
its view is CSRF- and CSP-exempt. Sessions, auth, messages, CSRF, clickjacking and CSP therefore
had nothing to do for it but still cost ≈ 0.3 ms of CPU a delivery (issue 21 §5). Placed right after
SecurityMiddleware (whose headers — nosniff, referrer policy, HSTS — every answer keeps), this hands
a request whose path resolves to the webhook view straight to it, and adds `X-Frame-Options: DENY`
as the skipped clickjacking middleware would, and `Content-Length` as CommonMiddleware would (else
gunicorn answers chunked). Any other path goes the usual way.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from connectors.webhooks import bill_webhook

PREFIX = "/webhooks/bill/"


class WebhookFastPath:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if match.func is not bill_webhook:
            return self.get_response(request)
        request.get_host()  # ALLOWED_HOSTS still applies (CommonMiddleware, skipped here, would check it)
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not response.streaming and "Content-Length" not in response.headers:  # as CommonMiddleware does
            response.headers["Content-Length"] = str(len(response.content))
        return response

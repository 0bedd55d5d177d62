"""The site's URLs and `/_bench/trivial/`: a view that does nothing, through the same middleware."""

from __future__ import annotations

from csp.decorators import csp_exempt
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gpbill_site.urls import urlpatterns as site


@csrf_exempt
@csp_exempt()
@require_POST
def trivial(request: HttpRequest) -> JsonResponse:
    """Answers as the webhook endpoint does (a small JSON body), having done nothing."""
    return JsonResponse({"ok": True})


urlpatterns = [path("_bench/trivial/", trivial), *site]

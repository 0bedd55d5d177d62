"""The app as gunicorn serves it in production, plus one trivial view (`bench/_urls.py`) for the webhook
bench to compare the endpoint against, on the same server, middleware and settings."""

from __future__ import annotations

from django.conf import settings
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
settings.ROOT_URLCONF = "bench._urls"  # read per request: set before the first one

"""Settings for ml-connector, read from the environment in this one file.

Zero configuration runs (DEBUG on, SQLite under var/, django-q2's ORM broker). With DEBUG off every
secret must be given explicitly: start-up stops with one sentence naming the missing variable.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
# A value starting with "$" must stay literal (passwords), not be read as a reference.
env.escape_proxy = True
_env_file = Path(os.environ.get("ENV_FILE", BASE_DIR / ".env"))
if _env_file.is_file():
    environ.Env.read_env(str(_env_file))

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
DEV_FERNET_KEY = "dev-only-insecure-fernet-key-change-me"

DEBUG = env.bool("DEBUG", default=True)


def _required_in_production(name: str, value: object, default: object) -> None:
    """Stop start-up when a production setting is missing or still the development default."""
    if not DEBUG and (not value or value == default):
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG is off (see .env.example); refusing to start without it."
        )


SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
_required_in_production("SECRET_KEY", SECRET_KEY, DEV_SECRET_KEY)

# Credentials are encrypted with these keys, never with SECRET_KEY: the first key encrypts,
# every key decrypts, so a new key goes first and `rotate_fernet_keys` retires the old one.
FERNET_KEYS = [
    k.strip() for k in env.list("FERNET_KEYS", default=[] if not DEBUG else [DEV_FERNET_KEY]) if k.strip()
]
_required_in_production("FERNET_KEYS", FERNET_KEYS, [DEV_FERNET_KEY])


def _check_fernet_keys(keys: list[str]) -> None:
    """In production every key must be a real Fernet key (32 random bytes, url-safe base64, as
    `Fernet.generate_key()` makes) and none may be the development key, which is in this public file."""
    if DEBUG:
        return
    from cryptography.fernet import Fernet

    for position, key in enumerate(keys, start=1):
        if key == DEV_FERNET_KEY:
            raise ImproperlyConfigured(
                f"FERNET_KEYS key {position} is the development key; generate a real one "
                "(see .env.example) and refusing to start with it."
            )
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"FERNET_KEYS key {position} is not a Fernet key (44 characters from "
                "Fernet.generate_key(), see .env.example); refusing to start."
            ) from None


_check_fernet_keys(FERNET_KEYS)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
_required_in_production("ALLOWED_HOSTS", ALLOWED_HOSTS, None)
if not DEBUG and "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must name this app's host names, not '*', when DEBUG is off; refusing to start."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "django_q",
    "import_export",
    "health_check",
    "connectors",
    "mappings",
    "audit",
]
# The demo, the sandbox runner and the agreement measurement live in a checkout only: the wheel leaves
# connectors.devtools out (pyproject.toml), and an installed connector runs without its commands.
if importlib.util.find_spec("connectors.devtools") is not None:
    INSTALLED_APPS.append("connectors.devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # BILL's signed deliveries skip the session/auth/CSRF/CSP layers below: nothing there for them.
    "gpbill_site.webhook_path.WebhookFastPath",
    # Static files served by the app itself under gunicorn (after `collectstatic`), cached for ever.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "gpbill_site.urls"
WSGI_APPLICATION = "gpbill_site.wsgi.application"

# The top-level templates/ of a checkout; the wheel carries it as gpbill_site/templates (pyproject.toml).
_PACKAGED_TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATES_DIR = _PACKAGED_TEMPLATES if _PACKAGED_TEMPLATES.is_dir() else BASE_DIR / "templates"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [TEMPLATES_DIR],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite URLs are relative to the working directory, so the default is an absolute path.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ml-connector.sqlite3'}")}
IS_SQLITE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
if IS_SQLITE:
    # One writer at a time: wait for the lock instead of failing, and take it at BEGIN so two
    # workers never deadlock upgrading read locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
    # A file, not :memory:, so worker processes started by end-to-end tests share the test database.
    # One file per test run (pid), so parallel runs on one machine never share or delete it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# django-q2 cron schedules follow TIME_ZONE.
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from it once collectstatic has run
# Compressed copies made by collectstatic; no manifest, so a missing collectstatic never breaks a page.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
# How long a sign-in lasts, in seconds (8 hours: one working day).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)

# --- django-q2 -----------------------------------------------------------------------------------
Q_TIMEOUT = env.int("Q_TIMEOUT", default=600)
Q_LONG_TIMEOUT = env.int("Q_LONG_TIMEOUT", default=4 * 3600)
# /health/ turns red when a job has waited this long for the long queue and none started meanwhile.
LONG_QUEUE_ALERT_MINUTES = env.int("LONG_QUEUE_ALERT_MINUTES", default=30)
Q_CLUSTER: dict[str, object] = {
    "name": "ml-connector",
    "workers": env.int("Q_WORKERS", default=1 if IS_SQLITE else 4),
    "timeout": Q_TIMEOUT,
    # retry must exceed timeout, or a long task is handed to a second worker while still running.
    "retry": Q_TIMEOUT + 120,
    "catch_up": False,
    "max_attempts": 3,
    "save_limit": 500,
    "ack_failures": True,
    "label": "Task queue",
    "sync": env.bool("Q_SYNC", default=False),
    # The long queue (connectors/queue.py LONG): initial loads and person-started jobs, served by a
    # qcluster of its own (`Q_CLUSTER_NAME=long python manage.py qcluster`), so a 20,000-invoice
    # load never holds a worker that a webhook or a scheduled poll of another tenant is waiting for.
    "ALT_CLUSTERS": {
        "long": {
            "workers": env.int("Q_LONG_WORKERS", default=1 if IS_SQLITE else 2),
            "timeout": Q_LONG_TIMEOUT,
            "retry": Q_LONG_TIMEOUT + 120,
        },
    },
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Security (production) -----------------------------------------------------------------------
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# The proxies (IPs or networks) whose X-Forwarded-For is believed, when BEHIND_TLS_PROXY is on; a
# request from any other address is counted by its own address (connectors/login_throttle.py).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network.") from None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp): scripts, styles, images and fonts from this app only; no inline
# script or style (the admin's own pages need none; ours keep their styles in static/ml/admin.css),
# no framing, forms post only here.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# --- Admin sign-in throttling (connectors/login_throttle.py) -------------------------------------
LOGIN_THROTTLE_ATTEMPTS = env.int("LOGIN_THROTTLE_ATTEMPTS", default=5)
LOGIN_THROTTLE_SECONDS = env.int("LOGIN_THROTTLE_SECONDS", default=900)
# The throttle's counts must be shared by every process that serves the admin.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
    }
}

# --- Mail (digest alerts) ------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ml-connector@localhost")
# Used by the file backend (the demo writes its e-mails there instead of onto the terminal).
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))

# --- Logging: plain lines to stderr; secrets are never passed to a logger ------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"urllib3": {"level": "WARNING"}, "spnego": {"level": "WARNING"}},
}

# Prometheus figures at /metrics for a request bearing this token; unset, /metrics is a 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# The public address of this app (links in e-mails, the webhook URL given to BILL).
SITE_URL = env.str("SITE_URL", default="")

# --- Connection addresses (connectors/connection_rules.py) ---------------------------------------
# Plain http:// connection addresses: only for the local sandboxes (tests, the demo, benchmarks).
CONNECTION_ALLOW_HTTP = env.bool("CONNECTION_ALLOW_HTTP", default=False)
# BILL addresses must be BILL's gateways; hosts listed here are allowed too (the local sandbox).
BILL_EXTRA_HOSTS = env.list("BILL_EXTRA_HOSTS", default=[])

# --- Connector behaviour -------------------------------------------------------------------------
BILL_CONCURRENCY_LIMIT = env.int("BILL_CONCURRENCY_LIMIT", default=3)
BILL_HOURLY_BUDGET = env.int("BILL_HOURLY_BUDGET", default=20000)
BILL_HOURLY_LOGINS = env.int("BILL_HOURLY_LOGINS", default=200)
BILL_LOGIN_COOLDOWN_SECONDS = env.int("BILL_LOGIN_COOLDOWN_SECONDS", default=60)
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=1_000_000)
# A row `sending` this long is reconciled whoever wrote it; one whose writer process (same host)
# is gone is reconciled after the short grace. The scale shrinks the failed-record retry back-off
# (1 min, 5 min, 15 min, 1 h) for the chaos run; leave it at 1 in production.
LEDGER_STUCK_SENDING_SECONDS = env.int("LEDGER_STUCK_SENDING_SECONDS", default=900)
LEDGER_DEAD_WRITER_GRACE_SECONDS = env.float("LEDGER_DEAD_WRITER_GRACE_SECONDS", default=30.0)
# An unconfirmed create is re-sent only when a lookup made this long after it was sent (and never
# sooner than twice the connection's timeout) still finds nothing: a late commit shows up first.
LEDGER_SETTLE_SECONDS = env.float("LEDGER_SETTLE_SECONDS", default=300.0)
SYNC_RETRY_SCALE = env.float("SYNC_RETRY_SCALE", default=1.0)
# Retention in days (0 keeps everything); audit/retention.py says what is never pruned.
RETENTION_TRAIL_DAYS = env.int("RETENTION_TRAIL_DAYS", default=396)
RETENTION_WEBHOOK_EVENT_DAYS = env.int("RETENTION_WEBHOOK_EVENT_DAYS", default=396)
RETENTION_REJECTION_DAYS = env.int("RETENTION_REJECTION_DAYS", default=30)
RETENTION_JOB_DAYS = env.int("RETENTION_JOB_DAYS", default=90)
RETENTION_TASK_RESULT_DAYS = env.int("RETENTION_TASK_RESULT_DAYS", default=30)

IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
# Mapping imports (mappings/import_limits.py): largest file, most rows, rows shown in the preview.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=5_000_000)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=10_000)
IMPORT_MAX_UNZIPPED_BYTES = env.int("IMPORT_MAX_UNZIPPED_BYTES", default=100_000_000)
IMPORT_PREVIEW_ROWS = env.int("IMPORT_PREVIEW_ROWS", default=200)
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Django 6 behaviour now: a URL typed without a scheme is https (GP and BILL are both TLS).
FORMS_URLFIELD_ASSUME_HTTPS = True

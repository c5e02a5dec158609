"""Settings read from the environment; `create_app(config)` may override any of them."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
# Where e-mailed and API links point when PUBLIC_URL is not set (the `make run` address).
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
MEGABYTE = 1024 * 1024


def _bool(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    """Read an integer environment variable."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _list(name: str) -> list[str] | None:
    """A comma-separated environment variable as a list (None when unset or empty)."""
    items = [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]
    return items or None


def _optional_int(name: str) -> int | None:
    """An integer environment variable, or None when it is unset or empty."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else None


def default_database_url() -> str:
    """The embedded SQLite database under instance/ (created on first use)."""
    return f"sqlite:///{INSTANCE_DIR / 'meterbill.db'}"


def normalize_database_url(url: str) -> str:
    """Map the common `postgres://` and `postgresql://` spellings to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_settings() -> dict:
    """All settings as a dict suitable for `app.config.update`.

    SECRET_KEY is absent unless the environment sets it: `create_app` then uses the key
    generated once in the instance folder (see portal.secret_key).
    """
    settings = {
        "METERBILL_ENV": os.environ.get("METERBILL_ENV", "development").strip().lower(),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "").strip(),
        # The address `make run` serves (its HOST and PORT): links point there when
        # PUBLIC_URL is not set; unlike PUBLIC_URL it restricts no Host and production ignores it.
        "RUN_URL": os.environ.get("METERBILL_RUN_URL", "").strip(),
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(
            os.environ.get("DATABASE_URL") or default_database_url()
        ),
        "TIMEZONE": os.environ.get("TIMEZONE", "UTC"),
        "DEFAULT_CURRENCY": os.environ.get("DEFAULT_CURRENCY", "USD"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "billing@meterbill.local"),
        "OUTBOX_DIR": os.environ.get("OUTBOX_DIR", str(INSTANCE_DIR / "outbox")),
        # The mail job: e-mails per minute at most unless the merchant sets its own rate
        # (Settings), SMTP connections used in parallel, PDF-rendering processes (0: one per
        # CPU) and where rendered PDFs are kept per invoice version.
        "MAIL_RATE_PER_MINUTE": _int("MAIL_RATE_PER_MINUTE", 3000),
        "MAIL_CONNECTIONS": _int("MAIL_CONNECTIONS", 4),
        "PDF_PROCESSES": _int("PDF_PROCESSES", 0),
        "PDF_CACHE_DIR": os.environ.get("PDF_CACHE_DIR", str(INSTANCE_DIR / "pdf-cache")),
        "SCHEDULER_BILLING_MINUTES": int(os.environ.get("SCHEDULER_BILLING_MINUTES", "5")),
        # Seconds win over minutes when set (tests and the as-deployed test use seconds).
        "SCHEDULER_BILLING_SECONDS": _optional_int("SCHEDULER_BILLING_SECONDS"),
        "SCHEDULER_MAIL_SECONDS": _optional_int("SCHEDULER_MAIL_SECONDS"),
        "SCHEDULER_JOBS_SECONDS": _optional_int("SCHEDULER_JOBS_SECONDS"),
        "SCHEDULER_ROLLUPS_SECONDS": _optional_int("SCHEDULER_ROLLUPS_SECONDS"),
        # Overdue detection and reminders; planning the pulls of pulled usage URLs.
        "SCHEDULER_DUNNING_SECONDS": _optional_int("SCHEDULER_DUNNING_SECONDS"),
        "SCHEDULER_PULLS_SECONDS": _optional_int("SCHEDULER_PULLS_SECONDS"),
        # A failed pull of a usage URL is tried again after base × 2^(n-1) s (at most 1 h).
        "USAGE_PULL_RETRY_BASE_SECONDS": int(os.environ.get("USAGE_PULL_RETRY_BASE_SECONDS", "60")),
        "SCHEDULER_ALERTS_SECONDS": _optional_int("SCHEDULER_ALERTS_SECONDS"),
        # Background jobs: a running job's heartbeat period, the age after which another
        # worker takes it over, and how many times it is tried before it is failed.
        "JOBS_HEARTBEAT_SECONDS": int(os.environ.get("JOBS_HEARTBEAT_SECONDS", "10")),
        "JOBS_STALE_SECONDS": int(os.environ.get("JOBS_STALE_SECONDS", "60")),
        "JOBS_MAX_ATTEMPTS": int(os.environ.get("JOBS_MAX_ATTEMPTS", "3")),
        # Done jobs are deleted this many days after they finished (failed ones are kept).
        "JOBS_KEEP_DAYS": _int("JOBS_KEEP_DAYS", 7),
        "SCHEDULER_PURGE_SECONDS": _optional_int("SCHEDULER_PURGE_SECONDS"),
        # Webhook receivers and pulled usage URLs may be on private or local networks
        # (portal/services/outbound.py); off by default: only public addresses are reached.
        "OUTBOUND_ALLOW_PRIVATE": _bool("OUTBOUND_ALLOW_PRIVATE"),
        # Webhooks: seconds a receiver has to answer, attempts per event and endpoint, and
        # the backoff between them (base × 2^(n-1), capped).
        "WEBHOOK_TIMEOUT_SECONDS": float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10")),
        "WEBHOOK_MAX_ATTEMPTS": int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "8")),
        "WEBHOOK_RETRY_BASE_SECONDS": int(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "30")),
        "WEBHOOK_RETRY_CAP_SECONDS": int(os.environ.get("WEBHOOK_RETRY_CAP_SECONDS", "21600")),
        # API keys verified by HTTP Basic are cached this long per process (revoking clears
        # this process's cache at once); a pooled connection idle this long is pinged first.
        "API_KEY_CACHE_SECONDS": _int("API_KEY_CACHE_SECONDS", 1),
        # POST /api/v3/usage in its common form is answered before Flask (portal.api.fast_usage).
        "API_FAST_PATH": _bool("API_FAST_PATH", True),
        "DB_PING_IDLE_SECONDS": _int("DB_PING_IDLE_SECONDS", 10),
        # Where CSV uploads wait for their import job (default instance/imports); with
        # workers on several machines, a folder they all share.
        "IMPORTS_DIR": os.environ.get("IMPORTS_DIR", ""),
        # CSV uploads (portal and API) stream to disk with their own, larger limit.
        "CSV_MAX_CONTENT_LENGTH": int(os.environ.get("CSV_MAX_CONTENT_LENGTH", str(512 << 20))),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Keeps the counters of several installs apart in one shared Redis.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "meterbill"),
        # How many web worker processes share this configuration (gunicorn --workers):
        # with more than one, in-memory rate limits are per process, hence a warning.
        "WEB_WORKERS": _int("WEB_CONCURRENCY", 1),
        # Pings per usage URL (token), e.g. "60 per minute"; 429 with Retry-After beyond.
        "USAGE_URL_RATE_LIMIT": os.environ.get("USAGE_URL_RATE_LIMIT", "60 per minute"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Behind a reverse proxy: how many proxies set X-Forwarded-For (0 = trust none).
        "PROXY_FIX_X_FOR": _int("PROXY_FIX_X_FOR", 0),
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 4 * MEGABYTE),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        # No ping per checkout: portal.db_pool pings only connections idle > 10 s.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
    }
    for name in ("SECRET_KEY",):
        if os.environ.get(name):
            settings[name] = os.environ[name]
    if _list("TRUSTED_HOSTS"):
        settings["TRUSTED_HOSTS"] = _list("TRUSTED_HOSTS")
    if os.environ.get("SECURE_COOKIES"):
        settings["SECURE_COOKIES"] = _bool("SECURE_COOKIES")
    return settings


# Seconds between two runs of each scheduler job when nothing is configured.
DEFAULT_SECONDS = {"BILLING": 300, "MAIL": 60, "JOBS": 5, "ROLLUPS": 60, "DUNNING": 300, "PULLS": 30,
                   "ALERTS": 60, "PURGE": 3600}


def interval_seconds(config: Mapping, job: str) -> int:
    """Seconds between two runs of a scheduler job: SCHEDULER_<JOB>_SECONDS when set,
    else SCHEDULER_<JOB>_MINUTES × 60 when set, else the default.

    :param config: the app's settings.
    :param job: "BILLING", "MAIL", "JOBS", "ROLLUPS", "DUNNING", "PULLS", "ALERTS" or "PURGE".
    """
    seconds = config.get(f"SCHEDULER_{job}_SECONDS")
    if seconds:
        return max(1, int(seconds))
    minutes = config.get(f"SCHEDULER_{job}_MINUTES")
    if minutes:
        return max(1, int(minutes) * 60)
    return DEFAULT_SECONDS[job]

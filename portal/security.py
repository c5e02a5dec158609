"""Secure defaults of the application, applied by `create_app`.

The signing key (portal.secret_key), the public URL every outgoing link is built from and
the hosts the app answers to, cookie flags and HSTS, a proxy's client address, request
size limits, NUL bytes and out-of-range numbers refused as 400, `no-store` on private
pages, and the start-up warning of an install that is not production-ready.
"""
from __future__ import annotations

import logging
import sys
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from portal.config import DEFAULT_PUBLIC_URL
from portal.secret_key import ConfigurationError, check_production_key, instance_key
from portal.url_numbers import install_bounded_args, install_number_parsing
from portal.web import apply_view_body_limit

log = logging.getLogger("meterbill.security")
HSTS_VALUE = "max-age=31536000"
# Pages with one person's or one merchant's data: no shared or browser cache may keep them.
PRIVATE_PREFIXES = ("/merchant", "/portal", "/r/")


def configure(app: Flask) -> None:
    """Settle the key, public URL, trusted hosts, cookies, proxy and number parsing.

    :param app: the app whose config was loaded from the environment and overrides.
    """
    production = app.config.get("METERBILL_ENV") == "production"
    _configure_key(app, production)
    _configure_public_url(app, production)
    _configure_cookies(app)
    if int(app.config.get("PROXY_FIX_X_FOR") or 0) > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only when configured: otherwise anybody could pick their own X-Forwarded-For.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]))
    install_number_parsing(app)
    # Registered before any extension's hook: CSRFProtect reads the form, hence the body.
    app.before_request(apply_view_body_limit)


def _configure_key(app: Flask, production: bool) -> None:
    if production:
        check_production_key(app.config.get("SECRET_KEY"))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_key(app.instance_path)
        app.config["SECRET_KEY_GENERATED"] = True


def _configure_public_url(app: Flask, production: bool) -> None:
    configured = (app.config.get("PUBLIC_URL") or "").strip()
    if production and not configured:
        raise ConfigurationError("METERBILL_ENV=production needs PUBLIC_URL, the address users "
                                 "and devices reach Meterbill at (e.g. https://billing.example.com).")
    url = configured or (app.config.get("RUN_URL") or "").strip() or DEFAULT_PUBLIC_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError(f"PUBLIC_URL must be http(s)://host[:port][/path], not {url!r}.")
    app.config["PUBLIC_URL"] = url.rstrip("/")
    app.config["PUBLIC_URL_CONFIGURED"] = bool(configured)
    if configured and not app.config.get("TRUSTED_HOSTS"):
        # Requests for any other Host are refused (400): no page is built for a forged host.
        app.config["TRUSTED_HOSTS"] = [parts.hostname]


def _configure_cookies(app: Flask) -> None:
    secure = app.config.get("SECURE_COOKIES")
    if secure is None:
        secure = app.config["PUBLIC_URL"].startswith("https://")
    app.config["SECURE_COOKIES"] = bool(secure)
    for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        app.config[name] = bool(secure)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")


def install_guards(app: Flask) -> None:
    """Request checks and response headers that hold for every area of the app."""
    install_bounded_args(app)
    app.before_request(refuse_nul_bytes)
    app.register_error_handler(RequestEntityTooLarge, too_large)

    @app.after_request
    def _private_headers(response):
        cache_control = response.headers.get("Cache-Control", "")
        if request.path.startswith(PRIVATE_PREFIXES) and "no-store" not in cache_control:
            response.headers["Cache-Control"] = "private, no-store"
        if current_app.config["PUBLIC_URL"].startswith("https://"):
            response.headers.setdefault("Strict-Transport-Security", HSTS_VALUE)
        return response


def refuse_nul_bytes():
    """400 for a NUL byte in the path, the query, a portal form or the Basic credentials
    (no database stores it in text; PostgreSQL fails). JSON bodies: see portal.api.body."""
    sources = [("path", [request.path])]
    sources += [(name, [name, *values]) for name, values in request.args.lists()]
    # Portal forms (CSRFProtect has parsed them already); the API's bodies are JSON or a
    # stream that its views read themselves.
    form_types = ("application/x-www-form-urlencoded", "multipart/form-data")
    if request.mimetype in form_types and not request.path.startswith("/api/"):
        sources += [(name, [name, *values]) for name, values in request.form.lists()]
    auth = request.authorization
    if auth is not None:
        sources.append(("Authorization", [auth.username or "", auth.password or ""]))
    for field, values in sources:
        if any("\x00" in value for value in values):
            message = f"{field}: must not contain NUL characters"
            if request.blueprint == "api":  # the API's own handler answers in the envelope
                from portal.api.envelope import ApiError

                raise ApiError(400, message, {"field": field})
            raise BadRequest(message)
    return None


def too_large(error: RequestEntityTooLarge):
    """413 with the limit in words: the API's JSON envelope, an HTML page elsewhere."""
    limit = request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH")
    message = (f"The request body is larger than the limit of {limit // 1024} KiB." if limit
               else "The request body is too large.")
    if request.path.startswith("/api/"):
        from portal.api.envelope import error_response

        return error_response(413, message)
    return render_template("errors/413.html", message=message), 413


def startup_problems(app: Flask) -> list[str]:
    """What makes this running instance unfit for production, in words (empty when fit)."""
    problems = []
    if app.config.get("SECRET_KEY_GENERATED"):
        problems.append("a generated development SECRET_KEY (set SECRET_KEY)")
    storage = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory://") and web_workers(app) > 1:
        problems.append(f"in-memory rate limits with {web_workers(app)} web workers, each "
                        "counting alone (set RATELIMIT_STORAGE_URI=redis://...)")
    if not app.config.get("PUBLIC_URL_CONFIGURED"):
        problems.append(f"links built for the default PUBLIC_URL {app.config['PUBLIC_URL']}")
    return problems


def web_workers(app: Flask) -> int:
    """How many web processes share the limits: WEB_CONCURRENCY, or gunicorn's --workers."""
    workers = int(app.config.get("WEB_WORKERS") or 1)
    argv = sys.argv
    for index, arg in enumerate(argv):
        value = None
        if arg in ("-w", "--workers") and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith("--workers="):
            value = arg.split("=", 1)[1]
        if value and value.isdigit():
            workers = max(workers, int(value))
    return workers


def warn_at_startup(app: Flask, process: str = "web") -> str | None:
    """Log one warning line when the instance is not production-ready; returns the line.

    :param process: "web" or "scheduler", named in the line.
    """
    problems = startup_problems(app)
    if not problems:
        return None
    line = f"Meterbill {process} is NOT production-ready: running with " + "; ".join(problems) + "."
    log.warning(line)
    return line

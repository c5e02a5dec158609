"""Site-wide pages outside any area: the favicon and the styled error pages.

An error page looks like the area it happened in (the merchant portal, the customer
portal or the public site), with that area's navigation and a way back; under /api/ the
answer stays the JSON envelope. Templates are `templates/errors/<code>.html`, each a few
words over `errors/layout.html`, so another status (413, ...) is one more small file.
"""
from __future__ import annotations

import logging

from flask import Flask, render_template, request, send_from_directory
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("meterbill.pages")
STYLED_CODES = (400, 403, 404, 405, 500)
# Where "back" leads and which frame the page wears, by path prefix.
AREAS = (("/merchant", "merchant/base.html", "merchant.dashboard", "Back to the dashboard"),
         ("/portal", "customer/base.html", "customer.dashboard", "Back to your account"),
         ("", "base.html", "main.index", "Back to the home page"))


def area_of(path: str) -> dict:
    """The frame and the way back of the area `path` belongs to."""
    for prefix, layout, home, back in AREAS:
        if not prefix or path == prefix or path.startswith(prefix + "/"):
            return {"layout": layout, "home_endpoint": home, "back_text": back}
    raise AssertionError("the last area matches every path")


def error_page(code: int, description: str | None = None):
    """The styled page of an HTTP error `code` for the current request (HTML), or the API
    envelope under /api/.

    :param code: the status; `templates/errors/<code>.html` must exist.
    :param description: an optional sentence shown under the page's own words.
    """
    if request.path.startswith("/api/"):
        from portal.api.envelope import error_response

        return error_response(code, description)
    context = {"code": code, "description": description, **area_of(request.path)}
    try:
        return render_template(f"errors/{code}.html", **context), code
    except Exception:  # the frame itself failed (a broken database): the bare words still help
        log.exception("error page %s could not be rendered", code)
        return (f"<!doctype html><title>Error {code}</title><h1>Error {code}</h1>"
                f"<p><a href=\"/\">Meterbill</a></p>"), code


def _own_description(error: HTTPException) -> str | None:
    """The sentence the code raising `error` gave (e.g. which field was refused), if any."""
    return error.description if error.description != type(error).description else None


def _http_error(error: HTTPException):
    own = _own_description(error)
    if request.path.startswith("/api/"):
        from portal.api.envelope import error_response
        from portal.api.errors import unrouted

        if error.code in (404, 405) and not own:  # no route: ChargeOver answers 400
            return unrouted(error)

        return error_response(error.code or 500, own or f"{error.name}: {request.method} {request.path}")
    return error_page(error.code or 500, own)


def _server_error(error: Exception):
    from portal.extensions import db

    db.session.rollback()
    original = getattr(error, "original_exception", None) or error
    if not isinstance(original, InternalServerError):
        log.error("Unhandled error on %s %s", request.method, request.path, exc_info=original)
    return error_page(500)


def install_pages(app: Flask) -> None:
    """Register /favicon.ico and the styled error pages (after the blueprints, so these
    site-wide handlers replace any registered before)."""

    @app.get("/favicon.ico")
    def favicon():
        """The site icon (browsers ask for it at this path)."""
        return send_from_directory(app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                                   max_age=86400)

    for code in STYLED_CODES:
        app.register_error_handler(code, _server_error if code == 500 else _http_error)

"""Helpers shared by the server-rendered portals: HTMX-aware rendering and headers."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import Flask, current_app, make_response, render_template, request

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Plotly draws with inline styles and evaluates nothing remote; every asset is local.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-eval'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}


def page_number() -> int:
    """The ?page= of the request: a positive number, else 1 (lists clamp it to their last page)."""
    page = request.args.get("page", 1, type=int)
    return page if page and page > 0 else 1


def render_page(full: str, partial: str, **context):
    """The full page, or only its partial for an HTMX request; varies on HX-Request.

    :param full: the page template (it includes `partial`).
    :param partial: the fragment template under templates/partials/.
    """
    # A history restore (back button, page not in htmx's cache) needs the whole page.
    restoring = request.headers.get("HX-History-Restore-Request") == "true"
    template = partial if getattr(request, "htmx", False) and not restoring else full
    response = make_response(render_template(template, **context))
    response.headers.add("Vary", "HX-Request")
    return response


def safe_next(target: str | None, prefix: str, default: str) -> str:
    """Where to go after a login: `target` only if it is a local path under `prefix`.

    Refuses other sites, including the protocol-relative "//host" and "/\\host" forms that
    browsers follow off-site (no open redirect).
    :param target: the requested `next`.
    :param prefix: the area the path must stay in ("/merchant", "/portal").
    :param default: where to go otherwise.
    """
    if not target or "\\" in target or target.startswith("//") or urlparse(target).netloc:
        return default
    if target == prefix or target.startswith(prefix + "/"):
        return target
    return default


def install_security_headers(app: Flask) -> None:
    """Add the security headers to every HTML response (the API's JSON gets nosniff too)."""

    @app.after_request
    def _headers(response):
        for name, value in SECURITY_HEADERS.items():
            if name == "Content-Security-Policy" and response.mimetype != "text/html":
                continue
            response.headers.setdefault(name, value)
        return response


def invoice_pdf_response(invoice, inline: bool = False):
    """The invoice's PDF as a response: a download, or shown in the browser when `inline`."""
    from flask import Response

    from portal.services.pdf import render_invoice_pdf

    disposition = "inline" if inline else "attachment"
    name = f"credit-note-{invoice.number}" if invoice.is_credit_note else f"invoice-{invoice.refnumber}"
    return Response(render_invoice_pdf(invoice), mimetype="application/pdf", headers={
        "Content-Disposition": f'{disposition}; filename="{name}.pdf"'})


def body_limit(setting: str):
    """Give a view (e.g. a CSV upload) its own request-size limit instead of
    MAX_CONTENT_LENGTH; it applies before anything reads the body (CSRF checks do).

    :param setting: the config key holding the largest body the view accepts, in bytes.
    """
    def mark(view):
        view.max_content_length_setting = setting
        return view

    return mark


def apply_view_body_limit():
    """before_request (registered first): the view's own body limit, if it has one."""
    view = current_app.view_functions.get(request.endpoint or "")
    setting = getattr(view, "max_content_length_setting", None)
    if setting is not None:
        request.max_content_length = int(current_app.config[setting])
    return None

"""`POST /api/v3/_bulk`: several API requests in one call, answered in order.

Each entry `{"request_method", "uri", "payload"}` is dispatched as a real WSGI request
into this same application (werkzeug's `run_wsgi_app`), with the caller's Authorization
header: it passes through authentication, routing, the views and the error handlers
exactly as if it had been sent on its own, so a failing entry gets its own 4xx envelope
and the others are unaffected. Each entry runs in an empty `contextvars.Context`, hence
in its own application context: its own `g` and its own database session, committed (or
rolled back) by its view. The batch is therefore not atomic: entries that succeeded
stay done when a later one fails, as with ChargeOver.
"""
from __future__ import annotations

import contextvars
from urllib.parse import urlsplit

from flask import current_app, json, request
from werkzeug.test import EnvironBuilder, run_wsgi_app

from portal.api import bp
from portal.api.body import json_body
from portal.api.envelope import ApiError, envelope, respond
from portal.extensions import db

MAX_REQUESTS = 100  # ChargeOver allows 25; being lenient costs nothing here
METHODS = {"GET", "POST", "PUT", "DELETE"}
PREFIX = "/api/v3/"


@bp.post("/_bulk")
def bulk_requests():
    """Run up to 100 API requests; `response._bulk` holds each one's envelope, in order."""
    entries = json_body(expect=list)
    if not entries:
        raise ApiError(400, "A required parameter was missing: No data.")
    if len(entries) > MAX_REQUESTS:
        raise ApiError(400, f"At most {MAX_REQUESTS} requests per _bulk call (got {len(entries)}).")
    app = current_app._get_current_object()
    shared = {"Authorization": request.headers.get("Authorization", ""),
              "remote_addr": request.remote_addr, "base_url": request.host_url}
    db.session.close()  # hand the connection back: each entry takes its own
    results = [_run(app, entry, shared) for entry in entries]
    return respond(200, {"_bulk": results})


def _run(app, entry, shared: dict) -> dict:
    """One entry's envelope (a 400 envelope when the entry itself is malformed)."""
    try:
        method, path, body = _parse(entry)
    except ApiError as error:
        return envelope(error.code, False, error.message, error.details)
    builder = EnvironBuilder(
        path=path, method=method, base_url=shared["base_url"], data=body,
        content_type="application/json" if body is not None else None,
        headers={"Authorization": shared["Authorization"]},
        environ_base={"REMOTE_ADDR": shared["remote_addr"] or "127.0.0.1"})
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    # An empty context: the entry pushes its own app context (g, db session), as a request would.
    app_iter, status, _headers = contextvars.Context().run(run_wsgi_app, app, environ, True)
    return _decode(b"".join(app_iter), int(status.split(" ", 1)[0]))


def _parse(entry) -> tuple[str, str, bytes | None]:
    """(method, path with query, JSON body) of an entry, or a 400 naming the field."""
    if not isinstance(entry, dict):
        raise ApiError(400, "Each _bulk entry must be an object with request_method, uri "
                            "and payload.", {"field": "request"})
    method = entry.get("request_method")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise ApiError(400, f"request_method: must be one of {', '.join(sorted(METHODS))}",
                       {"field": "request_method"})
    uri = entry.get("uri")
    if not isinstance(uri, str) or not uri.strip():
        raise ApiError(400, "uri: is required", {"field": "uri"})
    parts = urlsplit(uri.strip())
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if not parts.path.startswith(PREFIX) or parts.path.rstrip("/") == "/api/v3/_bulk":
        raise ApiError(400, f"uri: must be an API path under {PREFIX} (not _bulk itself)",
                       {"field": "uri"})
    payload = entry.get("payload")
    if payload == []:
        payload = {}  # ChargeOver's PHP client sends [] for an empty payload
    if payload is not None and not isinstance(payload, (dict, list)):
        raise ApiError(400, "payload: must be an object, an array or null", {"field": "payload"})
    body = None if payload is None or method.upper() == "GET" else json.dumps(payload).encode()
    return method.upper(), path, body


def _decode(raw: bytes, code: int) -> dict:
    """The sub-response's envelope; a non-JSON answer is wrapped in one."""
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if isinstance(data, dict) and "code" in data:
        return data
    return envelope(code, False if code >= 400 else data, "" if code < 400 else "Error")

"""ChargeOver's response envelope and the API's error type."""
from __future__ import annotations

from flask import Response, jsonify

from portal.services.links import external_url

STATUS_MESSAGES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
                   405: "Method not allowed", 409: "Conflict", 413: "Payload too large",
                   415: "Unsupported media type", 429: "Too many requests",
                   500: "Internal server error"}


class ApiError(Exception):
    """An error answered in the envelope: `code` is the HTTP status."""

    def __init__(self, code: int, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


def envelope(code: int, response, message: str = "", details: dict | None = None) -> dict:
    """The envelope body: {"code", "status", "message", "details", "response"}."""
    return {"code": code, "status": "OK" if code < 400 else "Error", "message": message,
            "details": details or {}, "response": response}


def respond(code: int, response, message: str = "", details: dict | None = None,
            headers: dict | None = None) -> Response:
    """A JSON response in the envelope with HTTP status `code`."""
    reply = jsonify(envelope(code, response, message, details))
    reply.status_code = code
    for name, value in (headers or {}).items():
        reply.headers[name] = value
    return reply


def error_response(code: int, message: str | None = None, details: dict | None = None) -> Response:
    """An error envelope; `response` is null for a 404 and false otherwise, as ChargeOver."""
    body = None if code == 404 else False
    return respond(code, body, message or STATUS_MESSAGES.get(code, "Error"), details)


def created(obj: str, object_id: int) -> Response:
    """201 {"id": N} with the object's Location."""
    location = external_url("api.get_object", obj=obj, object_id=object_id)
    return respond(201, {"id": object_id}, headers={"Location": location})


def accepted(obj: str, object_id: int) -> Response:
    """202 {"id": N} after an update, with the object's Location."""
    location = external_url("api.get_object", obj=obj, object_id=object_id)
    return respond(202, {"id": object_id}, headers={"Location": location})

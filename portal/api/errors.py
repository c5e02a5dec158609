"""Every API failure becomes an envelope with a 4xx (or a bare 500): never a stack trace."""
from __future__ import annotations

import logging

from flask import request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from portal.api import bp
from portal.api.envelope import ApiError, error_response
from portal.api.registry import RESOURCES
from portal.api.unsupported import UNSUPPORTED_OBJECTS, refuse_unsupported
from portal.billing.errors import Conflict, NotFound, ValidationError
from portal.extensions import db

log = logging.getLogger("meterbill.api")
REALM = "Meterbill API"


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    """An ApiError as its envelope; a 401 challenges for HTTP Basic (httplib2, the HTTP
    library of ChargeOver's Python client, sends credentials only after a challenge)."""
    db.session.rollback()
    response = error_response(error.code, error.message, error.details)
    if error.code == 401:
        response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response


@bp.errorhandler(ValidationError)
def validation_error(error: ValidationError):
    """Bad input found by a service or the billing core: 400 naming the field."""
    db.session.rollback()
    return error_response(400, str(error), {"field": error.field})


@bp.errorhandler(Conflict)
def conflict(error: Conflict):
    """The input clashes with stored data (e.g. an external_key with other content): 409."""
    db.session.rollback()
    return error_response(409, str(error), error.details())


@bp.errorhandler(NotFound)
def not_found(error: NotFound):
    """The input names something that does not exist: 404 naming the field."""
    db.session.rollback()
    return error_response(404, str(error), {"field": error.field})


@bp.errorhandler(IntegrityError)
def integrity_error(error: IntegrityError):
    """A database constraint refused the change (a duplicate key, most often)."""
    db.session.rollback()
    log.info("API integrity error on %s: %s", request.path, error.orig)
    return error_response(409, "The change conflicts with existing data (a duplicate "
                               "external_key or a record in use).")


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Werkzeug's errors (413, 429, ...) in the envelope; a method the URL does not have is
    a 400, as ChargeOver documents for unknown endpoints and methods."""
    db.session.rollback()
    if error.code == 405:
        return error_response(400, f"Unsupported method: {request.method} {request.path}",
                              {"method": request.method})
    return error_response(error.code or 500, error.description)


@bp.errorhandler(Exception)
def unexpected_error(error: Exception):
    """A bug: logged with its traceback, answered without it."""
    db.session.rollback()
    log.exception("Unhandled API error on %s %s", request.method, request.path)
    return error_response(500, "Internal server error.")


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def unrouted(error: HTTPException):
    """URLs under /api/ that match no route get a 400 in the envelope (ChargeOver's answer
    to unknown endpoints and methods); others keep the HTML page."""
    if not request.path.startswith("/api/"):
        return error
    obj, _, rest = request.path.removeprefix("/api/v3/").partition("/")
    if obj in RESOURCES and rest.isascii() and rest.isdigit() and error.code == 404:
        return error_response(404, f"This {obj} does not exist.")  # an id beyond 64 bits
    if obj in UNSUPPORTED_OBJECTS:
        try:
            refuse_unsupported(obj)
        except ApiError as refusal:
            return error_response(400, refusal.message, refusal.details)
    what = "method" if error.code == 405 else "endpoint"
    return error_response(400, f"Unknown {what}: {request.method} {request.path}",
                          {"method": request.method, "path": request.path})

"""HTTP Basic authentication of every API request: public key : private key."""
from __future__ import annotations

from datetime import timedelta

from flask import g, request

from portal.api import bp
from portal.api.envelope import ApiError
from portal.db_types import utcnow
from portal.extensions import db
from portal.services.apikeys import mark_used, verify_api_key

PUBLIC_ENDPOINTS = {"api.openapi_document"}
# Recording "last used" at most once a minute keeps reads from writing on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@bp.before_request
def require_api_key():
    """Refuse requests without a valid, unrevoked key (401 in the envelope)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        raise ApiError(401, "Invalid or incorrect authorization [Missing (basic) authorization header.]")
    public_key = credentials.username or ""
    key = verify_api_key(public_key, credentials.password or "")
    if key is None:
        raise ApiError(401, "Invalid or incorrect authorization [Unknown or revoked API key.]")
    g.api_key_id = key.id
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        mark_used(public_key, key, now)
    if db.session().in_transaction():
        db.session.commit()  # the key's lookup or use (once a second at most): the view starts afresh
    return None

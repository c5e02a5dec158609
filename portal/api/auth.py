"""Authentication of every API request: HTTP Basic (public key : private key), or
ChargeOver's signed requests (AUTHMODE_SIGNATURE_V1, `Authorization: ChargeOver co_...`)."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

from flask import current_app, g, request
from sqlalchemy.exc import IntegrityError

from portal.api import bp
from portal.api.envelope import ApiError
from portal.db_types import utcnow
from portal.extensions import db
from portal.services.apikeys import SignatureError, mark_used, verify_api_key, verify_signature

PUBLIC_ENDPOINTS = {"api.openapi_document"}
# Recording "last used" at most once a minute keeps reads from writing on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
SIGNATURE_PARAM = re.compile(r'(co_[a-z_]+)="([^"]*)"')


@bp.before_request
def require_api_key():
    """Refuse requests without a valid, unrevoked key (401 in the envelope)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    if header[:11].lower() == "chargeover ":
        key = _signed_key(header)
        g.api_key_id = key.id
        now = utcnow()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            key.last_used_at = now
        db.session.commit()  # the signed request's nonce (and the last use)
        return None
    public_key, key = _basic_key()
    g.api_key_id = key.id
    _note_use(public_key, key)
    if db.session().in_transaction():
        db.session.commit()  # the key's lookup or use (once a second at most): the view starts afresh
    return None


def _note_use(public_key: str, key) -> None:
    """Record the key's use, at most once per LAST_USED_RESOLUTION."""
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        mark_used(public_key, key, now)


def _basic_key():
    """(public key, verified key) of an HTTP Basic request, else a 401."""
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        raise ApiError(401, "Invalid or incorrect authorization [Missing (basic) authorization header.]")
    public_key = credentials.username or ""
    key = verify_api_key(public_key, credentials.password or "")
    if key is None:
        raise ApiError(401, "Invalid or incorrect authorization [Unknown or revoked API key.]")
    return public_key, key


def _signed_key(header: str):
    """The key of a request signed as ChargeOver's PHP client signs it."""
    params = dict(SIGNATURE_PARAM.findall(header))
    raw = request.get_data(cache=True)
    g.signed_body = raw  # the stream is read now: a streamed upload reads this instead
    body = raw.decode("utf-8", "replace")
    try:
        return verify_signature(params, _request_urls(), body)
    except SignatureError as error:
        raise ApiError(401, f"Invalid or incorrect authorization [{error}]") from None
    except IntegrityError:  # the same nonce in two concurrent requests
        db.session.rollback()
        raise ApiError(401, "Invalid or incorrect authorization [this co_nonce was already "
                            "used (a replayed request)]") from None


def _request_urls() -> list[str]:
    """The full URL the client signed: as received, and with the configured public origin
    (a proxy in front may change the scheme or the host)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        raw = quote(request.script_root + request.path, safe="/:@!$&'()*+,;=-._~")
        query = request.query_string.decode("latin-1")
        raw += f"?{query}" if query else ""
    origins = {f"{request.scheme}://{request.host}"}
    public = urlsplit(current_app.config.get("PUBLIC_URL") or "")
    if public.scheme and public.netloc:
        origins.add(f"{public.scheme}://{public.netloc}")
    return [origin + raw for origin in sorted(origins)]

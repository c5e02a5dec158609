"""API keys: a public key (username) and a private key (password) shown once.

The private key is 256 bits, so a fast SHA-256 digest is as safe to store as a slow password
hash (nothing to brute-force) and keeps every API request cheap; it is compared in constant
time. It is derived from the instance's SECRET_KEY and the public key (an HMAC), so that
ChargeOver's signature mode, which signs each request with the private key itself, can be
verified without storing the key: keys created before that (random) or under another
SECRET_KEY keep working with HTTP Basic, and are refused in signature mode.

Keys verified by HTTP Basic are cached in the process for API_KEY_CACHE_SECONDS (default
1 s), so a busy API client costs one key lookup per second per worker instead of one per
request. Revoking a key clears this process's cache at once; other worker processes refuse
the key when their entry expires, at most API_KEY_CACHE_SECONDS later.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import delete, select, update

from portal.billing.errors import ValidationError
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import ApiKey, ApiNonce

# How far a signed request's co_timestamp may be from the server's clock; a nonce is
# remembered for twice as long, so a replay inside the window is always recognised.
SIGNATURE_WINDOW = timedelta(minutes=5)


class VerifiedKey(NamedTuple):
    """What a request needs of its key: its id and when it was last recorded as used."""

    id: int
    last_used_at: object  # aware datetime or None


def _cache() -> dict:
    """public key -> (secret digest, VerifiedKey, expiry on the monotonic clock)."""
    return key_cache(current_app)


def key_cache(app) -> dict:
    """`app`'s cache of verified keys (see `_cache`), for callers without an app context."""
    return app.extensions.setdefault("meterbill.api_keys", {})


def _digest(private_key: str) -> str:
    return hashlib.sha256(private_key.encode()).hexdigest()


def list_api_keys() -> list[ApiKey]:
    """Every API key, the active ones first, newest first."""
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())))


def create_api_key(name: str) -> tuple[ApiKey, str]:
    """Create a key; returns it and its private key (never stored, shown once).

    :param name: what the key is for, shown in the portal.
    """
    if not name or not name.strip():
        raise ValidationError("name", "is required")
    public_key = secrets.token_hex(16)
    private_key = derived_private_key(public_key)
    key = ApiKey(name=name.strip(), public_key=public_key, secret_hash=_digest(private_key))
    db.session.add(key)
    db.session.flush()
    return key, private_key


def revoke_api_key(public_key: str) -> ApiKey:
    """Revoke a key at once; further requests with it are refused."""
    key = db.session.scalar(select(ApiKey).where(ApiKey.public_key == public_key))
    if key is None:
        raise ValidationError("public_key", f"no API key {public_key}")
    key.revoked_at = key.revoked_at or utcnow()
    db.session.flush()
    _cache().clear()
    return key


def verify_api_key(public_key: str, private_key: str) -> VerifiedKey | None:
    """The active key matching both halves, else None; from the cache while it is fresh."""
    digest = _digest(private_key or "")
    cache = _cache()
    entry = cache.get(public_key)
    if entry is not None and entry[2] > time.monotonic():
        return entry[1] if hmac.compare_digest(entry[0], digest) else None
    key = authenticate(public_key, private_key)
    if key is None:
        cache.pop(public_key, None)
        return None
    verified = VerifiedKey(key.id, key.last_used_at)
    ttl = int(current_app.config.get("API_KEY_CACHE_SECONDS", 1))  # whole seconds
    if ttl > 0:
        cache[public_key] = (key.secret_hash, verified, time.monotonic() + ttl)
    return verified


def cached_key(cache: dict, public_key: str, private_key: str) -> VerifiedKey | None:
    """The key if `cache` (`key_cache`) holds a fresh entry matching both halves, else None
    (a miss, not a refusal: `verify_api_key` then decides). Reads no database.

    :param cache: the app's key cache.
    """
    entry = cache.get(public_key)
    if entry is None or entry[2] <= time.monotonic():
        return None
    return entry[1] if hmac.compare_digest(entry[0], _digest(private_key)) else None


def mark_used(public_key: str, key: VerifiedKey, now) -> None:
    """Record that the key was used at `now` (one UPDATE; the caller commits)."""
    db.session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    entry = _cache().get(public_key)
    if entry is not None:
        _cache()[public_key] = (entry[0], key._replace(last_used_at=now), entry[2])


def authenticate(public_key: str, private_key: str) -> ApiKey | None:
    """The active key matching both halves, else None (constant-time comparison)."""
    key = db.session.scalar(select(ApiKey).where(ApiKey.public_key == public_key))
    expected = key.secret_hash if key is not None else _digest("")
    matches = hmac.compare_digest(expected, _digest(private_key or ""))
    if key is None or not matches or key.revoked_at is not None:
        return None
    return key


def derived_private_key(public_key: str) -> str:
    """The private key of `public_key`: HMAC-SHA256 under the instance's SECRET_KEY."""
    secret = current_app.config["SECRET_KEY"].encode()
    mac = hmac.new(secret, f"meterbill.api-key:{public_key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


class SignatureError(Exception):
    """A signed request that is refused; the message says why (answered with a 401)."""


def verify_signature(params: dict, urls: list[str], body: str) -> ApiKey:
    """The key of a request signed as ChargeOver's AUTHMODE_SIGNATURE_V1, or SignatureError.

    The signature is HMAC-SHA256, keyed with the private key, of
    `public||lower(url)||nonce||timestamp||body`; the timestamp must be within
    SIGNATURE_WINDOW of now and the nonce unused by this key (it is recorded; flushes).
    :param params: the header's co_* parameters.
    :param urls: the URL of the request as the client may have written it (scheme and host
        as received and as configured in PUBLIC_URL); one must match.
    """
    public = params.get("co_public_key", "")
    nonce, stamp = params.get("co_nonce", ""), params.get("co_timestamp", "")
    if params.get("co_signature_method", "HMAC-SHA256").upper() != "HMAC-SHA256":
        raise SignatureError("only co_signature_method HMAC-SHA256 is supported")
    if not (nonce and 0 < len(nonce) <= 64 and stamp.isascii() and stamp.isdigit()):
        raise SignatureError("co_nonce and co_timestamp are required")
    now = utcnow()
    if abs(now.timestamp() - int(stamp)) > SIGNATURE_WINDOW.total_seconds():
        raise SignatureError("co_timestamp is outside the accepted window (check the clock)")
    key = db.session.scalar(select(ApiKey).where(ApiKey.public_key == public))
    private = derived_private_key(public)
    if key is None or key.revoked_at is not None or \
            not hmac.compare_digest(key.secret_hash, _digest(private)):
        raise SignatureError("unknown or revoked API key, or a key that predates signed requests")
    expected = [hmac.new(private.encode(), f"{public}||{url.lower()}||{nonce}||{stamp}||{body}"
                         .encode(), hashlib.sha256).hexdigest() for url in urls]
    given = params.get("co_signature", "").encode("utf-8", "replace")  # bytes: any text compares
    if not any(hmac.compare_digest(e.encode(), given) for e in expected):
        raise SignatureError("the signature does not match the request")
    _remember_nonce(key, nonce, now)
    return key


def _remember_nonce(key: ApiKey, nonce: str, now) -> None:
    """Record the nonce, refusing one this key already used inside the window."""
    db.session.execute(delete(ApiNonce).where(ApiNonce.seen_at < now - 2 * SIGNATURE_WINDOW))
    seen = db.session.scalar(select(ApiNonce.id).where(ApiNonce.api_key_id == key.id,
                                                       ApiNonce.nonce == nonce))
    if seen is not None:
        raise SignatureError("this co_nonce was already used (a replayed request)")
    db.session.add(ApiNonce(api_key_id=key.id, nonce=nonce, seen_at=now))
    db.session.flush()

"""API keys: a public key (username) and a private key (password) shown once.

The private key is 256 random bits, so a fast SHA-256 digest is as safe to store as a
slow password hash (nothing to brute-force) and keeps every API request cheap; it is
compared in constant time.

Verified keys are cached in the process for API_KEY_CACHE_SECONDS (default 1 s), so a
busy API client costs one key lookup per second per worker instead of one per request.
Revoking a key clears this process's cache at once; other worker processes refuse the
key when their entry expires, at most API_KEY_CACHE_SECONDS later.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select, update

from portal.billing.errors import ValidationError
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import ApiKey


class VerifiedKey(NamedTuple):
    """What a request needs of its key: its id and when it was last recorded as used."""

    id: int
    last_used_at: object  # aware datetime or None


def _cache() -> dict:
    """public key -> (secret digest, VerifiedKey, expiry on the monotonic clock)."""
    return current_app.extensions.setdefault("meterbill.api_keys", {})


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
    private_key = secrets.token_urlsafe(32)
    key = ApiKey(name=name.strip(), public_key=secrets.token_hex(16),
                 secret_hash=_digest(private_key))
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
    ttl = float(current_app.config.get("API_KEY_CACHE_SECONDS", 1.0))
    if ttl > 0:
        cache[public_key] = (key.secret_hash, verified, time.monotonic() + ttl)
    return verified


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

"""API keys: a public key (username) and a private key (password) shown once.

The private key is 256 random bits, so a fast SHA-256 digest is as safe to store as a
slow password hash (nothing to brute-force) and keeps every API request cheap; it is
compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from portal.billing.errors import ValidationError
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import ApiKey


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
    return key


def authenticate(public_key: str, private_key: str) -> ApiKey | None:
    """The active key matching both halves, else None (constant-time comparison)."""
    key = db.session.scalar(select(ApiKey).where(ApiKey.public_key == public_key))
    expected = key.secret_hash if key is not None else _digest("")
    matches = hmac.compare_digest(expected, _digest(private_key or ""))
    if key is None or not matches or key.revoked_at is not None:
        return None
    return key

"""Signed usage URLs: a device records usage with nothing but its URL (/u/<token>).

The token is the row id and a random nonce, signed with SECRET_KEY (itsdangerous). It
cannot be guessed (128+ random bits) nor altered (signature); rotating creates a new URL
and revokes the old one, revoking stamps the row; both take effect on the next ping.
Every refusal looks the same to the caller (no oracle telling which check failed).
"""
from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from portal.billing.errors import ValidationError
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import LineItem, UsageUrl
from portal.services.links import external_url
from portal.url_numbers import MAX_INT32

SALT = "meterbill.usage-url"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token_of(usage_url: UsageUrl) -> str:
    """The signed token of a usage URL."""
    return _serializer().dumps([usage_url.id, usage_url.nonce])


def absolute_url(usage_url: UsageUrl) -> str:
    """The full URL a device pings."""
    return external_url("usage_urls.ping", token=token_of(usage_url))


def active_url(line: LineItem) -> UsageUrl | None:
    """The line's usable URL, if it has one."""
    return db.session.scalar(select(UsageUrl).where(
        UsageUrl.line_item_id == line.id, UsageUrl.revoked_at.is_(None)).order_by(UsageUrl.id.desc()))


def issue_url(line: LineItem) -> UsageUrl:
    """Give a metered line a usage URL (revoking any previous one: this is also "rotate").

    :param line: a metered, not cancelled line item.
    """
    if not line.item.is_metered:
        raise ValidationError("line_item_id", f"line item {line.id} is not metered")
    if line.cancel_at is not None:
        raise ValidationError("line_item_id", f"line item {line.id} is cancelled")
    for old in db.session.scalars(select(UsageUrl).where(
            UsageUrl.line_item_id == line.id, UsageUrl.revoked_at.is_(None))):
        old.revoked_at = utcnow()
    usage_url = UsageUrl(line_item_id=line.id, nonce=secrets.token_urlsafe(24))
    db.session.add(usage_url)
    db.session.flush()
    return usage_url


def revoke_url(usage_url: UsageUrl) -> UsageUrl:
    """Revoke a usage URL at once."""
    usage_url.revoked_at = usage_url.revoked_at or utcnow()
    db.session.flush()
    return usage_url


def resolve(token: str) -> UsageUrl | None:
    """The active usage URL a token names; None for tampered, unknown or revoked tokens.

    Only the canonical token is accepted: base64 has several spellings of the same bytes
    (the last character's spare bits), so the token is compared, whole and in constant
    time, with the one this URL was issued as.
    """
    try:
        url_id, nonce = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(url_id, int) or isinstance(url_id, bool) or not 0 < url_id <= MAX_INT32:
        return None
    usage_url = db.session.get(UsageUrl, url_id)
    if usage_url is None or usage_url.revoked_at is not None:
        return None
    if not secrets.compare_digest(token.encode(), token_of(usage_url).encode()):
        return None
    return usage_url

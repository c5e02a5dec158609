"""Staff logins of the merchant portal and API keys."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db
from portal.passwords import hash_password
from portal.models.catalog import in_list

STAFF_ROLES = ("admin", "viewer")


def session_version(password_hash: str | None) -> str:
    """The session/remember-me version of a login: a keyed digest of its password hash.

    Flask-Login keeps `get_id()` in the session and in the remember-me cookie; it embeds
    this version, and the user loader accepts only the current one. Any password change or
    reset changes the hash, hence ends every session and remember-me cookie issued before.
    :param password_hash: the login's stored hash (None: no password yet).
    """
    key = current_app.config["SECRET_KEY"].encode()
    message = b"session:" + (password_hash or "").encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:20]


class StaffUser(UserMixin, db.Model):
    """A merchant employee; `admin` may change everything, `viewer` only reads."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint(in_list("role", STAFF_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="admin")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def set_password(self, password: str) -> None:
        """Store a salted hash (scrypt) of `password`, never the password."""
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        """Whether `password` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """Flask-Login session id: prefixed because contacts log in too, versioned."""
        return f"staff:{self.id}:{session_version(self.password_hash)}"


class ApiKey(db.Model):
    """An API credential: public key in clear, private key stored only as a hash."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiNonce(db.Model):
    """A nonce of a signed API request (ChargeOver's signature mode), kept for the replay
    window: the same nonce of the same key is refused while it is remembered."""

    __tablename__ = "api_nonces"
    __table_args__ = (UniqueConstraint("api_key_id", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

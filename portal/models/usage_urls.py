"""Signed usage URLs of metered line items (devices ping /u/<token>)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db
from portal.models.packages import LineItem


class UsageUrl(db.Model):
    """A usage URL: the token signs `id` and `nonce`; rotating makes a new row, revoking
    stamps `revoked_at`, and either makes the old URL fail at once."""

    __tablename__ = "usage_urls"
    __table_args__ = (Index("ix_usage_urls_line_item_id", "line_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("line_items.id"))
    # Random, unique: part of the signed token, so a token cannot be guessed from an id.
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    line_item: Mapped[LineItem] = relationship()

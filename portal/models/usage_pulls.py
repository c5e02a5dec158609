"""Pulled usage URLs (ChargeOver's "usage URL" on a package line) and each pull made."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db_types import BigId, MicroUnits, UTCDateTime, utcnow
from portal.extensions import db
from portal.models.catalog import in_list

PULL_STATUSES = ("pending", "done")


class PullUsageUrl(db.Model):
    """A merchant-hosted URL Meterbill POSTs to before invoicing the line, to learn its usage."""

    __tablename__ = "pull_usage_urls"

    line_item_id: Mapped[int] = mapped_column(ForeignKey("line_items.id", ondelete="CASCADE"),
                                              primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Sent in every request (`security_token`), so the merchant's endpoint knows it is us.
    security_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UsagePull(db.Model):
    """The usage of one line for the period ending at `period_end` (an invoice boundary):
    the package is not billed at that boundary until every pull of it is `done`."""

    __tablename__ = "usage_pulls"
    __table_args__ = (
        UniqueConstraint("line_item_id", "period_end"),
        CheckConstraint(in_list("status", PULL_STATUSES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_usage_pulls_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("line_items.id", ondelete="CASCADE"))
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # When the next attempt runs (a failed attempt waits, with exponential backoff).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    usage_amount: Mapped[Decimal | None] = mapped_column(MicroUnits())
    usage_record_id: Mapped[int | None] = mapped_column(ForeignKey("usage_records.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""Usage records: what a metered line consumed, from the API, a usage URL or a CSV file."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.billing.vocabulary import UsageSource
from portal.db_types import BigId, MicroUnits, UTCDateTime, utcnow
from portal.extensions import db
from portal.models.catalog import USAGE_TYPES, in_list

USAGE_SOURCES = tuple(UsageSource)


class UsageRecord(db.Model):
    """One accepted usage record; the id doubles as arrival order (ties of `lat`)."""

    __tablename__ = "usage_records"
    __table_args__ = (
        # Idempotency lives in the database: a retried external_key can never count twice.
        UniqueConstraint("line_item_id", "external_key"),
        # Serves "usage of line X between two instants" (billing, graphs, API lists); the
        # value in the key lets sums and maxima be read from the index alone.
        Index("ix_usage_records_line_from_value", "line_item_id", "from_at", "usage_value"),
        # Serves "usage of all lines today / this period" (the merchant dashboard).
        Index("ix_usage_records_from_at", "from_at"),
        CheckConstraint("usage_value >= 0 AND usage_value <= 1000000000000000000", name="value"),
        CheckConstraint("to_at >= from_at", name="to_after_from"),
        CheckConstraint(
            f"usage_type IS NULL OR {in_list('usage_type', USAGE_TYPES)}", name="usage_type"
        ),
        CheckConstraint(in_list("source", USAGE_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("line_items.id"))
    usage_value: Mapped[Decimal] = mapped_column(MicroUnits())
    from_at: Mapped[datetime] = mapped_column(UTCDateTime())
    to_at: Mapped[datetime] = mapped_column(UTCDateTime())
    usage_type: Mapped[str | None] = mapped_column(String(3))
    external_key: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(10), default="api")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

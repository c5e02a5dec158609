"""Usage alerts: a threshold on the current period's usage quantity or cost of a line or
a whole package, notified once per period when crossed."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db_types import DecimalText, UTCDateTime, utcnow
from portal.extensions import db
from portal.models.catalog import in_list
from portal.models.packages import LineItem, Package

ALERT_METRICS = ("quantity", "cost")


class UsageAlert(db.Model):
    """Notify when the period's usage of `line_item_id` (or of every metered line of the
    package, when None) reaches `threshold` (a quantity, or an amount in the customer's
    currency). `fired_period_start` is the period it last fired in: once per period."""

    __tablename__ = "usage_alerts"
    __table_args__ = (
        CheckConstraint(in_list("metric", ALERT_METRICS), name="metric"),
        Index("ix_usage_alerts_package_id", "package_id"),
        Index("ix_usage_alerts_line_item_id", "line_item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"))
    line_item_id: Mapped[int | None] = mapped_column(ForeignKey("line_items.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(10), default="quantity")
    threshold: Mapped[Decimal] = mapped_column(DecimalText())
    notify_merchant: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_customer: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    fired_period_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fired_value: Mapped[Decimal | None] = mapped_column(DecimalText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    package: Mapped[Package] = relationship()
    line_item: Mapped[LineItem | None] = relationship()

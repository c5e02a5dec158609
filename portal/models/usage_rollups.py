"""Usage rollups: one row per (line, local day) for closed days, kept by the scheduler.

`UsageDayRollup` holds what every aggregation needs for the day: the sum (`add`), the
largest record (`max`), the latest record by (`from`, arrival) (`lat`) and the record count.
`UsageRollupState` (one row) says which local days are rolled (`rolled_before`, in the
zone `tz`) and from which instant late usage is logged (`log_before`); a database trigger
on `usage_records` writes a `UsageRollupDirty` row for every record whose `from` is before
`log_before`, so a late record is found without scanning history (see services.usage_rollups).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db_types import BigId, MicroTotal, MicroUnits, UTCDateTime
from portal.extensions import db


class UsageDayRollup(db.Model):
    """The usage of one line on one closed local day (days without usage have no row)."""

    __tablename__ = "usage_day_rollups"
    __table_args__ = (
        CheckConstraint("records > 0", name="records"),
        # Serves "every line's days in this month" (the dashboard) from the index alone (it
        # covers what the dashboard sums); the primary key serves one line's days.
        Index("ix_usage_day_rollups_day", "day", "line_item_id", "records", "total", "peak"),
    )

    line_item_id: Mapped[int] = mapped_column(
        ForeignKey("line_items.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    records: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[Decimal] = mapped_column(MicroTotal())
    peak: Mapped[Decimal] = mapped_column(MicroUnits())
    latest_value: Mapped[Decimal] = mapped_column(MicroUnits())
    latest_from: Mapped[datetime] = mapped_column(UTCDateTime())
    latest_id: Mapped[int] = mapped_column(BigInteger)


class UsageRollupDirty(db.Model):
    """A record that arrived for an already rolled day: its day's rollup is recomputed."""

    __tablename__ = "usage_rollup_dirty"
    __table_args__ = (Index("ix_usage_rollup_dirty_line_at", "line_item_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("line_items.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class UsageRollupState(db.Model):
    """How far rollups go (one row, id 1); absent or another zone = nothing is rolled."""

    __tablename__ = "usage_rollup_state"
    __table_args__ = (CheckConstraint("id = 1", name="single"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tz: Mapped[str] = mapped_column(String(64))
    rolled_before: Mapped[date | None] = mapped_column(Date)
    log_before: Mapped[datetime | None] = mapped_column(UTCDateTime())

"""Billing runs as they happened: the scheduler's and `flask billing run`'s."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db


class BillingRun(db.Model):
    """One run: when it ran, the instant it billed as of, and what it did.

    `finished_at` is empty while the run is under way (or when its process died in it).
    """

    __tablename__ = "billing_runs"
    __table_args__ = (
        CheckConstraint("packages >= 0 AND invoices >= 0 AND failures >= 0", name="counts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "scheduler" or "cli": who started the run.
    source: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The instant billed as of (`--now` of the CLI; the start time for the scheduler).
    now: Mapped[datetime] = mapped_column(UTCDateTime())
    packages: Mapped[int] = mapped_column(Integer, default=0)
    invoices: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)

"""The billing change log: what a package's next reconciliation must look at again.

A row names an instant of a package's history whose period must be reconciled again: the
`from` of an accepted usage record (written by a database trigger on `usage_records`, in
the same statement as the record, so every channel and every COPY writes it and a single
POST stays one round trip) or the period start of a charge released by a void. The billing
run deletes the rows of a package in the transaction that writes its invoice and reconciles
their periods; a row committed after that delete stays for the next invoice, so no change can
fall between two runs (no time window, no scan of usage history).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from portal.db_types import BigId, UTCDateTime
from portal.extensions import db


class BillingChange(db.Model):
    """An instant whose period (on the package's or the line's own cycle) changed."""

    __tablename__ = "billing_changes"
    __table_args__ = (
        # Serves "the changes of this package before this instant" (consumed per invoice).
        Index("ix_billing_changes_package_at", "package_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"))
    # Informational (which line's record logged it): reconciliation reads `at` only, which
    # is why a chunked run may put consumed rows back collapsed to one per period, without it.
    line_item_id: Mapped[int | None] = mapped_column(ForeignKey("line_items.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

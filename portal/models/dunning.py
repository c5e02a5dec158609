"""Dunning: the reminder schedule, invoices found overdue, and each reminder sent."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint, true,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db
from portal.models.catalog import in_list

REMINDER_STATUSES = ("sent", "skipped", "stopped")


class ReminderSettings(db.Model):
    """The merchant's reminder schedule (one row, id 1): days after the due date."""

    __tablename__ = "reminder_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Comma-separated whole days after the due date, ascending: "3,7,14".
    days: Mapped[str] = mapped_column(String(200), default="3,7,14", server_default="3,7,14")


class OverdueInvoice(db.Model):
    """An invoice the background process found past its due date (once: the primary key);
    its "overdue" event is written in the same transaction."""

    __tablename__ = "overdue_invoices"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"),
                                            primary_key=True)
    due_date: Mapped[date] = mapped_column(Date)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InvoiceReminder(db.Model):
    """One step of the schedule for one invoice: at most one row (the unique key), so each
    reminder is e-mailed once whatever the number of workers and retries."""

    __tablename__ = "invoice_reminders"
    __table_args__ = (
        UniqueConstraint("invoice_id", "step"),
        CheckConstraint("step >= 0", name="step"),
        CheckConstraint(in_list("status", REMINDER_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)  # days after the due date
    # sent: its e-mail is queued (delivery); skipped: a later step was due at the same time,
    # or no billing address; stopped: the invoice was settled before its e-mail went out.
    status: Mapped[str] = mapped_column(String(10), default="sent")
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("email_deliveries.id"))
    note: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""CSV usage imports run in the background, with their progress."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.billing.vocabulary import ImportStatus
from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db
from portal.models.catalog import in_list

IMPORT_STATUSES = tuple(ImportStatus)


class CsvImport(db.Model):
    """One uploaded CSV file: validated (preview), then imported in the background."""

    __tablename__ = "csv_imports"
    __table_args__ = (CheckConstraint(in_list("status", IMPORT_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    # Where the upload is kept on disk while it is validated and imported.
    stored_path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=ImportStatus.UPLOADED)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    bytes_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    # The first errors (row, field, message), for the preview and the summary.
    errors: Mapped[list] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

"""Background jobs, claimed by the worker (scheduler) processes that share the database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.billing.vocabulary import JobStatus
from portal.db_types import BigId, UTCDateTime, utcnow
from portal.extensions import db
from portal.models.catalog import in_list

JOB_STATUSES = tuple(JobStatus)


class Job(db.Model):
    """One unit of background work: `kind` names its handler, `payload` its arguments.

    A worker claims a waiting job (status `running`, `locked_by` = the worker, `attempts`
    + 1) and renews `heartbeat_at` while it runs; a running job whose heartbeat is older
    than the stale timeout belongs to a dead worker and is claimed again (resumed), or
    failed once it has used its attempts.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(in_list("status", JOB_STATUSES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        # The claim query: due waiting jobs and stale running ones, oldest first.
        Index("ix_jobs_status_run_after", "status", "run_after"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=JobStatus.WAITING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

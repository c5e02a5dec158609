"""Billing runs, as recorded: the last run, and whether the scheduler is alive.

Every run (the scheduler's billing job and `flask billing run`) writes a `BillingRun`
when it starts and completes it when it ends (`portal.jobs.billing_runs`, which commits).
The dashboard shows the last run and the next one; `/health` calls the scheduler
`stale` when the last run started more than STALE_INTERVALS billing intervals ago, and
`no run yet` when no run was ever recorded (the scheduler bills once at start-up, so a
deployed system has a run within seconds; a system without one bills nothing).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.db_types import utcnow
from portal.extensions import db
from portal.config import interval_seconds
from portal.models import BillingRun

STALE_INTERVALS = 3


def last_run() -> BillingRun | None:
    """The most recent run (by start)."""
    return db.session.scalar(select(BillingRun).order_by(BillingRun.started_at.desc(),
                                                         BillingRun.id.desc()).limit(1))


@dataclass(frozen=True)
class SchedulerStatus:
    """What the dashboard and /health say about automatic billing."""

    state: str  # "ok", "stale" or "no run yet"
    last: BillingRun | None
    next_at: datetime | None  # when the scheduler's next run is expected
    interval: timedelta

    @property
    def healthy(self) -> bool:
        return self.state == "ok"

    @property
    def interval_text(self) -> str:
        """The billing interval for people: "5 min", "30 s"."""
        seconds = int(self.interval.total_seconds())
        return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def scheduler_status(config, now: datetime | None = None) -> SchedulerStatus:
    """The state of automatic billing as of `now`, from the recorded runs.

    :param config: the app's settings (the billing interval).
    """
    now = now or utcnow()
    interval = timedelta(seconds=interval_seconds(config, "BILLING"))
    last = last_run()
    if last is None:
        return SchedulerStatus("no run yet", None, None, interval)
    scheduled = db.session.scalar(select(BillingRun.started_at).where(BillingRun.source == "scheduler")
                                  .order_by(BillingRun.started_at.desc()).limit(1))
    next_at = scheduled + interval if scheduled else None
    state = "ok" if last.started_at >= now - STALE_INTERVALS * interval else "stale"
    return SchedulerStatus(state, last, next_at, interval)

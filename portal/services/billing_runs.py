"""Billing runs, recorded: what each run did, and whether the scheduler is alive.

Every run (the scheduler's billing job and `flask billing run`) writes a `BillingRun`
when it starts and completes it when it ends, with its counts and the errors it logged.
The dashboard shows the last run and the next one; `/health` calls the scheduler
`stale` when the last run started more than STALE_INTERVALS billing intervals ago, and
`no run yet` when no run was ever recorded (the scheduler bills once at start-up, so a
deployed system has a run within seconds; a system without one bills nothing).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from collections.abc import Callable

from sqlalchemy import select

from portal.db_types import utcnow
from portal.extensions import db
from portal.jobs import interval_seconds
from portal.models import BillingRun
from portal.services.billing import RunSummary

STALE_INTERVALS = 3
MAX_ERROR_LINES = 20
BILLING_LOGGER = "meterbill.billing"  # where services.billing logs a package that failed


class _ErrorCapture(logging.Handler):
    """Collects the errors `services.billing` logs in this thread during one run."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread or len(self.lines) >= MAX_ERROR_LINES:
            return
        line = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line += f": {type(error).__name__}: {error}"
        self.lines.append(line)


def record_billing_run(now: datetime, source: str, run: Callable[[], RunSummary]) -> RunSummary:
    """Run `run()` (a billing run as of `now`) and record it; commits.

    :param now: the instant billed as of.
    :param source: "scheduler" or "cli".
    :param run: the run itself (`run_billing` or `run_billing_parallel`).
    :raises: whatever the run raised, after recording it as an error.
    """
    started = BillingRun(source=source, started_at=utcnow(), now=now)
    db.session.add(started)
    db.session.commit()
    run_id, capture = started.id, _ErrorCapture()
    logger = logging.getLogger(BILLING_LOGGER)
    logger.addHandler(capture)
    summary, crash = RunSummary(), None
    try:
        summary = run()
    except Exception as error:  # recorded, then raised again
        db.session.rollback()
        crash = error
        capture.lines.append(f"The run stopped: {type(error).__name__}: {error}")
    finally:
        logger.removeHandler(capture)
    _complete(run_id, summary, capture.lines)
    if crash is not None:
        raise crash
    return summary


def _complete(run_id: int, summary: RunSummary, errors: list[str]) -> None:
    row = db.session.get(BillingRun, run_id, populate_existing=True)
    row.finished_at = utcnow()
    row.packages, row.invoices, row.failures = summary.packages, len(summary.invoice_ids), summary.failures
    if summary.failures and not errors:  # failures in worker processes log there
        errors = [f"{summary.failures} package(s) failed; see the billing log."]
    row.error = "\n".join(errors) or None
    db.session.commit()


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

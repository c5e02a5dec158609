"""Billing runs, recorded: what each run did (a `BillingRun` row, committed when the run
starts and when it ends, with its counts and the errors it logged)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from portal.db_types import utcnow
from portal.extensions import db
from portal.jobs.billing import RunSummary
from portal.models import BillingRun

MAX_ERROR_LINES = 20
BILLING_LOGGER = "meterbill.billing"  # where jobs.billing logs a package that failed


class _ErrorCapture(logging.Handler):
    """Collects the errors `jobs.billing` logs in this thread during one run."""

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

"""Jobs of the scheduler process, each run inside an app context."""
from __future__ import annotations

import logging
import time

from portal.db_types import utcnow
from portal.extensions import db
from portal.jobs import run_pending
from portal.jobs.billing import RunSummary, run_billing
from portal.jobs.billing_runs import record_billing_run
from portal.jobs.mail import send_due_deliveries
from portal.jobs.queue import purge_done
from portal.jobs.rollups import roll_usage

log = logging.getLogger("meterbill.jobs")


def billing_job(app) -> RunSummary:
    """Bill every package due now, record the run and log its figures."""
    with app.app_context():
        started = time.monotonic()
        now = utcnow()
        try:
            summary = record_billing_run(now, "scheduler", lambda: run_billing(now))
        finally:
            db.session.remove()
        log.info("Billing job at %s: %s package(s) due, %s invoice(s) created, %s failure(s) "
                 "in %.2f s", now.isoformat(timespec="seconds"), summary.packages,
                 len(summary.invoice_ids), summary.failures, time.monotonic() - started)
        return summary


def mail_job(app) -> dict[str, int]:
    """Send the e-mail deliveries that are due and log the counts."""
    with app.app_context():
        try:
            counts = send_due_deliveries()
        finally:
            db.session.remove()
        if counts:
            log.info("Mail job: %s", ", ".join(f"{n} {status}" for status, n in counts.items()))
        return counts


def job_runner_job(app, worker_id: str) -> dict[str, int]:
    """Run the queued background jobs (CSV imports, ...) and log what happened."""
    counts = run_pending(app, worker_id)
    if counts:
        log.info("Job runner: %s", ", ".join(f"{n} {outcome}" for outcome, n in counts.items()))
    return counts


def rollup_job(app):
    """Roll the closed days' usage and correct the days that received late usage."""
    with app.app_context():
        try:
            run = roll_usage(utcnow())
        finally:
            db.session.remove()
        if run.days or run.late:
            log.info("Rollup job: %s day(s) rolled (%s rows), %s late (line, day) recomputed",
                     run.days, run.rows, run.late)
        return run


def purge_job(app) -> int:
    """Delete the background jobs finished more than JOBS_KEEP_DAYS ago (the queue would
    otherwise grow by one row per webhook, e-mail reminder and import, forever)."""
    with app.app_context():
        try:
            deleted = purge_done(app.config["JOBS_KEEP_DAYS"])
        finally:
            db.session.remove()
        if deleted:
            log.info("Purge job: %s finished job(s) deleted", deleted)
        return deleted

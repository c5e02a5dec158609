"""Jobs of the scheduler process, each run inside an app context."""
from __future__ import annotations

import logging
import time

from portal.db_types import utcnow
from portal.extensions import db
from portal.services.billing import RunSummary, run_billing
from portal.services.mail import send_due_deliveries

log = logging.getLogger("meterbill.jobs")


def billing_job(app) -> RunSummary:
    """Bill every package due now and log the run's figures."""
    with app.app_context():
        started = time.monotonic()
        now = utcnow()
        try:
            summary = run_billing(now)
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

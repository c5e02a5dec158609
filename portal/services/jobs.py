"""Jobs of the scheduler process, each run inside an app context."""
from __future__ import annotations

import logging
import time

from portal.db_types import utcnow
from portal.extensions import db
from portal.services.billing import RunSummary, run_billing

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

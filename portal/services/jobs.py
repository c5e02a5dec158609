"""Jobs of the scheduler process, each run inside an app context and committed once."""
from __future__ import annotations

import logging

from portal.db_types import utcnow
from portal.extensions import db
from portal.services.billing import count_due

log = logging.getLogger("meterbill.jobs")


def billing_job(app) -> int:
    """Report the packages due now; returns their count.

    The invoicing service (issue 4) replaces the report with the billing run.
    """
    with app.app_context():
        now = utcnow()
        due = count_due(now)
        log.info("Billing job at %s: %s package(s) due", now.isoformat(timespec="seconds"), due)
        db.session.remove()
        return due

"""The usage-alert check as a scheduler job: it owns its transaction (one per check)."""
from __future__ import annotations

import logging

from portal.extensions import db

log = logging.getLogger("meterbill.jobs")


def usage_alerts_job(app) -> int:
    """Evaluate the alerts of lines that got usage since the last check; commits."""
    from portal.services.usage_alerts import check_usage_alerts

    with app.app_context():
        try:
            fired = check_usage_alerts()
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()
    if fired:
        log.info("Usage alerts: %s fired", fired)
    return fired

"""The scheduler process: billing and mail jobs (APScheduler), never inside web workers.

Run with `python scheduler.py`; Ctrl-C (SIGINT) or SIGTERM stops it cleanly.
Each job runs with `coalesce=True` and `max_instances=1`; running several scheduler
processes is safe because the jobs themselves are (one invoice per package and period
is enforced by the database).
"""
from __future__ import annotations

import logging
import signal
import sys

from apscheduler.schedulers.blocking import BlockingScheduler

from portal import create_app
from portal.services.jobs import billing_job, mail_job

log = logging.getLogger("meterbill.scheduler")


def build_scheduler(app) -> BlockingScheduler:
    """A blocking scheduler: billing every SCHEDULER_BILLING_MINUTES, mail every minute."""
    scheduler = BlockingScheduler(timezone="UTC")
    minutes = app.config["SCHEDULER_BILLING_MINUTES"]
    scheduler.add_job(
        billing_job, "interval", minutes=minutes, args=[app], id="billing",
        coalesce=True, max_instances=1, next_run_time=None,
    )
    scheduler.add_job(mail_job, "interval", minutes=1, args=[app], id="mail",
                      coalesce=True, max_instances=1)
    # Run once at start so a freshly started system is up to date immediately.
    scheduler.add_job(billing_job, args=[app], id="billing-startup", max_instances=1)
    return scheduler


def main() -> int:
    """Start the scheduler and block until a signal stops it."""
    app = create_app()
    scheduler = build_scheduler(app)

    def stop(signum, _frame):
        log.info("Received %s; stopping the scheduler", signal.Signals(signum).name)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("Scheduler started: billing every %s minute(s)", app.config["SCHEDULER_BILLING_MINUTES"])
    scheduler.start()
    log.info("Scheduler stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The scheduler process: billing, mail and background jobs (APScheduler), never inside
web workers.

Run with `python scheduler.py`; Ctrl-C (SIGINT) or SIGTERM stops it cleanly: the signal
handler only sets an event, the main thread then shuts the scheduler down (waiting for a
running job) and logs "Scheduler stopped". (Shutting a BlockingScheduler down from inside
a signal handler interrupted its own loop: SchedulerNotRunningError, "release unlocked
lock".) Intervals: SCHEDULER_BILLING_SECONDS (or _MINUTES), SCHEDULER_MAIL_SECONDS,
SCHEDULER_JOBS_SECONDS, SCHEDULER_ROLLUPS_SECONDS (usage rollups, default 60). Each job
runs with `coalesce=True` and `max_instances=1`;
running several scheduler processes is safe because the jobs themselves are (one invoice
per package and period is enforced by the database; background jobs are claimed).
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from portal import create_app
from portal.jobs import interval_seconds
from portal.jobs.alerts import usage_alerts_job
from portal.jobs.dunning import dunning_job
from portal.jobs.runner import new_worker_id
from portal.jobs.usage_pulls import usage_pulls_job
from portal.security import warn_at_startup
from portal.jobs.scheduled import billing_job, job_runner_job, mail_job, purge_job, rollup_job

log = logging.getLogger("meterbill.scheduler")
# Every run of every job would be two INFO lines (the job runner runs every few seconds);
# the jobs log what they did themselves.
logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)


def build_scheduler(app, worker_id: str) -> BackgroundScheduler:
    """Billing, mail and job-runner jobs on intervals; billing also once right at start."""
    scheduler = BackgroundScheduler(timezone="UTC")
    now = datetime.now(timezone.utc)
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    billing = interval_seconds(app.config, "BILLING")
    # Billing runs at start (a freshly started system is up to date at once), then every
    # interval; the first interval run is one interval later.
    scheduler.add_job(billing_job, "interval", seconds=billing, args=[app], id="billing",
                      next_run_time=now, **common)
    scheduler.add_job(mail_job, "interval", seconds=interval_seconds(app.config, "MAIL"),
                      args=[app], id="mail", next_run_time=now + timedelta(seconds=1), **common)
    scheduler.add_job(job_runner_job, "interval", seconds=interval_seconds(app.config, "JOBS"),
                      args=[app, worker_id], id="jobs", next_run_time=now, **common)
    scheduler.add_job(rollup_job, "interval", seconds=interval_seconds(app.config, "ROLLUPS"),
                      args=[app], id="rollups", next_run_time=now + timedelta(seconds=2), **common)
    scheduler.add_job(dunning_job, "interval", seconds=interval_seconds(app.config, "DUNNING"),
                      args=[app], id="dunning", next_run_time=now + timedelta(seconds=2), **common)
    # Pulled usage URLs are planned before the billing run can bill their packages.
    scheduler.add_job(usage_pulls_job, "interval", seconds=interval_seconds(app.config, "PULLS"),
                      args=[app], id="usage_pulls", next_run_time=now, **common)
    scheduler.add_job(usage_alerts_job, "interval", seconds=interval_seconds(app.config, "ALERTS"),
                      args=[app], id="usage_alerts", next_run_time=now + timedelta(seconds=2), **common)
    scheduler.add_job(purge_job, "interval", seconds=interval_seconds(app.config, "PURGE"),
                      args=[app], id="purge", next_run_time=now + timedelta(seconds=3), **common)
    return scheduler


def main() -> int:
    """Start the scheduler and block until SIGINT or SIGTERM stops it."""
    app = create_app()
    warn_at_startup(app, "scheduler")  # one line when the key is generated, limits per process
    worker_id = new_worker_id()
    scheduler = build_scheduler(app, worker_id)
    stop = threading.Event()

    def on_signal(signum, _frame):
        # Only set the event: everything else happens in the main thread, once.
        log.info("Received %s; stopping the scheduler", signal.Signals(signum).name)
        # A second signal (Ctrl-C, then make's TERM) calls this again: harmless. Changing the
        # handlers here would race with a signal already pending ("ignored due to race").
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler.start()
    log.info("Scheduler started (%s): %s", worker_id, ", ".join(
        f"{job.lower()} every {interval_seconds(app.config, job)} s"
        for job in ("BILLING", "MAIL", "JOBS", "ROLLUPS", "DUNNING", "PULLS", "ALERTS")))
    while not stop.wait(1):
        pass
    scheduler.shutdown(wait=True)
    log.info("Scheduler stopped")
    # Python restores the default action of its handlers while it exits, when a late TERM
    # would kill the process (exit -15): from here on, further signals are ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return 0


if __name__ == "__main__":
    sys.exit(main())

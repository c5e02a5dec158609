"""`flask jobs ...`: run the queued background jobs by hand, see the queue."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="Background jobs (run by the scheduler process).")


@jobs_cli.command("run")
def run_jobs_command():
    """Run every due job once, here and now (what the scheduler's job runner does)."""
    from portal.jobs import run_pending

    counts = run_pending(current_app._get_current_object())
    click.echo(", ".join(f"{n} {outcome}" for outcome, n in counts.items()) or "No job was due.")


@jobs_cli.command("status")
def jobs_status_command():
    """How many jobs are waiting, running and failed."""
    from portal.jobs.queue import queue_counts

    click.echo(", ".join(f"{n} {status}" for status, n in queue_counts().items()))

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


def _now(now_text: str | None):
    """--now as an instant (merchant time zone), default the current time."""
    from portal.billing.errors import ValidationError
    from portal.db_types import utcnow
    from portal.services import merchant_tz
    from portal.timeutil import parse_datetime

    try:
        return parse_datetime(now_text, "--now", merchant_tz()) if now_text else utcnow()
    except ValidationError as exc:
        raise click.BadParameter(exc.message, param_hint="--now") from None


NOW_HELP = 'As of this instant, "YYYY-MM-DD HH:MM:SS" in the merchant time zone.'


@jobs_cli.command("dunning")
@click.option("--now", "now_text", default=None, help=NOW_HELP)
def dunning_command(now_text: str | None):
    """Mark overdue invoices and queue the reminders due (what the scheduler's dunning job does)."""
    from portal.jobs.dunning import run_dunning

    counts = run_dunning(_now(now_text))
    click.echo(f"{counts['overdue']} invoice(s) became overdue, {counts['reminded']} reminder(s) "
               f"queued, {counts['stopped']} stopped.")


@jobs_cli.command("plan-pulls")
@click.option("--now", "now_text", default=None, help=NOW_HELP)
def plan_pulls_command(now_text: str | None):
    """Queue the pulls of the usage URLs of packages due (then `flask jobs run` runs them)."""
    from portal.jobs.usage_pulls import plan_usage_pulls

    click.echo(f"{plan_usage_pulls(_now(now_text))} pull(s) queued.")

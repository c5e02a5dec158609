"""`flask` commands: demo data, staff users, billing runs."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.billing.errors import ValidationError
from portal.cli_contacts import contacts_cli
from portal.db_types import utcnow
from portal.extensions import db
from portal.jobs.cli import jobs_cli
from portal.models import STAFF_ROLES
from portal.services import merchant_tz
from portal.jobs.billing_runs import record_billing_run
from portal.jobs.billing_workers import run_billing_parallel
from portal.timeutil import format_datetime, parse_datetime

users_cli = AppGroup("users", help="Manage staff logins of the merchant portal.")
billing_cli = AppGroup("billing", help="Run billing.")
apikeys_cli = AppGroup("apikeys", help="Manage API keys (HTTP Basic: public key : private key).")


@click.command("seed-demo")
def seed_demo_command():
    """Load the demo data (idempotent) and print the demo logins."""
    from portal.services.demo import (
        DEMO_CONTACT_EMAIL, DEMO_CONTACT_PASSWORD, DEMO_PASSWORD, DEMO_STAFF_EMAIL, seed_demo,
    )

    created = seed_demo()
    db.session.commit()
    click.echo("Demo data loaded." if created else "Demo data already present; nothing changed.")
    click.echo(f"Merchant portal login: {DEMO_STAFF_EMAIL} / {DEMO_PASSWORD}")
    click.echo(f"Customer portal login (/portal): {DEMO_CONTACT_EMAIL} / {DEMO_CONTACT_PASSWORD}")


@users_cli.command("create")
@click.option("--email", required=True, help="Login e-mail address.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(STAFF_ROLES), default="admin", show_default=True)
@click.option("--name", default=None, help="Display name.")
def create_user_command(email: str, password: str, role: str, name: str | None):
    """Create a staff user of the merchant portal."""
    from portal.services.accounts import create_staff_user

    try:
        user = create_staff_user(email=email, password=password, role=role, name=name)
    except ValidationError as exc:
        raise click.UsageError(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@billing_cli.command("run")
@click.option("--now", "now_text", default=None,
              help='Run as of this instant, "YYYY-MM-DD HH:MM:SS" in the merchant time zone.')
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 32),
              help="Worker processes (PostgreSQL only; SQLite always uses one).")
def billing_run_command(now_text: str | None, workers: int):
    """Bill every package that is due as of --now (default: the current time)."""
    try:
        now = parse_datetime(now_text, "--now", merchant_tz()) if now_text else utcnow()
    except ValidationError as exc:
        raise click.BadParameter(exc.message, param_hint="--now") from None
    if db.engine.dialect.name == "sqlite":
        workers = 1
    config = {"SQLALCHEMY_DATABASE_URI": current_app.config["SQLALCHEMY_DATABASE_URI"]}
    summary = record_billing_run(now, "cli", lambda: run_billing_parallel(config, now, workers))
    click.echo(f"As of {format_datetime(now, merchant_tz())}: {summary.packages} package(s) due, "
               f"{len(summary.invoice_ids)} invoice(s) created, {summary.failures} failure(s).")
    if summary.failures:
        raise SystemExit(1)


@apikeys_cli.command("create")
@click.option("--name", required=True, help="What the key is for.")
def create_apikey_command(name: str):
    """Create an API key; the last line printed is PUBLIC:PRIVATE (shown only once)."""
    from portal.services.apikeys import create_api_key

    try:
        key, private_key = create_api_key(name)
    except ValidationError as exc:
        raise click.UsageError(str(exc)) from None
    db.session.commit()
    click.echo(f"API key '{key.name}' created. The private key is shown only this once.")
    click.echo(f"{key.public_key}:{private_key}")


@apikeys_cli.command("revoke")
@click.argument("public_key")
def revoke_apikey_command(public_key: str):
    """Revoke an API key at once."""
    from portal.services.apikeys import revoke_api_key

    try:
        revoke_api_key(public_key)
    except ValidationError as exc:
        raise click.UsageError(str(exc)) from None
    db.session.commit()
    click.echo(f"API key {public_key} revoked.")


def register_commands(app: Flask) -> None:
    """Attach every command group to `app.cli`."""
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(billing_cli)
    app.cli.add_command(apikeys_cli)
    app.cli.add_command(contacts_cli)
    app.cli.add_command(jobs_cli)

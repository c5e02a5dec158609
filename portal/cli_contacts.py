"""`flask contacts invite EMAIL`: invite a contact to the customer portal from the shell."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from portal.billing.errors import ValidationError
from portal.extensions import db

contacts_cli = AppGroup("contacts", help="Customer portal access of contacts.")


@contacts_cli.command("invite")
@click.argument("email")
@click.option("--base-url", envvar="METERBILL_BASE_URL", default=None,
              help="Where the portal is reached (the link is absolute); default PUBLIC_URL. "
                   "Env: METERBILL_BASE_URL.")
@click.option("--no-email", is_flag=True, help="Only print the link; queue no e-mail.")
def invite_command(email: str, base_url: str | None, no_email: bool):
    """Queue the invitation e-mail of the contact EMAIL and print its link (valid 7 days),
    so that it can be handed over where no SMTP server is configured."""
    from portal.services.contact_access import contact_by_email, invite_contact, link_for

    contact = contact_by_email(email)
    if contact is None:
        raise click.UsageError(f"no contact has the e-mail address {email.strip().lower()}")
    # Links are built from PUBLIC_URL; an explicit --base-url stands in for it in this command.
    public_url = current_app.config["PUBLIC_URL"]
    current_app.config["PUBLIC_URL"] = (base_url or public_url).rstrip("/")
    try:
        if not no_email:
            invite_contact(contact)
        link = link_for(contact, "invitation")
    except ValidationError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        current_app.config["PUBLIC_URL"] = public_url
    db.session.commit()
    if not no_email:
        click.echo(f"Invitation e-mail queued for {contact.email} (sent by the mail job).")
    click.echo(f"Invitation link for {contact.email} (valid 7 days, works once):")
    click.echo(link)

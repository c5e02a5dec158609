"""Invite a customer's contact to the customer portal (an e-mail with a signed link)."""
from __future__ import annotations

from flask import flash, redirect, url_for
from sqlalchemy import func, select

from portal.billing.errors import ValidationError
from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.models import Contact, EmailDelivery
from portal.services.contact_access import invite_contact as queue_invitation


@bp.post("/contacts/<int:contact_id>/invite")
@admin_required
def invite_contact(contact_id: int):
    """Queue the contact's invitation e-mail, then show the customer again."""
    contact = db.get_or_404(Contact, contact_id)
    try:
        queue_invitation(contact)
    except ValidationError as error:
        db.session.rollback()
        flash(f"Not invited: {error.message}.", "error")
    else:
        db.session.commit()
        again = " again" if contact.is_active else ""
        flash(f"Invitation e-mail queued{again} for {contact.email}: its link is valid for 7 days.", "info")
    return redirect(url_for("merchant.customer", customer_id=contact.customer_id) + "#contacts")


def invitations_sent(contacts) -> dict[int, object]:
    """When each contact was last invited (contact id → the latest invitation's queue time).

    Invitations are stored e-mails ("message" deliveries) to the contact's address whose
    subject is the invitation's (contact_access names it); one query for the page.
    :param contacts: the customer's contacts.
    """
    by_email = {contact.email.lower(): contact.id for contact in contacts if contact.email}
    if not by_email:
        return {}
    rows = db.session.execute(
        select(func.lower(EmailDelivery.to_address), func.max(EmailDelivery.created_at))
        .where(EmailDelivery.kind == "message", EmailDelivery.subject.like("Your invitation to %"),
               func.lower(EmailDelivery.to_address).in_(by_email))
        .group_by(func.lower(EmailDelivery.to_address)))
    return {by_email[email]: at for email, at in rows}

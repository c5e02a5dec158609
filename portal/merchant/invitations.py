"""Invite a customer's contact to the customer portal (an e-mail with a signed link)."""
from __future__ import annotations

from flask import abort, flash, redirect, url_for

from portal.billing.errors import ValidationError
from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.models import Contact
from portal.services.contact_access import invite_contact as queue_invitation


@bp.post("/contacts/<int:contact_id>/invite")
@admin_required
def invite_contact(contact_id: int):
    """Queue the contact's invitation e-mail, then show the customer again."""
    contact = db.session.get(Contact, contact_id) or abort(404)
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

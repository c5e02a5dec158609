"""What an invoice e-mail says: the invoice as issued (its snapshot), a greeting to the
person it goes to, the link to view it online, and the logo as an inline (cid:) image."""
from __future__ import annotations

import logging
from email.utils import make_msgid

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Contact, Customer, EmailDelivery, Invoice
from portal.services.customers import billing_contact
from portal.services.invoice_snapshot import snapshot_of
from portal.services.invoice_view import invoice_context
from portal.services.links import invoice_links

log = logging.getLogger("meterbill.mail")


def greeting_name(invoice: Invoice, snapshot: dict, to_address: str) -> str | None:
    """The name of the contact of the invoice's customer the e-mail goes to, if known."""
    contact = db.session.scalar(select(Contact).where(
        Contact.customer_id == invoice.customer_id, func.lower(Contact.email) == to_address.lower()))
    if contact is not None:
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        return name or None
    frozen = snapshot.get("contact") or {}
    if (frozen.get("email") or "").lower() == to_address.lower():
        return frozen.get("name")
    return None


def permalink(invoice: Invoice) -> str:
    """The invoice's url_permalink, built from PUBLIC_URL (also in the scheduler)."""
    return invoice_links(invoice)["url_permalink"]


def invoice_email_context(invoice: Invoice, to_address: str) -> dict:
    """The templates' context of the e-mail of `invoice` to `to_address`.

    :param invoice: the invoice.
    :param to_address: the recipient (the greeting names that contact).
    """
    snapshot = snapshot_of(invoice)
    context = invoice_context(invoice, snapshot)
    logo_cid = make_msgid(domain="logo.invalid")[1:-1] if context["logo_image"] else None
    context.update(
        seller=snapshot["seller"], greeting_name=greeting_name(invoice, snapshot, to_address),
        permalink=permalink(invoice), logo_cid=logo_cid,
        logo=f"cid:{logo_cid}" if logo_cid else None,
    )
    return context


def invoice_recipients(invoice: Invoice) -> dict:
    """Who receives the invoice by e-mail: the billing contact now (`billing`, a Contact or
    None) and the addresses its e-mails were queued to so far (`sent_to`)."""
    addresses = db.session.scalars(
        select(EmailDelivery.to_address).where(EmailDelivery.invoice_id == invoice.id)
        .order_by(EmailDelivery.id))
    return {"billing": billing_contact(db.session.get(Customer, invoice.customer_id)),
            "sent_to": list(dict.fromkeys(addresses))}

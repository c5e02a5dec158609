"""A customer's contacts: edit in place (HTMX), delete, and pick the billing contact."""
from __future__ import annotations

from flask import redirect, request, url_for

from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.merchant.customers import DETAIL_PAGE, _detail
from portal.merchant.forms_common import form_action, page
from portal.merchant.forms_customers import ContactForm, contact_fields, contact_form_data
from portal.models import Contact, Customer
from portal.services.customers import delete_contact, set_billing_contact, update_contact

CONTACTS_PARTIAL = "partials/merchant_customer_contacts.html"



def _customer_page(customer_id: int, **context):
    """The customer page, or only its contacts section for HTMX."""
    return page(DETAIL_PAGE, CONTACTS_PARTIAL, **_detail(db.session.get(Customer, customer_id), **context))


def _done(customer_id: int):
    """After a change: the contacts section (HTMX) or the customer page."""
    if getattr(request, "htmx", False):
        return _customer_page(customer_id)
    return redirect(url_for("merchant.customer", customer_id=customer_id) + "#contacts")


@bp.get("/contacts/<int:contact_id>/edit")
def contact_edit(contact_id: int):
    """The contacts section with this contact's row as a form (read-only for viewers)."""
    contact = db.get_or_404(Contact, contact_id)
    return _customer_page(contact.customer_id, editing=contact.id,
                          edit_form=ContactForm(data=contact_form_data(contact)))


@bp.post("/contacts/<int:contact_id>")
@admin_required
def contact_update(contact_id: int):
    """Save a contact (the billing contact's changes reach the customer's main contact)."""
    contact = db.get_or_404(Contact, contact_id)
    customer_id, form = contact.customer_id, ContactForm()
    return form_action(
        lambda: update_contact(contact, **contact_fields(form)), form=form,
        refuse=lambda: (DETAIL_PAGE, CONTACTS_PARTIAL,
                        _detail(db.session.get(Customer, customer_id), editing=contact_id, edit_form=form)),
        message=lambda _: f"Contact {contact.name or contact.id} saved.", done=lambda _: _done(customer_id))


@bp.post("/contacts/<int:contact_id>/billing")
@admin_required
def contact_make_billing(contact_id: int):
    """Make this contact the one invoices are sent to."""
    contact = db.get_or_404(Contact, contact_id)
    customer_id = contact.customer_id
    return form_action(lambda: set_billing_contact(contact), failure="Not changed: {}.",
                       refuse=lambda: (DETAIL_PAGE, CONTACTS_PARTIAL, _detail(db.session.get(Customer, customer_id))),
                       message=lambda _: f"Invoices now go to {contact.name or contact.id}.",
                       done=lambda _: _done(customer_id))


@bp.post("/contacts/<int:contact_id>/delete")
@admin_required
def contact_delete(contact_id: int):
    """Delete a contact; the billing contact hands over to another one (or is refused)."""
    contact = db.get_or_404(Contact, contact_id)
    customer_id, name = contact.customer_id, contact.name or str(contact.id)
    was_billing = contact.is_billing_contact

    def deleted(successor) -> str:
        handover = f" Invoices now go to {successor.name or successor.id}." if was_billing and successor else ""
        return f"Contact {name} deleted.{handover}"

    return form_action(lambda: delete_contact(contact), failure="Not deleted: {}.", message=deleted,
                       refuse=lambda: (DETAIL_PAGE, CONTACTS_PARTIAL, _detail(db.session.get(Customer, customer_id))),
                       done=lambda _: _done(customer_id))

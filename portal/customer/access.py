"""Who is logged in, and the ONLY way portal views read records: scoped to their customer.

Every lookup filters on the id AND the logged-in contact's customer_id, so an id typed into
a URL that belongs to another customer is simply not found (404, the same answer as an id
that does not exist: no oracle).
"""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.billing.vocabulary import DocType
from portal.extensions import db
from portal.models import Contact, Invoice, LineItem, Package


def logged_in_contact() -> Contact | None:
    """The logged-in contact, or None (nobody, a staff user, or a contact without password)."""
    user = current_user._get_current_object()
    if isinstance(user, Contact) and user.is_active:
        return user
    return None


def contact() -> Contact:
    """The logged-in contact (the blueprint's before_request guarantees there is one)."""
    user = logged_in_contact()
    if user is None:
        abort(401)
    return user


def customer_id() -> int:
    """The customer every query of this request is scoped to."""
    return contact().customer_id


def own_invoice(invoice_id: int) -> Invoice:
    """The customer's invoice with this id; 404 otherwise."""
    invoice = db.session.scalar(select(Invoice).where(
        Invoice.id == invoice_id, Invoice.customer_id == customer_id()))
    return invoice if invoice is not None else abort(404)


def own_credit_note(credit_note_id: int) -> Invoice:
    """The customer's credit note with this id; 404 otherwise."""
    credit_note = db.session.scalar(select(Invoice).where(
        Invoice.id == credit_note_id, Invoice.customer_id == customer_id(),
        Invoice.doc_type == DocType.CREDIT_NOTE))
    return credit_note if credit_note is not None else abort(404)


def own_package(package_id: int) -> Package:
    """The customer's package with this id (lines and items loaded); 404 otherwise."""
    package = db.session.scalar(
        select(Package).where(Package.id == package_id, Package.customer_id == customer_id())
        .options(selectinload(Package.line_items).selectinload(LineItem.item)))
    return package if package is not None else abort(404)


def own_metered_line(line_id: int) -> LineItem:
    """A metered line of one of the customer's packages; 404 otherwise."""
    line = db.session.scalar(
        select(LineItem).join(Package, Package.id == LineItem.package_id)
        .where(LineItem.id == line_id, Package.customer_id == customer_id())
        .options(selectinload(LineItem.item), selectinload(LineItem.package).selectinload(Package.customer)))
    if line is None or not line.item.is_metered:
        abort(404)
    return line

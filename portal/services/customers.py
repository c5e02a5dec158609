"""Customers and contacts."""
from __future__ import annotations

from sqlalchemy import exists, select

from portal.billing.errors import ValidationError
from portal.billing.money import minor_units
from portal.extensions import db
from portal.models import Contact, Customer, Invoice, Package
from portal.services import ensure_unique

CUSTOMER_FIELDS = (
    "company", "external_key", "bill_addr1", "bill_addr2", "bill_addr3", "bill_city",
    "bill_state", "bill_postcode", "bill_country", "superuser_name", "superuser_email",
    "superuser_phone",
)
CONTACT_FIELDS = ("first_name", "last_name", "title", "email", "phone", "external_key")


def create_customer(*, company: str, currency: str = "USD", **fields) -> Customer:
    """Create a customer; flushes so the id is known.

    :param company: the company name, required.
    :param currency: ISO 4217 code the customer is billed in.
    :param fields: any of CUSTOMER_FIELDS.
    """
    customer = Customer(currency="USD")
    update_customer(customer, company=company, currency=currency, **fields)
    db.session.add(customer)
    db.session.flush()
    return customer


def update_customer(customer: Customer, **fields) -> Customer:
    """Change a customer's fields (those given); validates company, currency, external_key."""
    unknown = set(fields) - set(CUSTOMER_FIELDS) - {"currency"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a customer field")
    if "company" in fields and not (fields["company"] or "").strip():
        raise ValidationError("company", "is required")
    if "currency" in fields:
        minor_units(fields["currency"])  # rejects unknown currencies with a clear message
        fields["currency"] = fields["currency"].upper()
    ensure_unique(Customer, "external_key", fields.get("external_key"), customer.id)
    for name, value in fields.items():
        setattr(customer, name, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    return customer


def delete_customer(customer: Customer) -> None:
    """Delete a customer that has no packages and no invoices (else a clear refusal)."""
    for model, what in ((Package, "packages"), (Invoice, "invoices")):
        if db.session.scalar(select(exists().where(model.customer_id == customer.id))):
            raise ValidationError("customer_id", f"customer {customer.id} has {what} and cannot be deleted")
    db.session.delete(customer)
    db.session.flush()


def add_contact(customer: Customer, **fields) -> Contact:
    """Add a contact (a person who may log into the customer portal) to `customer`.

    :param customer: the contact's customer.
    :param fields: any of CONTACT_FIELDS; `email` is the login and billing address.
    """
    contact = Contact(customer=customer)
    db.session.add(contact)
    return update_contact(contact, **fields)


def update_contact(contact: Contact, **fields) -> Contact:
    """Change a contact's fields; the e-mail must be valid and not used by another contact."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a contact field")
    email = fields.get("email")
    if email is not None:
        email = fields["email"] = email.strip().lower()
        if "@" not in email:
            raise ValidationError("email", "must be an e-mail address")
    ensure_unique(Contact, "email", email, contact.id)
    ensure_unique(Contact, "external_key", fields.get("external_key"), contact.id)
    for name, value in fields.items():
        setattr(contact, name, value)
    db.session.flush()
    return contact


def billing_contact(customer: Customer) -> Contact | None:
    """The contact invoices are sent to: the first billing contact with an e-mail."""
    return next((c for c in customer.contacts if c.is_billing_contact and c.email), None)

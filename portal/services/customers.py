"""Customers and contacts.

One source of truth for who receives invoices: the customer's *billing contact* (exactly one
contact flagged `is_billing_contact`, enforced by a partial unique index). The customer's
`superuser_*` fields (ChargeOver's main contact) mirror it: writing them writes the billing
contact, and every change of the billing contact is copied back onto them.
"""
from __future__ import annotations

from sqlalchemy import exists, select

from portal.billing.errors import ValidationError
from portal.billing.money import minor_units
from portal.extensions import db
from portal.models import Contact, Customer, Invoice, Package
from portal.services import ensure_unique
from portal.services.events import record_event

CUSTOMER_FIELDS = (
    "company", "external_key", "bill_addr1", "bill_addr2", "bill_addr3", "bill_city",
    "bill_state", "bill_postcode", "bill_country", "superuser_name", "superuser_email",
    "superuser_phone",
)
# The main contact as the API may also spell it (first and last name apart).
SUPERUSER_NAME_PARTS = ("superuser_first_name", "superuser_last_name")
SUPERUSER_FIELDS = ("superuser_name", "superuser_email", "superuser_phone", "superuser_username",
                    *SUPERUSER_NAME_PARTS)
CONTACT_FIELDS = ("first_name", "last_name", "title", "email", "phone", "external_key")
# Written through the API (ChargeOver's fields); the portal forms do not show them yet.
SHIP_FIELDS = ("ship_addr1", "ship_addr2", "ship_addr3", "ship_city", "ship_state",
               "ship_postcode", "ship_country")
CUSTOM_FIELD_COUNT = 20  # ChargeOver's custom_1 .. custom_20
EXTRA_CUSTOMER_FIELDS = (*SHIP_FIELDS, "parent_customer_id", "custom_fields")


def create_customer(*, company: str, currency: str = "USD", **fields) -> Customer:
    """Create a customer; flushes so the id is known.

    :param company: the company name, required.
    :param currency: ISO 4217 code the customer is billed in.
    :param fields: any of CUSTOMER_FIELDS (and SUPERUSER_NAME_PARTS); a main contact given
        becomes the billing contact.
    """
    if not (company or "").strip():
        raise ValidationError("company", "is required")
    customer = Customer(currency="USD", company=company.strip())
    db.session.add(customer)  # before the billing contact is added to it
    update_customer(customer, company=company, currency=currency, **fields)
    return customer


def update_customer(customer: Customer, **fields) -> Customer:
    """Change a customer's fields (those given); validates company, currency, external_key.

    The superuser_* fields are written to the billing contact (created when missing).
    """
    is_new = customer.id is None  # create_customer: the webhook event is an insert
    unknown = (set(fields) - set(CUSTOMER_FIELDS) - set(SUPERUSER_FIELDS) - {"currency"}
               - set(EXTRA_CUSTOMER_FIELDS))
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a customer field")
    if fields.get("parent_customer_id") is not None:
        _check_parent(customer, fields["parent_customer_id"])
    if "custom_fields" in fields:
        fields["custom_fields"] = _custom_fields(customer, fields["custom_fields"])
    if "company" in fields and not (fields["company"] or "").strip():
        raise ValidationError("company", "is required")
    if "currency" in fields:
        minor_units(fields["currency"])  # rejects unknown currencies with a clear message
        fields["currency"] = fields["currency"].upper()
    ensure_unique(Customer, "external_key", fields.get("external_key"), customer.id)
    main = {name: fields.pop(name) for name in SUPERUSER_FIELDS if name in fields}
    for name, value in fields.items():
        setattr(customer, name, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    if main:
        _write_main_contact(customer, main)
    record_event(db.session, context="customer", context_id=customer.id,
                 event="insert" if is_new else "update")
    return customer


def _check_parent(customer: Customer, parent_id: int) -> None:
    """A parent must exist and must not be the customer or one of its children."""
    parent = db.session.get(Customer, parent_id) if 0 < parent_id < 2**31 else None
    if parent is None:
        raise ValidationError("parent_customer_id", f"no customer {parent_id}")
    seen = set()
    while parent is not None and parent.id not in seen:
        if customer.id is not None and parent.id == customer.id:
            raise ValidationError("parent_customer_id", "a customer cannot be its own parent")
        seen.add(parent.id)
        parent = db.session.get(Customer, parent.parent_customer_id) \
            if parent.parent_customer_id else None


def _custom_fields(customer: Customer, changes: dict) -> dict:
    """The customer's custom_1..custom_N after `changes` (None or "" clears one)."""
    merged = dict(customer.custom_fields or {})
    for name, value in changes.items():
        if name not in {f"custom_{n}" for n in range(1, CUSTOM_FIELD_COUNT + 1)}:
            raise ValidationError(name, f"custom fields are custom_1 to custom_{CUSTOM_FIELD_COUNT}")
        if value in (None, ""):
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def _main_contact_fields(main: dict) -> dict:
    """Contact fields from the customer's superuser_* values (empty text is None)."""
    main = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in main.items()}
    fields = {}
    if any(part in main for part in SUPERUSER_NAME_PARTS):
        fields.update(first_name=main.get("superuser_first_name"),
                      last_name=main.get("superuser_last_name"))
    elif "superuser_name" in main:
        first, _, last = (main["superuser_name"] or "").partition(" ")
        fields.update(first_name=first or None, last_name=last.strip() or None)
    if "superuser_email" in main:
        fields["email"] = main["superuser_email"]
    if "superuser_phone" in main:
        fields["phone"] = main["superuser_phone"]
    if "superuser_username" in main:
        fields["username"] = main["superuser_username"]
    return fields


def _write_main_contact(customer: Customer, main: dict) -> None:
    """Apply superuser_* values to the billing contact (another contact of the customer
    with that e-mail becomes the billing contact; none yet: one is added)."""
    fields = _main_contact_fields(main)
    contact = billing_contact(customer)
    email = (fields.get("email") or "").lower()
    same = next((c for c in customer.contacts if email and (c.email or "") == email), None)
    if same is not None and same is not contact:
        contact = set_billing_contact(same)
    if contact is None:
        if any(fields.values()):
            add_contact(customer, **fields)
        return
    if "email" in fields and not fields["email"] and contact.email:
        raise ValidationError("superuser_email", "is the address invoices are sent to and "
                              "cannot be emptied; change it or pick another billing contact")
    update_contact(contact, **fields)


def delete_customer(customer: Customer) -> None:
    """Delete a customer that has no packages and no invoices (else a clear refusal)."""
    for model, what in ((Package, "packages"), (Invoice, "invoices")):
        if db.session.scalar(select(exists().where(model.customer_id == customer.id))):
            raise ValidationError("customer_id", f"customer {customer.id} has {what} and cannot be deleted")
    record_event(db.session, context="customer", context_id=customer.id, event="delete")
    db.session.delete(customer)
    db.session.flush()


def add_contact(customer: Customer, **fields) -> Contact:
    """Add a contact (a person who may log into the customer portal) to `customer`.

    The customer's first contact becomes its billing contact.
    :param customer: the contact's customer.
    :param fields: any of CONTACT_FIELDS; `email` is the login (and, for the billing
        contact, the address invoices are sent to).
    """
    contact = Contact(customer=customer, is_billing_contact=billing_contact(customer) is None)
    db.session.add(contact)
    return update_contact(contact, **fields)


def update_contact(contact: Contact, **fields) -> Contact:
    """Change a contact's fields; the e-mail must be valid and not used by another contact."""
    is_new = contact.id is None  # add_contact: the webhook event is an insert
    unknown = set(fields) - set(CONTACT_FIELDS) - {"username"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a contact field")
    ensure_unique(Contact, "username", fields.get("username"), contact.id)
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
    if contact.is_billing_contact:
        _mirror_main_contact(contact.customer)
    record_event(db.session, context="user", context_id=contact.id, event="insert" if is_new else "update")
    return contact


def set_billing_contact(contact: Contact) -> Contact:
    """Make `contact` the one its customer's invoices are sent to; flushes."""
    if not contact.email:
        raise ValidationError("email", f"{contact.name or 'this contact'} has no e-mail address "
                              "to send invoices to")
    customer = contact.customer
    for other in customer.contacts:
        if other is not contact and other.is_billing_contact:
            other.is_billing_contact = False
    db.session.flush()  # the partial unique index allows one billing contact at a time
    contact.is_billing_contact = True
    db.session.flush()
    _mirror_main_contact(customer)
    return contact


def delete_contact(contact: Contact) -> Contact | None:
    """Delete a contact; the billing contact hands over to the customer's next contact with
    an e-mail address, and is refused when there is none.

    :returns: the billing contact afterwards.
    """
    customer = contact.customer
    others = [c for c in customer.contacts if c is not contact and c.email]
    successor = billing_contact(customer)
    if contact.is_billing_contact:
        successor = others[0] if others else None
        if successor is None and contact.email:
            raise ValidationError("contact_id", f"{contact.name or 'this contact'} receives the "
                                  "invoices; add another contact (with an e-mail address) "
                                  "before deleting this one")
    record_event(db.session, context="user", context_id=contact.id, event="delete")
    customer.contacts.remove(contact)
    db.session.flush()
    if successor is not None and not successor.is_billing_contact:
        set_billing_contact(successor)
    _mirror_main_contact(customer)
    return successor


def _mirror_main_contact(customer: Customer) -> None:
    """Copy the billing contact onto the customer's superuser_* fields."""
    contact = billing_contact(customer)
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p) if contact else ""
    customer.superuser_name = name or None
    customer.superuser_email = contact.email if contact else None
    customer.superuser_phone = contact.phone if contact else None
    db.session.flush()


def billing_contact(customer: Customer) -> Contact | None:
    """The contact invoices are sent to (the one flagged as billing contact), if any."""
    return next((c for c in customer.contacts if c.is_billing_contact), None)


def billing_email(customer: Customer) -> str | None:
    """The address invoices are sent to: the billing contact's e-mail, if any."""
    contact = billing_contact(customer)
    return contact.email if contact else None


def customer_by_token(token: str) -> Customer | None:
    """The customer whose token is `token` (ChargeOver's findByToken), else None."""
    return db.session.scalar(select(Customer).where(Customer.token == token[:32]))

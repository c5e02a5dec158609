"""Forms of customers and their contacts."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import Length

from portal.billing.money import MINOR_UNITS
from portal.merchant.forms_common import choices, text_or_none
from portal.models import Customer
from portal.services.customers import CONTACT_FIELDS, CUSTOMER_FIELDS


def _text(label: str, size: int = 255, **kwargs) -> StringField:
    return StringField(label, validators=[Length(max=size)], **kwargs)


class CustomerForm(FlaskForm):
    """A customer: company, keys, billing address and main contact."""

    company = _text("Company")
    external_key = _text("External key")
    currency = SelectField("Currency", choices=choices((c, c) for c in sorted(MINOR_UNITS)), default="USD")
    bill_addr1 = _text("Address line 1")
    bill_addr2 = _text("Address line 2")
    bill_addr3 = _text("Address line 3")
    bill_city = _text("City", 120)
    bill_state = _text("State / region", 120)
    bill_postcode = _text("Postcode", 40)
    bill_country = _text("Country", 120)
    superuser_name = _text("Billing contact name")
    superuser_email = EmailField("Billing contact e-mail", validators=[Length(max=255)])
    superuser_phone = _text("Billing contact phone", 60)


class ContactForm(FlaskForm):
    """A contact (a person of the customer who may log into the customer portal)."""

    first_name = _text("First name", 120)
    last_name = _text("Last name", 120)
    title = _text("Title", 120)
    email = EmailField("E-mail", validators=[Length(max=255)])
    phone = _text("Phone", 60)
    external_key = _text("External key")


def customer_fields(form: CustomerForm) -> dict:
    """The customer service's fields from the form (empty text is None)."""
    fields = {name: text_or_none(form[name].data) for name in CUSTOMER_FIELDS}
    fields["company"] = (form.company.data or "").strip()
    fields["currency"] = form.currency.data
    return fields


def contact_fields(form: ContactForm) -> dict:
    """The contact service's fields from the form (empty text is None)."""
    return {name: text_or_none(form[name].data) for name in CONTACT_FIELDS}


def customer_form_data(customer: Customer) -> dict:
    """A customer's current values as the form's initial data."""
    return {name: getattr(customer, name) for name in (*CUSTOMER_FIELDS, "currency")}


def contact_form_data(contact) -> dict:
    """A contact's current values as the form's initial data."""
    return {name: getattr(contact, name) for name in CONTACT_FIELDS}

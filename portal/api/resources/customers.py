"""`customer`: companies billed by the merchant."""
from __future__ import annotations

from portal.api.body import column_length, get_int, get_str
from portal.api.fields import custom_fields, policy
from portal.api.format import dt, money
from portal.api.query import Field, as_datetime, as_int, as_text
from portal.api.registry import Resource, register
from portal.models import Customer
from portal.services.balances import customer_balance_minor, invoiced_minor
from portal.services.customers import (
    CUSTOM_FIELD_COUNT, CUSTOMER_FIELDS, SHIP_FIELDS, SUPERUSER_NAME_PARTS, billing_contact,
    create_customer, customer_by_token, delete_customer, update_customer,
)

FIELDS = {
    "customer_id": Field(Customer.id, as_int),
    "company": Field(Customer.company, as_text),
    "external_key": Field(Customer.external_key, as_text),
    "token": Field(Customer.token, as_text),
    "parent_customer_id": Field(Customer.parent_customer_id, as_int),
    "superuser_email": Field(Customer.superuser_email, as_text),
    "superuser_name": Field(Customer.superuser_name, as_text),
    "bill_city": Field(Customer.bill_city, as_text),
    "bill_state": Field(Customer.bill_state, as_text),
    "bill_country": Field(Customer.bill_country, as_text),
    "bill_postcode": Field(Customer.bill_postcode, as_text),
    "ship_city": Field(Customer.ship_city, as_text),
    "ship_state": Field(Customer.ship_state, as_text),
    "ship_country": Field(Customer.ship_country, as_text),
    "ship_postcode": Field(Customer.ship_postcode, as_text),
    "currency_iso4217": Field(Customer.currency, as_text),
    "write_datetime": Field(Customer.created_at, as_datetime),
}
CUSTOM = custom_fields(CUSTOM_FIELD_COUNT)
NOT_STORED = "Meterbill does not store it"
POLICY = policy(
    "customer",
    stored=(*CUSTOMER_FIELDS, *SHIP_FIELDS, *SUPERUSER_NAME_PARTS, *CUSTOM, "currency_iso4217",
            "parent_customer_id", "superuser_username"),
    read_only=("customer_id", "superuser_id", "token", "total", "paid", "balance",
               "write_datetime", "display_as", "currency_symbol", "mod_datetime"),
    unsupported={
        "bill_notes": NOT_STORED, "ship_notes": NOT_STORED,
        "admin_id": "Meterbill has no account managers", "campaign_id": "Meterbill has no campaigns",
        "class_id": "Meterbill has no accounting classes", "brand_id": "Meterbill has no brands",
        "language_id": "invoices are in the merchant's language",
        "currency_id": "give currency_iso4217 instead",
        "terms_id": "payment terms are set in the merchant portal (per customer)",
        "no_taxes": "the tax rate is set in the merchant portal (per customer)",
        "no_dunning": "overdue reminders follow one schedule for every customer (merchant portal)",
        "tags": NOT_STORED, "invoice_delivery": "invoices are e-mailed to the billing contact",
        "dunning_delivery": "reminders are e-mailed to the billing contact",
        "customer_status": "a customer has no status in Meterbill",
        "superuser_title": "give the contact's title through the user object",
    })


def serialize(customer: Customer) -> dict:
    """A customer as ChargeOver returns it."""
    total, balance = invoiced_minor(customer), customer_balance_minor(customer)
    contact = billing_contact(customer)
    data = {name: getattr(customer, name) for name in (*CUSTOMER_FIELDS, *SHIP_FIELDS)}
    custom = customer.custom_fields or {}
    data.update({name: custom.get(name) for name in CUSTOM})
    data.update({
        "customer_id": customer.id,
        "parent_customer_id": customer.parent_customer_id,
        "token": customer.token,
        "superuser_id": contact.id if contact else None,
        "superuser_username": contact.username if contact else None,
        "currency_iso4217": customer.currency,
        "total": money(total, customer.currency),
        "paid": money(total - balance, customer.currency),
        "balance": money(balance, customer.currency),
        "write_datetime": dt(customer.created_at),
        "display_as": customer.company,
    })
    return data


def _fields(data: dict) -> dict:
    """Customer fields present in a request body, validated; the superuser_* ones write the
    customer's billing contact, custom_N go to the custom fields."""
    POLICY.check(data)
    fields = {name: get_str(data, name, max_length=column_length(Customer, name))
              for name in (*CUSTOMER_FIELDS, *SHIP_FIELDS) if name in data}
    for name in (*SUPERUSER_NAME_PARTS, "superuser_username"):
        if name in data:
            fields[name] = get_str(data, name, max_length=120 if name != "superuser_username" else 255)
    if data.get("currency_iso4217") is not None:
        fields["currency"] = get_str(data, "currency_iso4217", max_length=3)
    if "parent_customer_id" in data:
        fields["parent_customer_id"] = get_int(data, "parent_customer_id")
    custom = {name: get_str(data, name, max_length=1000) for name in CUSTOM if name in data}
    if custom:
        fields["custom_fields"] = custom
    return fields


def create(data: dict) -> Customer:
    """POST /customer: company required; the superuser becomes the billing contact."""
    fields = _fields(data)
    return create_customer(company=fields.pop("company", None) or "", **fields)


def update(customer: Customer, data: dict) -> None:
    """PUT /customer/N: change the fields given."""
    update_customer(customer, **_fields(data))


register(Resource(
    name="customer", model=Customer, id_field="customer_id", fields=FIELDS,
    serialize=serialize, create=create, update=update, delete=delete_customer, by_token=customer_by_token,
))

"""`customer`: companies billed by the merchant."""
from __future__ import annotations

from portal.api.body import column_length, get_str
from portal.api.format import dt, money
from portal.api.query import Field, as_datetime, as_int, as_text
from portal.api.registry import Resource, register
from portal.models import Customer
from portal.services.balances import customer_balance_minor, invoiced_minor
from portal.services.customers import (
    CUSTOMER_FIELDS, SUPERUSER_NAME_PARTS, billing_contact, create_customer, delete_customer,
    update_customer,
)

FIELDS = {
    "customer_id": Field(Customer.id, as_int),
    "company": Field(Customer.company, as_text),
    "external_key": Field(Customer.external_key, as_text),
    "superuser_email": Field(Customer.superuser_email, as_text),
    "superuser_name": Field(Customer.superuser_name, as_text),
    "bill_city": Field(Customer.bill_city, as_text),
    "bill_state": Field(Customer.bill_state, as_text),
    "bill_country": Field(Customer.bill_country, as_text),
    "bill_postcode": Field(Customer.bill_postcode, as_text),
    "currency_iso4217": Field(Customer.currency, as_text),
    "write_datetime": Field(Customer.created_at, as_datetime),
}


def serialize(customer: Customer) -> dict:
    """A customer as ChargeOver returns it."""
    total, balance = invoiced_minor(customer), customer_balance_minor(customer)
    contact = billing_contact(customer)
    data = {name: getattr(customer, name) for name in CUSTOMER_FIELDS}
    data.update({
        "customer_id": customer.id,
        "superuser_id": contact.id if contact else None,
        "currency_iso4217": customer.currency,
        "total": money(total, customer.currency),
        "paid": money(total - balance, customer.currency),
        "balance": money(balance, customer.currency),
        "write_datetime": dt(customer.created_at),
        "display_as": customer.company,
    })
    return data


def _fields(data: dict) -> dict:
    """Customer fields present in a request body, validated as strings; the superuser_*
    ones write the customer's billing contact."""
    fields = {name: get_str(data, name, max_length=column_length(Customer, name))
              for name in CUSTOMER_FIELDS if name in data}
    for name in SUPERUSER_NAME_PARTS:
        if name in data:
            fields[name] = get_str(data, name, max_length=120)
    if data.get("currency_iso4217") is not None:
        fields["currency"] = get_str(data, "currency_iso4217", max_length=3)
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
    serialize=serialize, create=create, update=update, delete=delete_customer,
))

"""`user`: contacts of customers (people who may log into the customer portal)."""
from __future__ import annotations

from portal.api.body import column_length, get_int, get_str
from portal.api.envelope import ApiError
from portal.api.format import dt
from portal.api.query import Field, as_int, as_text, get_by_id
from portal.api.registry import Resource, register
from portal.models import Contact, Customer
from portal.services.customers import CONTACT_FIELDS, add_contact, delete_contact, update_contact

FIELDS = {
    "user_id": Field(Contact.id, as_int),
    "customer_id": Field(Contact.customer_id, as_int),
    "email": Field(Contact.email, as_text),
    "first_name": Field(Contact.first_name, as_text),
    "last_name": Field(Contact.last_name, as_text),
    "external_key": Field(Contact.external_key, as_text),
}


def serialize(contact: Contact) -> dict:
    """A contact as ChargeOver's `user`."""
    data = {name: getattr(contact, name) for name in CONTACT_FIELDS}
    data.update({
        "user_id": contact.id,
        "customer_id": contact.customer_id,
        "name": contact.name,
        "display_as": contact.name,
        "write_datetime": dt(contact.created_at),
        "customers": [{"customer_id": str(contact.customer_id),
                       "company": contact.customer.company}],
    })
    return data


def _fields(data: dict) -> dict:
    fields = {name: get_str(data, name, max_length=column_length(Contact, name))
              for name in CONTACT_FIELDS if name in data}
    if "name" in data and "first_name" not in data:
        first, _, last = (get_str(data, "name") or "").partition(" ")
        fields.update(first_name=first or None, last_name=last or None)
    return fields


def create(data: dict) -> Contact:
    """POST /user: a contact of `customer_id` (required)."""
    customer_id = get_int(data, "customer_id", required=True)
    customer = get_by_id(Customer, customer_id)
    if customer is None:
        raise ApiError(400, f"customer_id: no customer {customer_id}", {"field": "customer_id"})
    return add_contact(customer, **_fields(data))


def update(contact: Contact, data: dict) -> None:
    """PUT /user/N."""
    update_contact(contact, **_fields(data))


def delete(contact: Contact) -> None:
    """DELETE /user/N (the billing contact hands over to another contact of the customer)."""
    delete_contact(contact)


register(Resource(
    name="user", model=Contact, id_field="user_id", fields=FIELDS, serialize=serialize,
    create=create, update=update, delete=delete,
))

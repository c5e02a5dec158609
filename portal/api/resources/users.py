"""`user`: contacts of customers (people who may log into the customer portal)."""
from __future__ import annotations

from portal.api.body import column_length, get_int, get_str
from portal.api.envelope import ApiError
from portal.api.fields import policy
from portal.api.format import dt
from portal.api.query import Field, as_int, as_text, get_by_id
from portal.api.registry import Resource, register
from portal.billing.errors import ValidationError
from portal.models import Contact, Customer
from portal.services.contact_access import link_for, send_password_link, set_contact_password
from portal.services.customers import CONTACT_FIELDS, add_contact, delete_contact, update_contact

FIELDS = {
    "user_id": Field(Contact.id, as_int),
    "customer_id": Field(Contact.customer_id, as_int),
    "email": Field(Contact.email, as_text),
    "username": Field(Contact.username, as_text),
    "first_name": Field(Contact.first_name, as_text),
    "last_name": Field(Contact.last_name, as_text),
    "external_key": Field(Contact.external_key, as_text),
}
POLICY = policy(
    "user",
    stored=(*CONTACT_FIELDS, "name", "username", "password", "customer_id"),
    read_only=("user_id", "display_as", "write_datetime", "customers", "mod_datetime"),
    unsupported={
        "middle_name_glob": "Meterbill stores a first and a last name",
        "name_suffix": "Meterbill stores a first and a last name",
        "user_type_id": "every contact of a customer has the same portal access",
        "phone_ext": "give the extension inside phone",
        "mobile": "Meterbill stores one phone number per contact",
        "fax": "Meterbill stores one phone number per contact",
    })


def serialize(contact: Contact) -> dict:
    """A contact as ChargeOver's `user`."""
    data = {name: getattr(contact, name) for name in CONTACT_FIELDS}
    data.update({
        "user_id": contact.id,
        "customer_id": contact.customer_id,
        "username": contact.username or contact.email,
        "name": contact.name,
        "display_as": contact.name,
        "write_datetime": dt(contact.created_at),
        "customers": [{"customer_id": str(contact.customer_id),
                       "company": contact.customer.company}],
    })
    return data


def _fields(data: dict) -> dict:
    POLICY.check(data)
    fields = {name: get_str(data, name, max_length=column_length(Contact, name))
              for name in (*CONTACT_FIELDS, "username") if name in data}
    if "name" in data and "first_name" not in data:
        first, _, last = (get_str(data, "name") or "").partition(" ")
        fields.update(first_name=first or None, last_name=last or None)
    return fields


def _password(contact: Contact, data: dict) -> None:
    """A password given with the user (ChargeOver's optional `password`)."""
    if data.get("password") not in (None, ""):
        set_contact_password(contact, get_str(data, "password", max_length=1000))


def create(data: dict) -> Contact:
    """POST /user: a contact of `customer_id` (required), with an optional password."""
    fields = _fields(data)
    customer_id = get_int(data, "customer_id", required=True)
    customer = get_by_id(Customer, customer_id)
    if customer is None:
        raise ApiError(400, f"customer_id: no customer {customer_id}", {"field": "customer_id"})
    contact = add_contact(customer, **fields)
    _password(contact, data)
    return contact


def update(contact: Contact, data: dict) -> None:
    """PUT /user/N."""
    fields = _fields(data)
    if "customer_id" in data and get_int(data, "customer_id") != contact.customer_id:
        raise ValidationError("customer_id", "a user cannot move to another customer")
    update_contact(contact, **fields)
    _password(contact, data)


def delete(contact: Contact) -> None:
    """DELETE /user/N (the billing contact hands over to another contact of the customer)."""
    delete_contact(contact)


def login(contact: Contact, data: dict) -> str:
    """POST user/N?action=login: a link (valid 10 minutes) that logs the user into the
    customer portal, as ChargeOver answers it (a URL)."""
    if not contact.is_active:
        raise ValidationError("user_id", f"user {contact.id} has no password yet: set one with "
                                         "reset_password (or the password field) first")
    return link_for(contact, "login")


def reset_password(contact: Contact, data: dict) -> bool:
    """POST user/N?action=reset_password: set `password` if given, else e-mail a link to
    choose one (a reset, or the invitation for a user who never had a password)."""
    POLICY_RESET.check(data)
    if data.get("password") not in (None, ""):
        set_contact_password(contact, get_str(data, "password", max_length=1000))
    else:
        send_password_link(contact)
    return True


POLICY_RESET = policy("reset_password", stored=("password",))

register(Resource(
    name="user", model=Contact, id_field="user_id", fields=FIELDS, serialize=serialize,
    create=create, update=update, delete=delete,
    actions={"login": login, "reset_password": reset_password},
))

"""The welcome e-mail of a package (ChargeOver's package action `welcome`)."""
from __future__ import annotations

from flask import render_template

from portal.billing.errors import ValidationError
from portal.models import EmailDelivery, Package
from portal.services import merchant_tz
from portal.services.customers import billing_contact
from portal.presentation.labels import VOCABULARIES
from portal.services.links import external_url
from portal.services.mail import queue_message
from portal.services.settings import ensure_settings


def queue_welcome(package: Package) -> EmailDelivery:
    """Queue the welcome e-mail of `package` to its customer's billing contact; flushes.

    :param package: the package (its lines are listed in the message).
    """
    customer = package.customer
    contact = billing_contact(customer)
    if contact is None or not contact.email:
        raise ValidationError("customer_id", f"customer {customer.id} has no billing contact "
                                             "with an e-mail address to welcome")
    merchant = ensure_settings()
    context = {
        "contact": contact, "customer": customer, "merchant": merchant,
        "lines": [line.descrip or line.item.name for line in package.line_items
                  if line.cancel_at is None],
        "cycle": VOCABULARIES["paycycle_unit"].get(package.paycycle, package.paycycle),
        "start": package.start_at.astimezone(merchant_tz()).date().isoformat(),
        "portal": external_url("customer.dashboard"),
    }
    subject = f"Welcome to {merchant.company_name}"
    return queue_message(contact.email, subject,
                         render_template("email/package_welcome.txt", **context),
                         render_template("email/package_welcome.html", **context))

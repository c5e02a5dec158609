"""The e-mails of a usage alert that fired: to the merchant and/or the customer's billing
contact, queued on the ordinary mail path (sent by the mail job)."""
from __future__ import annotations

from decimal import Decimal

from portal.billing.periods import Period
from portal.models import UsageAlert
from portal.services import merchant_tz
from portal.services.customers import billing_email
from portal.services.mail import queue_message
from portal.services.settings import ensure_settings


def describe(alert: UsageAlert, value: Decimal) -> tuple[str, str]:
    """(what is measured, the value and threshold in words)."""
    package, line = alert.package, alert.line_item
    what = (f"{line.descrip or line.item.name} (package {package.id})" if line is not None
            else f"package {package.nickname or package.id}")
    if alert.metric == "cost":
        currency = package.customer.currency
        return what, f"usage cost {value} {currency} (threshold {alert.threshold} {currency})"
    units = line.item.units_plural or line.item.units or "units" if line is not None else "units"
    return what, f"usage {value} {units} (threshold {alert.threshold})"


def notify(alert: UsageAlert, period: Period, value: Decimal) -> list[str]:
    """Queue the alert's e-mails; returns the addresses written to."""
    what, amount = describe(alert, value)
    customer = alert.package.customer
    start = period.start.astimezone(merchant_tz()).date().isoformat()
    subject = f"Usage alert: {what} reached its threshold"
    text = (f"The current period (from {start}) of {what} for {customer.company} has reached "
            f"{amount}.\n\nThis alert is sent once per period.\n")
    addresses = []
    if alert.notify_merchant and ensure_settings().email:
        addresses.append(ensure_settings().email)
    if alert.notify_customer and billing_email(customer):
        addresses.append(billing_email(customer))
    for address in dict.fromkeys(addresses):
        queue_message(address, subject, text)
    return addresses

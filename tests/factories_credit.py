"""A billed state with a credit note: two packages of one customer, one cancelled mid-October.

Hand computation (VoIP item: 10.00 USD base per month + 0.05 USD per minute, no usage, no
tax; both packages started 2015-09-01, monthly):
- run 2015-09-01: invoices #1 (package A) and #2 (package B), September's base, 10.00 each;
- run 2015-10-01: invoices #3 (A) and #4 (B), October's base 10.00 + September's usage 0;
  all four are paid (40.00), so the customer owes 0;
- package A cancelled at 2015-10-16 00:00 UTC: 15 of October's 31 days used, base target
  10.00 × 15/31 = 4.8387 → 4.84; already billed 10.00 → adjustment −5.16 (and October's
  usage up to the cancel, 0 minutes, 0.00): total −5.16 → credit note CN-0001 of 5.16;
  the customer's balance is 40.00 − 5.16 − 40.00 = −5.16 (in their favour).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from factories import make_customer, make_package, make_voip_item, utc
from portal.extensions import db
from portal.models import Customer, Invoice, Package
from portal.jobs.billing import run_billing
from portal.services.packages import cancel_package
from portal.services.payments import pay_invoice

CANCEL_AT = utc(2015, 10, 16)


@dataclass
class Credited:
    """The customer, its packages (A cancelled), its four paid invoices and the credit note."""

    customer: Customer
    cancelled: Package
    running: Package
    invoices: list[Invoice]
    credit_note: Invoice


def make_credited(company: str = "Acme Telephony", email: str = "jane@acme.example",
                  paid: int = 4) -> Credited:
    """The state of the module docstring, after the run of 2015-10-20 (see it).

    :param paid: how many of the four invoices are paid before the credit note (oldest first).
    """
    customer = make_customer(company=company, email=email)
    item = make_voip_item()
    cancelled, running = make_package(customer=customer, item=item), make_package(customer=customer, item=item)
    db.session.commit()
    ids = run_billing(utc(2015, 9, 1)).invoice_ids + run_billing(utc(2015, 10, 1)).invoice_ids
    invoices = [db.session.get(Invoice, i) for i in ids]
    for invoice in invoices[:paid]:
        pay_invoice(invoice, paid_on=date(2015, 10, 5), method="check")
    cancel_package(cancelled, at=CANCEL_AT)
    db.session.commit()
    credit_ids = run_billing(utc(2015, 10, 20)).invoice_ids
    assert len(credit_ids) == 1
    return Credited(customer, cancelled, running, invoices, db.session.get(Invoice, credit_ids[0]))

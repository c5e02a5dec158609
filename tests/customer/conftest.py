"""Customer portal fixtures: the October invoice of Acme (customer A, contact Jane) and a
second customer B (contact Bob), each able to log in; clients that carry the CSRF token."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from support.factories import make_customer, make_package, utc
from support.factories import make_october_invoice
from portal.models import Contact, Invoice, Package
from portal.services.billing import run_billing
from portal.services.contact_access import set_contact_password
from support.logins import BOB, CONTACT_PASSWORD, JANE, STAFF_PASSWORD
from support.portal_client import PortalClient, staff_login


@dataclass
class Acme:
    """Customer A's billed state: ChargeOver's October invoice ($28.05) and September's."""

    invoice: Invoice
    september: Invoice
    contact: Contact
    package: Package

    @property
    def line(self):
        return self.package.line_items[0]


@pytest.fixture
def acme(db) -> Acme:
    """Customer A (Acme Telephony, contact jane@acme.example with a password), billed to October 2015."""
    invoice = make_october_invoice()
    contact = db.session.query(Contact).filter_by(email=JANE).one()
    set_contact_password(contact, CONTACT_PASSWORD)
    db.session.commit()
    september = db.session.query(Invoice).filter(Invoice.customer_id == invoice.customer_id,
                                                 Invoice.id != invoice.id).one()
    return Acme(invoice, september, contact, db.session.get(Package, invoice.package_id))


@pytest.fixture
def bravo(db, acme):
    """Customer B (Bravo Networks, contact bob@bravo.example with a password), made after
    A: its own package billed to October 2015 ($10 base, no usage, each month)."""
    customer = make_customer(company="Bravo Networks", email=BOB)
    make_package(customer=customer)
    set_contact_password(customer.contacts[0], CONTACT_PASSWORD)
    db.session.commit()
    run_billing(utc(2015, 10, 1))
    return customer


@pytest.fixture
def anonymous(app, db) -> PortalClient:
    """A client nobody is logged into."""
    return PortalClient(app.test_client())


def _logged_in(app, email: str) -> PortalClient:
    client = PortalClient(app.test_client())
    response = client.login(email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def jane(app, acme) -> PortalClient:
    """Customer A's contact, logged in."""
    return _logged_in(app, JANE)


@pytest.fixture
def bob(app, bravo) -> PortalClient:
    """Customer B's contact, logged in."""
    return _logged_in(app, BOB)


@pytest.fixture
def admin(app, db) -> PortalClient:
    """A merchant admin, logged into the merchant portal."""
    from portal.services.accounts import create_staff_user

    create_staff_user(email="admin@merchant.example", password=STAFF_PASSWORD, role="admin")
    db.session.commit()
    client = app.test_client()
    assert staff_login(client, "admin@merchant.example").status_code == 302
    return PortalClient(client, "/merchant/login")

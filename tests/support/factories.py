"""Factories: each builds objects in the test database through the real services (flushed;
the billed states commit, as a billing run does). Sections: basic objects (ChargeOver's VoIP
item, a customer, a package); billed states (the October invoice, a credit note); invoices
whose settings changed afterwards; the two-tenant world of the authorization matrix.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from PIL import Image
from pypdf import PdfReader

from portal.billing.pricing import PriceModel
from portal.extensions import db
from portal.models import CsvImport, Customer, Invoice, Package
from portal.services.accounts import create_staff_user
from portal.services.apikeys import create_api_key
from portal.services.billing import run_billing
from portal.services.catalog import create_item, unit_price
from portal.services.contact_access import set_contact_password
from portal.services.customers import add_contact, create_customer, update_customer
from portal.services.links import invoice_token
from portal.services.packages import LineDraft, cancel_package, create_package
from portal.services.payments import Application, pay_invoice, record_payment
from portal.services.pdf import render_invoice_pdf
from portal.services.settings import ensure_settings, update_settings
from portal.services.usage import record_usage
from portal.services.usage_urls import issue_url, token_of
from support.logins import CONTACT_PASSWORD, STAFF_PASSWORD
from support.portal_client import contact_client, staff_client


def utc(*args) -> datetime:
    """An aware UTC datetime: utc(2015, 10, 1)."""
    return datetime(*args, tzinfo=timezone.utc)


def make_voip_item(**overrides):
    """ChargeOver's example item: $10 base per cycle plus $0.05 per metered minute."""
    fields = dict(
        name="VoIP minutes", is_metered=True, units="minute", units_plural="minutes",
        pricing=PriceModel(pricemodel="uni", base=Decimal("10.00"), tiers=unit_price("0.05")),
    )
    fields.update(overrides)
    return create_item(**fields)


def make_customer(company="Acme Telephony", email="jane@acme.example", **fields):
    """A customer with one contact."""
    customer = create_customer(company=company, **fields)
    add_contact(customer, email=email, first_name="Jane", last_name="Doe")
    return customer


def make_package(customer=None, item=None, start=None, **fields):
    """A monthly package of one line (the VoIP item unless given), started 2015-09-01."""
    customer = customer or make_customer()
    item = item or make_voip_item()
    return create_package(customer, [LineDraft(item=item)], start_at=start or utc(2015, 9, 1),
                          **fields)


# Billed states.

def make_october_invoice() -> Invoice:
    """ChargeOver's example: $10 base + 361 minutes × $0.05 → the $28.05 October invoice."""
    package = make_package()
    db.session.commit()
    record_usage({"line_item_id": package.line_items[0].id, "usage_value": "361",
                  "from": "2015-09-15 00:00:00"})
    db.session.commit()
    ids = run_billing(utc(2015, 10, 1)).invoice_ids
    return db.session.get(Invoice, ids[-1])


# The credited state: two packages of one customer, one cancelled mid-October. By hand (VoIP
# item: 10.00 USD base per month + 0.05 USD per minute, no usage, no tax; both packages started
# 2015-09-01, monthly): runs of 2015-09-01 and 2015-10-01 issue invoices #1-#4 of 10.00 each,
# all paid (40.00); package A cancelled at 2015-10-16 00:00 UTC uses 15 of October's 31 days:
# base target 10.00 × 15/31 = 4.84, billed 10.00 → credit note CN-0001 of 5.16; the customer's
# balance is 40.00 − 5.16 − 40.00 = −5.16 (in their favour).
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


# Issued invoices whose settings changed afterwards, and zero-total invoices.

# The merchant settings form, filled in (the settings page's fields as posted).
SETTINGS_FORM = {"company_name": "Meter Corp", "address": "1 Grid Road\nVolt City", "email": "billing@meter.example",
                 "phone": "", "default_currency": "EUR", "default_tax_rate": "8.25", "payment_terms_days": "15",
                 "accent_colour": "#0f766e", "footer_text": "Thank you!", "terms_text": "Pay within 15 days."}

def _png() -> bytes:
    """A small valid PNG (xhtml2pdf silently drops an image it cannot decode)."""
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (220, 38, 38)).save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()
OLD = {"company_name": "Northwind Telecom", "address": "1 Old Road\nOldtown", "email": "billing@northwind.example",
       "terms_text": "Pay within 30 days.", "footer_text": "Northwind · VAT GB123", "accent_colour": "#dc2626",
       "default_tax_rate": Decimal("0.0825")}
NEW = {"company_name": "Southwind Ltd", "address": "9 New Avenue\nNewcity", "email": "ar@southwind.example",
       "terms_text": "Cash only.", "footer_text": "Southwind · VAT GB999", "accent_colour": "#0f766e",
       "default_tax_rate": Decimal("0.2"), "payment_terms_days": 15}
ADDRESS = {"bill_addr1": "10 Main Street", "bill_addr2": "Suite 400", "bill_addr3": "Building B",
           "bill_city": "Springfield", "bill_state": "IL", "bill_postcode": "62701", "bill_country": "USA"}


def pdf_text(invoice) -> str:
    """The text of the invoice's PDF (pypdf)."""
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_invoice_pdf(invoice))).pages)


def issue_then_change(db):
    """An invoice issued with the OLD settings, then settings NEW and the customer edited."""
    update_settings(ensure_settings(), logo=PNG, **OLD)
    customer = make_customer(**ADDRESS)
    package = make_package(customer=customer)
    db.session.commit()
    first = db.session.get(Invoice, run_billing(utc(2015, 9, 1)).invoice_ids[-1])
    update_settings(ensure_settings(), remove_logo=True, **NEW)
    update_customer(customer, bill_addr1="77 Other Street", bill_city="Chicago", company="Acme Renamed")
    db.session.commit()
    return first, package


def zero_total_invoice(db):
    """The invoice of a usage-only package with no usage (total 0.00)."""
    item = make_voip_item(pricing=PriceModel(pricemodel="uni", tiers=unit_price("0.05")))  # usage only
    make_package(customer=make_customer("Zero Co", email="ap@zero.example"), item=item)
    db.session.commit()
    return db.session.get(Invoice, run_billing(utc(2015, 10, 1)).invoice_ids[-1])


# The world of the authorization matrix: tenants A and B, staff, an API key, an import.

@dataclass
class Tenant:
    """The ids of one customer's objects (and markers that must not leak elsewhere)."""

    company: str
    email: str
    customer_id: int = 0
    contact_id: int = 0
    package_id: int = 0
    line_id: int = 0
    invoice_id: int = 0
    refnumber: int = 0
    url_id: int = 0
    url_token: str = ""
    invoice_token: str = ""
    credit_note_id: int = 0


def build_tenant(item, company: str, email: str, minutes: str) -> Tenant:
    """One customer with a paid-in-part invoice, a credit note and a usage URL."""
    tenant = Tenant(company, email)
    customer = create_customer(company=company)
    contact = add_contact(customer, email=email, first_name=company.split()[0])
    set_contact_password(contact, CONTACT_PASSWORD)
    package = create_package(customer, [LineDraft(item=item)], start_at=utc(2015, 9, 1))
    line = package.line_items[0]
    record_usage({"line_item_id": line.id, "usage_value": minutes, "from": "2015-09-10 00:00:00"})
    run_billing(utc(2015, 10, 1))
    invoice = max((i for i in _tenant_invoices(customer.id)), key=lambda i: i.id)
    record_payment(customer, amount="5", paid_on=date(2015, 10, 5), method="check",
                   applications=[Application(invoice, Decimal("5"))])
    tenant.credit_note_id = build_credit_note(customer, item)
    usage_url = issue_url(line)
    tenant.customer_id, tenant.contact_id, tenant.package_id = customer.id, contact.id, package.id
    tenant.line_id, tenant.invoice_id, tenant.refnumber = line.id, invoice.id, invoice.refnumber
    tenant.url_id, tenant.url_token = usage_url.id, token_of(usage_url)
    tenant.invoice_token = invoice_token(invoice)
    return tenant


def _tenant_invoices(customer_id: int):
    return db.session.query(Invoice).filter_by(customer_id=customer_id, doc_type="invoice").all()


def build_credit_note(customer, item) -> int:
    """A second package, cancelled mid-October: its final run issues a credit note."""
    package = create_package(customer, [LineDraft(item=item)], start_at=utc(2015, 9, 1))
    run_billing(utc(2015, 10, 1))
    cancel_package(package, at=utc(2015, 10, 16))
    ids = run_billing(utc(2015, 10, 20)).invoice_ids
    assert len(ids) == 1
    return ids[0]


def build_world(app, db) -> dict:
    """Tenants A and B, staff, an API key and a CSV import; returns ids and role clients."""
    item = make_voip_item()
    world = {"A": build_tenant(item, "Alpha Telephony", "ann@alpha.example", "361"),
             "B": build_tenant(item, "Bravo Networks", "bob@bravo.example", "777")}
    world["item_id"] = item.id
    for role in ("admin", "viewer"):
        create_staff_user(email=f"{role}@merchant.example", password=STAFF_PASSWORD, role=role)
    key, _ = create_api_key("matrix")
    world["key_id"] = key.id
    upload = CsvImport(filename="usage.csv", stored_path="/nonexistent/usage.csv", status="done")
    db.session.add(upload)
    db.session.commit()
    world["import_id"] = upload.id
    world["clients"] = _clients(app, world)
    return world


def _clients(app, world) -> dict:
    return {"anonymous": app.test_client(),
            "contact_a": contact_client(app, world["A"].email),
            "contact_b": contact_client(app, world["B"].email),
            "viewer": staff_client(app, "viewer@merchant.example"),
            "admin": staff_client(app, "admin@merchant.example")}

"""Factories of issued invoices whose settings changed afterwards, and of zero-total invoices."""
from __future__ import annotations

import io
from decimal import Decimal

from PIL import Image
from pypdf import PdfReader

from factories import make_customer, make_package, make_voip_item, utc
from portal.billing.pricing import PriceModel
from portal.models import Invoice
from portal.jobs.billing import run_billing
from portal.services.catalog import unit_price
from portal.services.customers import update_customer
from portal.services.pdf import render_invoice_pdf
from portal.services.settings import ensure_settings, update_settings

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

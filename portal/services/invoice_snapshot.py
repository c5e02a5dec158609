"""What an invoice shows besides its lines, frozen when it is issued.

An issued invoice is a legal document: renaming the company, moving its address, changing
the terms, the tax default or the logo in the settings, or editing the customer, must not
change invoices already issued (web page, PDF, e-mail). `snapshot_invoice` records the
seller, the buyer and its full billing address, the billing contact, the terms, the tax
rate and the design in `invoices.snapshot` when the invoice is written; everything that
renders an invoice reads the snapshot. Logos are stored once by content (`invoice_logos`).
"""
from __future__ import annotations

import hashlib

from portal.extensions import db
from portal.models import Customer, Invoice, InvoiceLogo, MerchantSettings
from portal.services.customers import billing_contact
from portal.services.settings import ensure_settings

SNAPSHOT_VERSION = 1
SELLER_FIELDS = ("company_name", "address", "email", "phone")
BUYER_FIELDS = ("company", "external_key", "bill_addr1", "bill_addr2", "bill_addr3", "bill_city",
                "bill_state", "bill_postcode", "bill_country")


def terms_label(days: int) -> str:
    """"Due on receipt" or "Net 30"."""
    return "Due on receipt" if days == 0 else f"Net {days}"


def tax_label(rate) -> str:
    """A tax rate fraction as printed: 0.0825 → "8.25 %"."""
    text = f"{rate * 100:f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{text} %"


def stored_logo(settings: MerchantSettings) -> str | None:
    """The current logo's content hash, stored in invoice_logos if new (None without logo)."""
    if not settings.logo:
        return None
    digest = hashlib.sha256(settings.logo).hexdigest()
    if db.session.get(InvoiceLogo, digest) is None:
        db.session.add(InvoiceLogo(sha256=digest, mimetype=settings.logo_mimetype or "image/png",
                                   data=settings.logo))
        db.session.flush()
    return digest


def build_snapshot(invoice: Invoice, customer: Customer, settings: MerchantSettings,
                   logo: str | None) -> dict:
    """The snapshot of `invoice` from the current customer and settings.

    :param invoice: the invoice (its tax rate and terms are already set).
    :param customer: the invoice's customer, with its contacts.
    :param settings: the merchant settings.
    :param logo: the logo's content hash in invoice_logos, or None.
    """
    contact = billing_contact(customer)
    contact_name = " ".join(p for p in (contact.first_name, contact.last_name) if p) if contact else ""
    return {
        "version": SNAPSHOT_VERSION,
        "seller": {name: getattr(settings, name) for name in SELLER_FIELDS},
        "buyer": {name: getattr(customer, name) for name in BUYER_FIELDS},
        "contact": {"name": contact_name or None, "email": contact.email, "phone": contact.phone}
        if contact else None,
        "terms": {"days": invoice.terms_days, "label": terms_label(invoice.terms_days),
                  "text": settings.terms_text},
        "tax": {"rate": str(invoice.tax_rate), "label": tax_label(invoice.tax_rate)},
        "design": {"logo": logo, "accent_colour": settings.accent_colour or "#2563eb",
                   "footer_text": settings.footer_text},
    }


def snapshot_invoice(invoice: Invoice, customer: Customer,
                     settings: MerchantSettings | None = None) -> Invoice:
    """Freeze what `invoice` shows (called once, when the invoice is written).

    :param invoice: the new invoice.
    :param customer: its customer.
    :param settings: the merchant settings (read when not given).
    """
    settings = settings or ensure_settings()
    invoice.snapshot = build_snapshot(invoice, customer, settings, stored_logo(settings))
    return invoice


def snapshot_of(invoice: Invoice) -> dict:
    """The invoice's snapshot; for an invoice written without one, today's values (not stored)."""
    if invoice.snapshot:
        return invoice.snapshot
    customer = db.session.get(Customer, invoice.customer_id)
    return build_snapshot(invoice, customer, ensure_settings(), None) | {"live_logo": True}


def logo_image(snapshot: dict) -> tuple[bytes, str] | None:
    """The snapshot's logo as (bytes, MIME type), or None."""
    if snapshot.get("live_logo"):
        settings = ensure_settings()
        return (settings.logo, settings.logo_mimetype or "image/png") if settings.logo else None
    digest = (snapshot.get("design") or {}).get("logo")
    logo = db.session.get(InvoiceLogo, digest) if digest else None
    return (logo.data, logo.mimetype) if logo else None

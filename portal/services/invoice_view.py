"""What an invoice shows, computed once for the PDF, the HTML pages and the e-mail."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import select

from portal.billing.money import from_minor, minor_units, to_minor
from portal.billing.vocabulary import InvoiceStatus
from portal.extensions import db
from portal.models import Customer, Invoice, Item, MerchantSettings
from portal.presentation.formatting import format_money, format_quantity
from portal.presentation.labels import INVOICE_STATUS_LABELS, invoice_state, label
from portal.services.invoice_snapshot import build_snapshot, logo_image, snapshot_of
from portal.services.settings import ensure_settings



@dataclass(frozen=True)
class LineView:
    """One printed invoice line."""

    descrip: str
    quantity: str
    unit: str
    rate: str
    amount: str
    tiers: tuple[str, ...]
    is_adjustment: bool


def _line_view(line, currency: str, items: dict[int, Item]) -> LineView:
    item = items.get(line.item_id)
    unit = ""
    if item is not None and line.kind in ("usage", "quantity"):
        unit = item.units if line.line_quantity == 1 else (item.units_plural or item.units or "")
    rate = f"{line.line_rate:f}" if line.line_rate is not None else ""
    tiers = tuple(f"tier {t['tier'] + 1}: {format_quantity(Decimal(t['quantity']))} → "
                  f"{Decimal(t['amount']):.{minor_units(currency)}f}" for t in line.tiers or ())
    return LineView(line.descrip, format_quantity(line.line_quantity), unit or "", rate,
                    format_money(line.amount_minor, currency), tiers, line.is_adjustment)


def logo_data_uri(settings: MerchantSettings) -> str | None:
    """The merchant logo inlined as a data: URI (the settings page and its preview)."""
    if not settings.logo:
        return None
    return image_data_uri((settings.logo, settings.logo_mimetype or "image/png"))


def image_data_uri(image: tuple[bytes, str] | None) -> str | None:
    """(bytes, MIME type) as a data: URI (web pages and PDFs need no extra request)."""
    if image is None:
        return None
    return f"data:{image[1]};base64,{base64.b64encode(image[0]).decode()}"


def bill_to_lines(buyer: dict) -> list[str]:
    """The complete billing address as printed: lines 1-3, "City, State Postcode", country."""
    region = " ".join(p for p in (buyer.get("bill_state"), buyer.get("bill_postcode")) if p)
    place = ", ".join(p for p in (buyer.get("bill_city"), region) if p)
    parts = (buyer.get("bill_addr1"), buyer.get("bill_addr2"), buyer.get("bill_addr3"), place,
             buyer.get("bill_country"))
    return [p for p in parts if p]


def _parties(snapshot: dict, customer_id: int | None = None) -> dict:
    """The context of what the snapshot froze: seller, buyer, contact, terms, tax, design."""
    design, terms = snapshot["design"], snapshot["terms"]
    image = logo_image(snapshot)
    contact = snapshot.get("contact")
    return {
        "merchant": SimpleNamespace(**snapshot["seller"], footer_text=design.get("footer_text"),
                                    terms_text=terms.get("text")),
        "customer": SimpleNamespace(id=customer_id, **snapshot["buyer"]),
        "bill_to": bill_to_lines(snapshot["buyer"]),
        "contact": SimpleNamespace(**contact) if contact else None,
        "logo": image_data_uri(image), "logo_image": image,
        "accent": design.get("accent_colour") or "#2563eb",
        "terms": terms["label"], "tax_rate": snapshot["tax"]["label"],
    }


def _totals(invoice: Invoice) -> dict:
    c = invoice.currency
    return {
        "subtotal": format_money(invoice.subtotal_minor, c), "taxes": format_money(invoice.taxes_minor, c),
        "total": format_money(invoice.total_minor, c), "paid": format_money(invoice.paid_minor, c),
        "balance": format_money(invoice.balance_minor, c),
    }


def invoice_context(invoice: Invoice, snapshot: dict | None = None) -> dict:
    """Template context of one invoice, from its snapshot: parties, lines and totals as text.

    :param invoice: the invoice.
    :param snapshot: another snapshot to draw it with (the settings' design preview).
    """
    item_ids = {line.item_id for line in invoice.lines if line.item_id}
    items = {i.id: i for i in db.session.query(Item).filter(Item.id.in_(item_ids))} if item_ids else {}
    return {
        "invoice": invoice, **_parties(snapshot or snapshot_of(invoice), invoice.customer_id), **_totals(invoice),
        "status_label": label(invoice_state(invoice), "invoice_state"),
        "lines": [_line_view(line, invoice.currency, items) for line in invoice.lines],
    }


# The design preview's sample when no invoice exists yet: ChargeOver's $28.05 example.
SAMPLE_LINES = (("VoIP minutes: base fee", Decimal(1), "", Decimal("10.00"), Decimal("10.00")),
                ("VoIP minutes: usage", Decimal(361), "minutes", Decimal("0.05"), Decimal("18.05")))
DESIGN_FIELDS = ("company_name", "address", "email", "phone", "footer_text", "terms_text")
SAMPLE_BUYER = {"company": "Example Customer Inc.", "bill_addr1": "1 Sample Street",
                "bill_city": "Springfield", "bill_country": "USA"}


def sample_invoice_context(today: date) -> dict:
    """The latest invoice, or a sample invoice when none exists yet (not stored), drawn with
    the current settings (the design preview: issued invoices keep their own snapshot).

    :param today: the sample's date.
    """
    settings = ensure_settings()
    latest = db.session.scalar(select(Invoice).order_by(Invoice.id.desc()).limit(1))
    if latest is not None:
        customer = db.session.get(Customer, latest.customer_id)
        return invoice_context(latest, build_snapshot(latest, customer, settings, None) | {"live_logo": True})
    c, rate = settings.default_currency, settings.default_tax_rate
    subtotal = sum(to_minor(line[4], c) for line in SAMPLE_LINES)
    taxes = to_minor(from_minor(subtotal, c) * rate, c)
    invoice = Invoice(refnumber=1001, date=today, due_date=today + timedelta(days=settings.payment_terms_days),
                      status=InvoiceStatus.OPEN, cycle_pre_from_date=today,
                      cycle_post_to_date=today - timedelta(days=1),
                      cycle_pre_to_date=today + timedelta(days=30), cycle_post_from_date=today - timedelta(days=30),
                      currency=c, subtotal_minor=subtotal, taxes_minor=taxes, total_minor=subtotal + taxes,
                      paid_minor=0, tax_rate=rate, terms_days=settings.payment_terms_days)
    snapshot = build_snapshot(invoice, Customer(**SAMPLE_BUYER), settings, None) | {"live_logo": True}
    lines = [LineView(d, format_quantity(q), unit, f"{r:f}", format_money(to_minor(a, c), c), (), False)
             for d, q, unit, r, a in SAMPLE_LINES]
    return {"invoice": invoice, **_parties(snapshot), **_totals(invoice),
            "status_label": INVOICE_STATUS_LABELS[InvoiceStatus.OPEN], "lines": lines}


def design_preview_context(today: date, design: dict, logo: str | None, accent: str) -> dict:
    """A sample invoice's context shown with an unsaved invoice design (nothing is stored).

    :param design: merchant texts by DESIGN_FIELDS name (company_name, address, ...).
    :param logo: the logo to show, as a data: URI, or None.
    :param accent: the accent colour (#rrggbb).
    """
    context = sample_invoice_context(today)
    merchant = SimpleNamespace(**{name: design.get(name) or None for name in DESIGN_FIELDS})
    context.update(merchant=merchant, logo=logo, accent=accent)
    return context

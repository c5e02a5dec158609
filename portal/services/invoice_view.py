"""What an invoice shows, computed once for the PDF, the HTML pages and the e-mail."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import Decimal

from portal.billing.money import from_minor, minor_units
from portal.extensions import db
from portal.models import Customer, Invoice, Item, MerchantSettings
from portal.services.settings import ensure_settings

STATUS_LABELS = {"open-unpaid": "Unpaid", "closed-paid": "Paid", "void-void": "Void"}


def format_money(minor: int, currency: str) -> str:
    """"1,234.56 USD" style text of an amount in minor units."""
    places = minor_units(currency)
    return f"{from_minor(minor, currency):,.{places}f} {currency}"


def format_quantity(value: Decimal) -> str:
    """A quantity without trailing zeros ("361", "12.5")."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


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
    """The merchant logo inlined as a data: URI (PDFs and e-mails need no web request)."""
    if not settings.logo:
        return None
    encoded = base64.b64encode(settings.logo).decode()
    return f"data:{settings.logo_mimetype or 'image/png'};base64,{encoded}"


def invoice_context(invoice: Invoice) -> dict:
    """Template context of one invoice: merchant, customer, lines and totals as text."""
    settings = ensure_settings()
    customer = db.session.get(Customer, invoice.customer_id)
    item_ids = {line.item_id for line in invoice.lines if line.item_id}
    items = {i.id: i for i in db.session.query(Item).filter(Item.id.in_(item_ids))} if item_ids else {}
    c = invoice.currency
    return {
        "invoice": invoice, "customer": customer, "merchant": settings,
        "logo": logo_data_uri(settings), "accent": settings.accent_colour or "#2563eb",
        "status_label": STATUS_LABELS[invoice.status],
        "lines": [_line_view(line, c, items) for line in invoice.lines],
        "subtotal": format_money(invoice.subtotal_minor, c),
        "taxes": format_money(invoice.taxes_minor, c),
        "tax_rate": format_quantity(invoice.tax_rate * 100) + " %",
        "total": format_money(invoice.total_minor, c),
        "paid": format_money(invoice.paid_minor, c),
        "balance": format_money(invoice.balance_minor, c),
        "terms": "Due on receipt" if invoice.terms_days == 0 else f"Net {invoice.terms_days}",
    }

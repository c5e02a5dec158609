"""Money and quantities as text, and the Jinja filters of every page (registered once by
`create_app` through `register_filters`)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import Flask

from portal.billing.money import from_minor, minor_units, to_minor
from portal.billing.vocabulary import InvoiceStatus, PackageStatus
from portal.presentation import labels
from portal.presentation.errors import field_words, people_numbers
from portal.services import merchant_tz


def format_money(minor: int, currency: str) -> str:
    """"1,234.56 USD" style text of an amount in minor units."""
    places = minor_units(currency)
    return f"{from_minor(minor, currency):,.{places}f} {currency}"


def format_amount(amount: Decimal | None, currency: str) -> str:
    """An exact amount rounded half-up to the currency's minor unit, as "28.05 USD"."""
    return format_money(to_minor(amount or Decimal(0), currency), currency)


def format_quantity(value: Decimal) -> str:
    """A quantity without trailing zeros ("361", "12.5")."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money_minor(minor: int | None, currency: str) -> str:
    """Jinja: an amount in minor units as "1,234.56 USD"."""
    return format_money(minor or 0, currency)


def money_totals(totals: dict, default_currency: str = "USD") -> list[str]:
    """Jinja: {currency: minor} as formatted amounts ("0.00 USD" when empty)."""
    if not totals:
        return [format_money(0, default_currency)]
    return [format_money(minor, currency) for currency, minor in sorted(totals.items())]


def qty_text(value: Decimal | None) -> str:
    """Jinja: a quantity without trailing zeros ("" for none)."""
    return "" if value is None else format_quantity(value)


def price_text(value: Decimal | None) -> str:
    """Jinja: a catalog price or rate with at least 2 decimals, every further one kept
    exactly (0.2 → "0.20", 0.0125 → "0.0125"); "" for none. Catalog prices have no currency
    of their own, so no money rounding applies."""
    if value is None:
        return ""
    exponent = value.normalize().as_tuple().exponent
    shown = value.normalize() if isinstance(exponent, int) and exponent < -2 else value.quantize(Decimal("0.01"))
    return f"{shown:f}"


def local_datetime(instant: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Jinja: an aware instant in the merchant time zone; a time of day names its zone
    ("2015-10-01 09:00 CEST"), since staff and customers may be elsewhere."""
    if instant is None:
        return ""
    if "%H" in fmt and "%Z" not in fmt:
        fmt += " %Z"
    return instant.astimezone(merchant_tz()).strftime(fmt)


def local_date(instant: datetime | None) -> str:
    """Jinja: an instant's local date in the merchant time zone ("" for none)."""
    return "" if instant is None else instant.astimezone(merchant_tz()).date().isoformat()


FILTERS = {
    "money_minor": money_minor, "money_decimal": format_amount, "money_totals": money_totals,
    "qty_text": qty_text, "price_text": price_text, "local_datetime": local_datetime, "local_date": local_date,
    "label": labels.label, "invoice_state": labels.invoice_state,
    "field_words": field_words, "people_numbers": people_numbers,
}
# The customer portal's former names, while templates written against them are merged.
FILTERS |= {"portal_money": money_minor, "portal_amount": format_amount, "portal_qty": qty_text,
            "portal_date": local_date, "portal_label": labels.label,
            "portal_invoice_state": labels.invoice_state}


def register_filters(app: Flask) -> None:
    """Make every filter of FILTERS, and the status vocabularies, available to all templates."""
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(InvoiceStatus=InvoiceStatus, PackageStatus=PackageStatus)

"""Formatting shared by the portal's pages: Jinja filters (prefixed `portal_`) and price text."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import make_response, render_template, request

from portal.billing.money import to_minor
from portal.customer import bp
from portal.extensions import db
from portal.models import LineItem, MerchantSettings
from portal.services import labels, merchant_tz
from portal.services.catalog import pricemodel_of
from portal.services.invoice_view import STATUS_LABELS, format_money, format_quantity
from portal.web import render_page

PACKAGE_STATUS_LABELS = labels.VOCABULARIES["package_status"]
PAYCYCLE_WORDS = labels.VOCABULARIES["paycycle_unit"]


@bp.app_template_filter("portal_money")
def money_filter(minor: int | None, currency: str) -> str:
    """Jinja: minor units as "1,234.56 USD"."""
    return format_money(minor or 0, currency)


@bp.app_template_filter("portal_amount")
def amount_filter(amount: Decimal | None, currency: str) -> str:
    """Jinja: an exact amount rounded half-up to the currency, as "28.05 USD"."""
    return format_money(to_minor(amount or Decimal(0), currency), currency)


@bp.app_template_filter("portal_qty")
def quantity_filter(value: Decimal | None) -> str:
    """Jinja: a quantity without trailing zeros."""
    return "" if value is None else format_quantity(value)


@bp.app_template_filter("portal_date")
def date_filter(instant: datetime | None) -> str:
    """Jinja: an instant's local date in the merchant time zone ("" for none)."""
    return "" if instant is None else instant.astimezone(merchant_tz()).date().isoformat()


@bp.app_template_filter("portal_label")
def label_filter(code: str | None, vocabulary: str) -> str:
    """Jinja: the words for a stored code ("ach" → "Bank transfer (ACH)"); see services.labels."""
    return labels.label(code, vocabulary)


@bp.app_template_filter("portal_invoice_state")
def invoice_state_filter(invoice) -> str:
    """Jinja: paid, void, unpaid, partly-paid, overdue or overdue-partly-paid."""
    return labels.invoice_state(invoice)


@bp.context_processor
def portal_labels() -> dict:
    """Status words of invoices and packages, and the merchant's name, for portal templates."""
    return {"invoice_status_labels": STATUS_LABELS, "package_status_labels": PACKAGE_STATUS_LABELS,
            "paycycle_words": PAYCYCLE_WORDS, "portal_merchant_name": merchant_name}


def merchant_name() -> str:
    """The merchant's company name (read only: a page view never creates the settings row)."""
    settings = db.session.get(MerchantSettings, 1)
    return settings.company_name if settings is not None else "Meterbill"


def page_number() -> int:
    """The ?page= of the request (1 when missing or not a positive number)."""
    page = request.args.get("page", 1, type=int)
    return page if page and page > 0 else 1


def price_text(line: LineItem, currency: str) -> list[str]:
    """How a package line is priced, in a few short phrases ("0.05 USD per minute").

    :param line: the line (its item and price model are loaded as needed).
    :param currency: the customer's currency.
    """
    pm, item = pricemodel_of(line.tierset), line.item
    cycle = PAYCYCLE_WORDS.get(line.package.paycycle, "period")
    unit, units = item.units or "unit", item.units_plural or item.units or "units"
    money = lambda value: format_money(to_minor(value, currency), currency)  # noqa: E731
    parts = []
    if pm.pricemodel == "fla" or pm.base:
        parts.append(f"{money(pm.base)} per {cycle}" + (f" per {unit}" if pm.pricemodel == "fla" else ""))
    if pm.pricemodel == "uni":
        parts.append(f"{money(pm.tiers[0].amount)} per {unit}")
    elif pm.pricemodel == "pas":
        parts.append(f"the amount of {units} used")
    elif pm.pricemodel == "pkg":
        parts.append(f"{money(pm.tiers[0].amount)} per block of {format_quantity(pm.block_size)} {units}")
    elif pm.pricemodel != "fla":
        each = "" if pm.pricemodel == "stp" else f" per {unit}"  # a stair step is priced whole
        for tier in pm.tiers:
            upper = f"–{format_quantity(tier.unit_to)}" if tier.unit_to is not None else "+"
            parts.append(f"{format_quantity(tier.unit_from)}{upper} {units}: {money(tier.amount)}{each}"
                         + (f" + {money(tier.flat)}" if tier.flat else ""))
    if pm.minimum:
        parts.append(f"minimum {money(pm.minimum)} per {cycle}")
    if pm.setup:
        parts.append(f"setup {money(pm.setup)} once")
    return parts


def portal_page(full: str, partial: str, **context):
    """render_page, except that an HTMX history restore gets the full page it expects."""
    if getattr(request, "htmx", False) and request.htmx.history_restore_request:
        response = make_response(render_template(full, **context))
        response.headers.add("Vary", "HX-Request")
        return response
    return render_page(full, partial, **context)


@bp.errorhandler(404)
def not_found(_error):
    """The portal's own 404: the same page for a missing id and for another customer's."""
    return render_template("customer/not_found.html"), 404

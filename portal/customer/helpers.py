"""What the portal's pages share: status words and the merchant's name for templates, price
text, HTMX-aware pages and the 404 page (Jinja filters: `portal/presentation/formatting.py`)."""
from __future__ import annotations

from flask import make_response, render_template, request

from portal.billing.money import to_minor
from portal.customer import bp
from portal.extensions import db
from portal.models import LineItem, MerchantSettings
from portal.presentation.formatting import format_money, format_quantity
from portal.presentation.labels import VOCABULARIES
from portal.services.catalog import pricemodel_of
from portal.web import render_page

PAYCYCLE_WORDS = VOCABULARIES["paycycle_unit"]


@bp.context_processor
def portal_labels() -> dict:
    """The merchant's name, for portal templates (read when a page shows it)."""
    return {"portal_merchant_name": merchant_name}


def merchant_name() -> str:
    """The merchant's company name (read only: a page view never creates the settings row)."""
    settings = db.session.get(MerchantSettings, 1)
    return settings.company_name if settings is not None else "Meterbill"



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

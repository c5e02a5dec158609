"""The contact's packages: their lines and prices, this period's estimate, usage graphs."""
from __future__ import annotations

from flask import render_template, request

from portal.billing.money import to_minor
from portal.customer import bp
from portal.customer.access import customer_id, own_metered_line, own_package
from portal.customer.helpers import portal_page, price_text
from portal.db_types import utcnow
from portal.models import Package
from portal.presentation.figures import usage_figure_json
from portal.presentation.formatting import format_money
from portal.services.charts import choose_period, usage_series
from portal.services.estimates import estimate_current_period
from portal.services.self_service import all_packages


AGGREGATIONS = {"add": "sum of the period", "max": "maximum of the period", "lat": "latest value"}


@bp.get("/packages")
def packages():
    """Every package of the customer, current and past."""
    return render_template("customer/packages.html", packages=all_packages(customer_id()))


def _package_context(package: Package) -> dict:
    """The package page's context: lines with their prices, and the estimate as of now."""
    currency = package.customer.currency
    lines = [(line, price_text(line, currency)) for line in package.line_items]
    return {"package": package, "lines": lines, "currency": currency,
            "estimate": estimate_current_period(package, utcnow())}


@bp.get("/packages/<int:package_id>")
def package(package_id: int):
    """A package: its lines, how they are priced, and this period's estimate."""
    return render_template("customer/package.html", **_package_context(own_package(package_id)))


@bp.get("/packages/<int:package_id>/estimate")
def package_estimate(package_id: int):
    """The estimate recomputed as of now (HTMX swaps it in place; else the package page)."""
    return portal_page("customer/package.html", "partials/customer_estimate.html",
                       **_package_context(own_package(package_id)))


@bp.get("/lines/<int:line_id>/usage")
def line_usage(line_id: int):
    """A metered line's usage graph for one billing period (HTMX swaps periods in place)."""
    line = own_metered_line(line_id)
    choice = choose_period(line, request.args.get("period", type=int))
    series = usage_series(line, choice.period)
    units = line.item.units_plural or line.item.units or "units"
    cost_text = format_money(to_minor(series.cost, series.currency), series.currency)
    return portal_page("customer/usage.html", "partials/customer_usage_body.html",
                       line=line, package=line.package, choice=choice, series=series, units=units,
                       cost_text=cost_text, aggregation=AGGREGATIONS[series.usage_type],
                       figure_json=usage_figure_json(series, units, cost_text,
                                                     ended=choice.next_index is not None))

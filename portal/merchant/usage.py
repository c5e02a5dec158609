"""Usage of a metered package line: a Plotly graph of one billing period and its records.

GET /merchant/lines/<id>/usage?period=<index>&page=<n>. The full page, or for HTMX either
the page body (period navigation) or only the records table (HX-Target `usage-records`,
its pagination), so paging the table never re-runs the chart query.
"""
from __future__ import annotations

from flask import abort, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.presentation.figures import usage_figure_json
from portal.presentation.formatting import format_money
from portal.billing.money import to_minor
from portal.extensions import db
from portal.merchant import bp
from portal.models import LineItem, Package, UsageRecord
from portal.services.charts import choose_period, usage_series
from portal.web import page_number, render_page

PAGE_SIZE = 50
RECORDS_TARGET = "usage-records"
AGGREGATIONS = {"add": "sum of the period", "max": "maximum of the period", "lat": "latest value"}


def _line(line_id: int) -> LineItem:
    """A metered line with what the page shows of it; 404 for other lines."""
    line = db.session.scalar(
        select(LineItem).where(LineItem.id == line_id)
        .options(selectinload(LineItem.item), selectinload(LineItem.package).selectinload(Package.customer))
    )
    if line is None or not line.item.is_metered:
        abort(404)
    return line



def records_page(line: LineItem, period, page: int) -> tuple[list[UsageRecord], bool]:
    """One page of the period's records, newest first, and whether another page follows
    (read with one extra row: no COUNT over millions of records)."""
    stmt = (select(UsageRecord)
            .where(UsageRecord.line_item_id == line.id, UsageRecord.from_at >= period.start,
                   UsageRecord.from_at < period.end)
            .order_by(UsageRecord.from_at.desc(), UsageRecord.id.desc())
            .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1))
    rows = list(db.session.scalars(stmt))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


@bp.get("/lines/<int:line_id>/usage")
def line_usage(line_id: int):
    """A line's usage in one billing period: graph, cost so far, records."""
    line = _line(line_id)
    choice = choose_period(line, request.args.get("period", type=int))
    page = page_number()
    records, has_next = records_page(line, choice.period, page)
    context = dict(line=line, package=line.package, customer=line.package.customer, choice=choice,
                   records=records, page=page, has_next=has_next, records_target=RECORDS_TARGET)
    if request.htmx and request.htmx.target == RECORDS_TARGET:
        return render_page("merchant/usage.html", "partials/merchant_usage_records.html", **context)
    series = usage_series(line, choice.period)
    units = line.item.units_plural or line.item.units or "units"
    cost_text = format_money(to_minor(series.cost, series.currency), series.currency)
    figure = usage_figure_json(series, units, cost_text, ended=choice.next_index is not None)
    return render_page("merchant/usage.html", "partials/merchant_usage_body.html", series=series,
                       figure_json=figure, units=units, cost_text=cost_text,
                       aggregation=AGGREGATIONS[series.usage_type], **context)

"""The Plotly figures of the graphs (a line's usage, the dashboard's revenue) as JSON for the
browser, with exact numbers; the services give the data (`services/charts.py`, `reports.py`).

Plotly must get numbers, not strings: numeric text makes plotly.js type an axis as
categories ("0", "300", "61.5" in order of appearance), so a 61.5 bar is drawn above a 300
one. Python's Plotly encoder would turn a Decimal into a float; simplejson writes the
Decimal's own digits as a JSON number (61.5 stays 61.5), so no float is made here and the
browser parses exactly the figure the page prints. Axes carrying values are declared
`linear` so no input can make them categorical.
"""
from __future__ import annotations

from datetime import date, timedelta

import simplejson

from portal.billing.money import from_minor
from portal.billing.periods import local_floor_date
from portal.db_types import utcnow
from portal.presentation.formatting import format_money, format_quantity
from portal.services import merchant_tz

DAY_SECONDS = 86400

# Inside <script type="application/json">, "</script>" must not appear: only strings can
# hold these characters, and their \u escapes keep the JSON valid.
_SCRIPT_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"))


def figure_json(figure) -> str:
    """A figure (`go.Figure` or its dict) as JSON whose Decimals are exact JSON numbers,
    safe inside a `<script type="application/json">` element or an HTML attribute value.

    :param figure: the figure; data values may be Decimals (never floats are needed).
    """
    as_dict = figure.to_plotly_json() if hasattr(figure, "to_plotly_json") else figure
    text = simplejson.dumps(as_dict, use_decimal=True, separators=(",", ":"))
    for char, escaped in _SCRIPT_ESCAPES:
        text = text.replace(char, escaped)
    return text


_SERIES_NAMES = {  # (bars, cumulative line) by the item's aggregation
    "add": ("Usage per day", "Billable total so far"),
    "max": ("Daily maximum", "Billable maximum so far"),
    "lat": ("Latest reading of the day", "Billable latest reading"),
}


def usage_figure_json(series, units: str, cost_text: str, today: date | None = None,
                      ended: bool = False) -> str:
    """The Plotly figure (data, layout, config) of a series as JSON that is safe inside a
    `<script type="application/json">` element.

    :param series: a `services.charts.UsageSeries`.
    :param units: the item's plural unit name, for the axes.
    :param cost_text: the formatted cost so far, shown on the graph.
    :param today: the merchant's local date (default: now); the cumulative line stops there.
    :param ended: whether the period is over (a later one exists): its cost is then the
        period's, not "so far".
    """
    import plotly.graph_objects as go

    # The cumulative line stops at today (or at the last day with usage, if later).
    today = today or local_floor_date(utcnow(), merchant_tz())
    last = max([today] + [b.day for b in series.days if b.records])
    bars_name, line_name = _SERIES_NAMES[series.usage_type]
    # Values go out as exact JSON numbers (see figure_json); the hover shows
    # the exact decimal text, carried in customdata.
    x = [bucket.day.isoformat() for bucket in series.days]
    period = dict(xperiod=DAY_SECONDS * 1000, xperiodalignment="middle")
    shown = [bucket.day <= last for bucket in series.days]
    figure = go.Figure([
        go.Bar(x=x, y=[b.value for b in series.days], name=bars_name, marker_color="#2563eb",
               customdata=[[format_quantity(b.value), b.records] for b in series.days],
               hovertemplate="%{customdata[0]} " + units + " (%{customdata[1]} records)<extra></extra>",
               **period),
        go.Scatter(x=x, y=[b.cumulative if keep else None for b, keep in zip(series.days, shown, strict=True)],
                   customdata=[format_quantity(b.cumulative) for b in series.days],
                   hovertemplate="%{customdata} " + units + "<extra>" + line_name + "</extra>",
                   name=line_name, yaxis="y2", mode="lines+markers",
                   line=dict(color="#f59e0b", width=2), **period),
    ])
    figure.update_layout(_layout(series, units, cost_text, ended))
    return f'{{"figure": {figure_json(figure)}, "config": {{"displaylogo": false, "responsive": true}}}}'


def _layout(series, units: str, cost_text: str, ended: bool) -> dict:
    """Axes, the period boundaries as dashed lines, and the cost (so far, or of a period
    that has ended)."""
    start, end = series.days[0].day.isoformat(), (series.days[-1].day + timedelta(days=1)).isoformat()
    cost_label = "Cost of the period" if ended else "Cost so far"
    boundary = dict(type="line", xref="x", yref="paper", y0=0, y1=1,
                    line=dict(color="#6b7280", dash="dash", width=1))
    label = dict(xref="x", yref="paper", y=1.0, yanchor="bottom", showarrow=False,
                 font=dict(size=11, color="#6b7280"))
    return dict(
        height=400, margin=dict(l=60, r=60, t=100, b=40), bargap=0.15,
        paper_bgcolor="#fff", plot_bgcolor="#fff", hovermode="x unified",
        font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"),
        legend=dict(orientation="h", x=0, y=1.1, yanchor="bottom"),
        xaxis=dict(type="date", range=[start, end], showgrid=False),
        yaxis=dict(type="linear", title=dict(text=units), rangemode="tozero", gridcolor="#e5e7eb"),
        yaxis2=dict(type="linear", title=dict(text=f"{units} (cumulative)"), overlaying="y", side="right",
                    rangemode="tozero", showgrid=False),
        shapes=[dict(boundary, x0=start, x1=start), dict(boundary, x0=end, x1=end)],
        annotations=[dict(label, x=start, xanchor="left", text="Period start"),
                     dict(label, x=end, xanchor="right", text="Period end"),
                     # Above the legend (not beside it): on a phone the two would overlap.
                     dict(xref="paper", yref="paper", x=1, y=1.3, yanchor="bottom",
                          xanchor="right", showarrow=False, text=f"<b>{cost_label}: {cost_text}</b>")],
    )


def revenue_figure_json(months: list) -> str:
    """The Plotly figure (bars of invoiced and collected per month) as JSON text.

    :param months: `services.reports.MonthRevenue` rows.
    Amounts travel as exact JSON numbers on a linear axis; the hover shows them formatted.
    """
    import plotly.graph_objects as go

    figure = go.Figure()
    for currency in dict.fromkeys(m.currency for m in months):
        rows = [m for m in months if m.currency == currency]
        labels = [m.month.strftime("%b %Y") for m in rows]
        for name, attr, colour in (("Invoiced", "invoiced_minor", "#2563eb"),
                                   ("Collected", "collected_minor", "#16a34a")):
            minors = [getattr(m, attr) for m in rows]
            figure.add_bar(name=f"{name} ({currency})", x=labels, y=[from_minor(v, currency) for v in minors],
                           customdata=[format_money(v, currency) for v in minors], marker_color=colour,
                           hovertemplate="%{x}: %{customdata}<extra>" + name + "</extra>")
    # The legend above the plot and automargin: on a phone the month labels turn upright and
    # take the room below (a legend there would overlap and clip them).
    figure.update_layout(barmode="group", margin=dict(l=50, r=10, t=30, b=40), height=320,
                         legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
                         xaxis=dict(type="category", automargin=True),
                         yaxis=dict(type="linear", rangemode="tozero"),
                         paper_bgcolor="#ffffff", plot_bgcolor="#ffffff")
    return figure_json(figure)

"""The usage page of a package line: graph data, cost so far, records, navigation."""
from __future__ import annotations

import json
import re
from decimal import Decimal
from unittest import mock

import pytest

from support.factories import make_package, make_voip_item, utc
from portal.extensions import db as _db
from portal.models import UsageRecord
from portal.services.packages import LineDraft, create_package
from portal.merchant import usage as usage_view

NOW = utc(2015, 10, 20, 12)


@pytest.fixture(autouse=True)
def frozen_now():
    """The page's default period is the one containing now: freeze it in October 2015."""
    with mock.patch("portal.services.charts.utcnow", return_value=NOW):
        yield


def _line(db, records=()):
    line = make_package(start=utc(2015, 9, 1)).line_items[0]
    for value, at, source in records:
        db.session.add(UsageRecord(line_item_id=line.id, usage_value=Decimal(value), from_at=at,
                                   to_at=at, source=source, external_key=None))
    db.session.commit()
    return line


def _figure(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="usage-figure-\d+">(.*?)</script>', page, re.S)
    assert match, "no figure JSON on the page"
    return json.loads(match.group(1), parse_float=Decimal)


def test_page_shows_graph_cost_and_records_with_sources(admin, db):
    line = _line(db, [("100", utc(2015, 10, 2, 9), "api"), ("20", utc(2015, 10, 2, 10), "csv"),
                      ("5", utc(2015, 10, 19), "url"), ("999", utc(2015, 9, 5), "bulk")])
    response = admin.get(f"/merchant/lines/{line.id}/usage")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert "<html" in page and "plotly.min.js" in page and "js/usage_chart.js" in page
    assert "01 Oct 2015 – 31 Oct 2015" in page
    assert 'id="usage-cost">6.25 USD' in page  # 125 minutes × 0.05
    assert "Cost so far" in page and "Cost of the period" not in page  # the current period
    assert _figure(page)["figure"]["layout"]["annotations"][-1]["text"] == "<b>Cost so far: 6.25 USD</b>"
    assert "125" in page and "usage-source-csv" in page and "usage-source-url" in page
    assert "999" not in page  # September's record is in another period
    bars = _figure(page)["figure"]["data"][0]
    # JSON numbers (a string would make the axis categorical), written exactly.
    assert bars["y"][1] == 120 and bars["y"][18] == 5 and len(bars["y"]) == 31
    assert bars["customdata"][1] == ["120", 2]  # the hover's exact text and record count
    assert "<script>" not in page  # CSP: nothing inline


def test_previous_period_navigation_and_clamping(admin, db):
    line = _line(db, [("999", utc(2015, 9, 5), "bulk")])
    page = admin.get(f"/merchant/lines/{line.id}/usage?period=0").get_data(as_text=True)
    assert "01 Sep 2015 – 30 Sep 2015" in page and "49.95 USD" in page
    assert "Cost of the period" in page and "Cost so far" not in page  # September has ended
    assert _figure(page)["figure"]["layout"]["annotations"][-1]["text"] == "<b>Cost of the period: 49.95 USD</b>"
    assert f"/merchant/lines/{line.id}/usage?period=1" in page  # next
    assert 'usage-prev" aria-disabled' in page.replace("is-disabled ", "")  # no earlier period
    later = admin.get(f"/merchant/lines/{line.id}/usage?period=7").get_data(as_text=True)
    assert "01 Oct 2015 – 31 Oct 2015" in later  # clamped to the current period


def test_htmx_gets_the_body_or_only_the_records(admin, db):
    line = _line(db, [(str(n), utc(2015, 10, 1, 0, n), "api") for n in range(1, 60)])
    body = admin.get(f"/merchant/lines/{line.id}/usage?period=1", htmx=True).get_data(as_text=True)
    assert "<html" not in body and "usage-figure-" in body and 'id="usage-records"' in body
    with mock.patch.object(usage_view, "usage_series", side_effect=AssertionError("chart query")):
        response = admin.client.get(f"/merchant/lines/{line.id}/usage?period=1&page=2",
                                    headers={"HX-Request": "true", "HX-Target": "usage-records"})
    table = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in table and "usage-figure" not in table
    assert "Page 2" in table and "← Newer" in table and "Older →" not in table
    assert table.count("<tr>") == 1 + 9  # header + the 9 oldest of 59 records


def test_viewer_may_read_usage(viewer, db):
    line = _line(db)
    response = viewer.get(f"/merchant/lines/{line.id}/usage")
    assert response.status_code == 200 and "No usage recorded in this period." in response.get_data(as_text=True)


def test_unknown_or_unmetered_line_is_404(admin, db):
    item = make_voip_item(name="Seat", is_metered=False)
    package = create_package(make_package().customer, [LineDraft(item=item)], start_at=utc(2015, 9, 1))
    _db.session.commit()
    assert admin.get("/merchant/lines/9999/usage").status_code == 404
    assert admin.get(f"/merchant/lines/{package.line_items[0].id}/usage").status_code == 404


@pytest.mark.parametrize("query, period, cost, record", [
    ("page=-3", "01 Oct 2015 – 31 Oct 2015", "0.35 USD", "7"),  # page 1 of the current period
    ("page=abc", "01 Oct 2015 – 31 Oct 2015", "0.35 USD", "7"),
    ("period=x", "01 Oct 2015 – 31 Oct 2015", "0.35 USD", "7"),
    ("period=-1&page=0", "01 Sep 2015 – 30 Sep 2015", "49.95 USD", "999"),  # clamped to the first
])
def test_bad_page_and_period_parameters_fall_back(admin, db, query, period, cost, record):
    line = _line(db, [("7", utc(2015, 10, 2, 9), "api"), ("999", utc(2015, 9, 5), "bulk")])
    response = admin.get(f"/merchant/lines/{line.id}/usage?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert period in page and f'id="usage-cost">{cost}' in page
    rows = re.findall(r"<tr>.*?</tr>", page.split('id="usage-records"')[1], re.S)
    assert len(rows) == 2 and f">{record}<" in rows[1]  # header + the period's one record

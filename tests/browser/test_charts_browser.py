"""The graphs tell the truth: Plotly draws values on a linear axis, so bar heights order like
the values (a 61.5 bar below a 300 bar), in the merchant and the customer portal and on the
dashboard's revenue chart. Read from the figure Plotly rendered in real Chromium."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from support.factories import make_package, utc
from playwright.sync_api import expect

from portal.models import UsageRecord
from portal.services.accounts import create_staff_user
from portal.services.contact_access import set_contact_password
from portal.services.payments import record_payment
from portal.services.reports import month_start

pytestmark = pytest.mark.slow
STAFF, STAFF_PASSWORD = "charts@shop.example", "charts-browser-pass"
JANE, JANE_PASSWORD = "jane@acme.example", "jane-charts-pass"

# What Plotly drew: the y axis type, and for each trace its values and its bars' heights.
READ_FIGURE = """gd => ({
  type: gd._fullLayout.yaxis.type,
  traces: Array.from(gd.querySelectorAll('.barlayer .trace')).map(trace =>
    Array.from(trace.querySelectorAll('.point path')).map(p => p.getBBox().height)),
  y: gd.data.map(trace => trace.y),
})"""


@pytest.fixture
def chart_data(db):
    """September 2015: 300 minutes on the 2nd, 61.5 on the 3rd; a merchant and Jane can log in;
    payments of 61.50 last month and 300.00 this month (the revenue chart)."""
    package = make_package(start=utc(2015, 9, 1))
    line = package.line_items[0]
    for value, day in (("300", 2), ("61.5", 3)):
        db.session.add(UsageRecord(line_item_id=line.id, usage_value=Decimal(value), from_at=utc(2015, 9, day, 12),
                                   to_at=utc(2015, 9, day, 12), source="api", external_key=None))
    today = date.today()
    record_payment(package.customer, amount="61.50", paid_on=month_start(today, 1))
    record_payment(package.customer, amount="300.00", paid_on=today)
    set_contact_password(package.customer.contacts[0], JANE_PASSWORD)
    create_staff_user(email=STAFF, password=STAFF_PASSWORD, role="admin")
    db.session.commit()
    return line


def log_in(page, path: str, email: str, password: str):
    page.goto(path)
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_be_visible()


def drawn(page, selector: str) -> dict:
    chart = page.locator(selector)
    expect(chart.locator(".barlayer .point").first).to_be_attached()
    return chart.evaluate(READ_FIGURE)


def assert_usage_bars_order_like_values(figure: dict):
    assert figure["type"] == "linear"
    assert figure["y"][0][1] == 300 and figure["y"][0][2] == 61.5  # numbers, not "300" / "61.5"
    heights = figure["traces"][0]
    assert heights[1] > heights[2] > 0, heights  # 300 above 61.5
    assert heights[1] / heights[2] == pytest.approx(300 / 61.5, rel=0.02)


def test_bars_are_as_tall_as_their_values(page, chart_data):
    log_in(page, "/merchant/login", STAFF, STAFF_PASSWORD)
    revenue = drawn(page, "[data-plotly]")
    assert revenue["type"] == "linear"
    collected = revenue["traces"][1]  # Invoiced, Collected: the last two months
    assert revenue["y"][1][-2:] == [61.5, 300] and collected[-1] > collected[-2] > 0, collected
    page.goto(f"/merchant/lines/{chart_data.id}/usage?period=0")
    assert_usage_bars_order_like_values(drawn(page, ".usage-chart"))
    log_in(page, "/portal/login", JANE, JANE_PASSWORD)
    page.goto(f"/portal/lines/{chart_data.id}/usage?period=0")
    assert_usage_bars_order_like_values(drawn(page, ".cp-chart"))

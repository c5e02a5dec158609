"""Dashboard: revenue this and last month, open balance, usage, due invoices, activity, chart."""
import json
import re
from datetime import date
from decimal import Decimal

import pytest

from support.factories import make_customer, make_package, utc
from support.factories import make_october_invoice
from portal.extensions import db as _db
from portal.services import reports
from portal.jobs.billing import run_billing
from portal.services.payments import pay_invoice
from portal.services.usage import record_usage


@pytest.fixture
def october_20(monkeypatch):
    """The dashboard is looked at on 2015-10-20 (12:00 UTC)."""
    monkeypatch.setattr("portal.merchant.dashboard.utcnow", lambda: utc(2015, 10, 20, 12))


def test_empty_dashboard_explains_what_to_do(admin, db):
    page = admin.get("/merchant/").get_data(as_text=True)
    assert "Nothing billed yet." in page and "flask seed-demo" in page
    cards = dict(re.findall(r'<div class="muted">([^<]+)</div>\s*<div class="card-figure">([^<]+)<', page))
    assert cards == {"Invoiced this month": "0.00 USD", "Collected this month": "0.00 USD",
                     "Open balance": "0.00 USD"}
    assert "0 open invoices" in page and page.count("Last month: 0.00 USD") == 2


def test_revenue_balance_due_and_activity(viewer, db, october_20):
    invoice = make_october_invoice()  # 10.00 dated 2015-09-01, 28.05 dated 2015-10-01
    pay_invoice(invoice, paid_on=date(2015, 10, 5), amount="8.05", method="check")
    _db.session.commit()
    page = viewer.get("/merchant/").get_data(as_text=True)
    invoiced = re.search(r"Invoiced this month</div>\s*<div class=\"card-figure\">([^<]+)<", page).group(1)
    collected = re.search(r"Collected this month</div>\s*<div class=\"card-figure\">([^<]+)<", page).group(1)
    assert (invoiced, collected) == ("28.05 USD", "8.05 USD")
    assert "Last month: 10.00 USD" in page
    assert "30.00 USD" in page and "2 open invoices" in page and "1 overdue" in page
    assert "2015-10-31" in page  # the October invoice falls due within 14 days
    assert f"#{invoice.refnumber}</a> Acme Telephony" in page and "8.05 USD · Check" in page


def test_usage_today_and_this_month_by_item(admin, db, monkeypatch):
    package = make_package()
    _db.session.commit()
    line = package.line_items[0].id
    for day, value in ((14, "100"), (15, "61"), (15, "200")):
        record_usage({"line_item_id": line, "usage_value": value, "from": f"2015-09-{day} 10:00:00"})
    _db.session.commit()
    figures = reports.dashboard(utc(2015, 9, 15, 18))
    assert [(f.name, f.total, f.records) for f in figures.usage_today] == [("VoIP minutes", 261, 2)]
    assert [(f.name, f.total, f.peak) for f in figures.usage_month] == [("VoIP minutes", 361, 200)]
    monkeypatch.setattr("portal.merchant.dashboard.utcnow", lambda: utc(2015, 9, 15, 18))
    page = admin.get("/merchant/").get_data(as_text=True)
    assert "261" in page and "361" in page and "3 records" in page


def test_months_follow_the_merchant_time_zone(app, db):
    package = make_package()
    _db.session.commit()
    record_usage({"line_item_id": package.line_items[0].id, "usage_value": "5",
                  "from": "2015-09-30T23:30:00-04:00"})  # 03:30 UTC on October 1st
    _db.session.commit()
    app.config["TIMEZONE"] = "America/New_York"
    try:
        assert reports.dashboard(utc(2015, 10, 1, 12)).usage_month == []
        assert reports.dashboard(utc(2015, 9, 30, 12)).usage_month[0].total == 5
    finally:
        app.config["TIMEZONE"] = "UTC"


def test_monthly_revenue_per_currency(db):
    make_october_invoice()
    euro = make_package(make_customer("Euro GmbH", email="a@euro.example", currency="EUR"))
    _db.session.commit()
    run_billing(utc(2015, 10, 1))
    months = reports.monthly_revenue(date(2015, 10, 20))
    assert len(months) == 24 and months[0].month == date(2014, 11, 1)
    october = {m.currency: m.invoiced_minor for m in months if m.month == date(2015, 10, 1)}
    assert october == {"EUR": 1000, "USD": 2805}
    assert euro.customer.currency == "EUR"


def test_chart_is_plotly_json_with_local_scripts_only(admin, db, october_20):
    make_october_invoice()
    page = admin.get("/merchant/").get_data(as_text=True)
    raw = re.search(r'data-plotly="([^"]+)"', page).group(1)
    figure = json.loads(raw.replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")
                        .replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'"), parse_float=Decimal)
    invoiced = next(trace for trace in figure["data"] if trace["name"] == "Invoiced (USD)")
    assert invoiced["x"][-1] == "Oct 2015" and invoiced["y"][-2:] == [Decimal("10.00"), Decimal("28.05")]
    # On a phone the month labels turn upright: room below them, the legend above the plot.
    assert figure["layout"]["xaxis"]["automargin"] is True and figure["layout"]["legend"]["y"] > 1
    scripts = re.findall(r"<script([^>]*)>", page)
    assert all("src=" in attrs for attrs in scripts), scripts
    assert "/static/vendor/plotly/plotly.min.js" in page and "/static/js/charts.js" in page
    assert admin.get("/static/js/charts.js").status_code == 200


def test_a_checked_import_says_what_it_would_store_not_stored(admin, db):
    from portal.models import CsvImport

    _db.session.add_all([
        CsvImport(filename="checked.csv", stored_path="/nowhere", status="validated", stored=1, error_count=5),
        CsvImport(filename="done.csv", stored_path="/nowhere", status="done", stored=2, error_count=3)])
    _db.session.commit()
    page = admin.get("/merchant/").get_data(as_text=True)
    assert "Checked · 1 to store (not imported yet), 5 errors" in page
    assert "Done · 2 stored, 3 errors" in page

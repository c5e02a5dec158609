"""Pages show words, not codes, and an invoice's real state (partly paid, overdue)."""
from __future__ import annotations

from datetime import date

from support.factories import make_october_invoice

from portal.services.payments import pay_invoice


def _partly_paid_and_overdue(db):
    """October 2015's invoice (overdue since 2015-10-31) paid 5.00 by ACH; September's unpaid."""
    october = make_october_invoice()
    pay_invoice(october, paid_on=date(2015, 10, 5), amount="5.00", method="ach")
    db.session.commit()
    return october


def test_merchant_pages_show_states_and_labels(admin, db):
    october = _partly_paid_and_overdue(db)
    listing = admin.get("/merchant/invoices").get_data(as_text=True)
    assert "Overdue, partly paid</span>" in listing and ">Overdue</span>" in listing
    assert ">Unpaid</span>" not in listing
    page = admin.get(f"/merchant/invoices/{october.id}").get_data(as_text=True)
    assert "Bank transfer (ACH)" in page and "· ach" not in page
    assert "Overdue, partly paid" in page.split("<article", 1)[1]  # the invoice document's badge too
    customer = admin.get(f"/merchant/customers/{october.customer_id}").get_data(as_text=True)
    assert "<td>Monthly</td>" in customer and "<td>mon</td>" not in customer
    assert "Bank transfer (ACH)" in customer
    package = admin.get(f"/merchant/packages/{october.package_id}").get_data(as_text=True)
    assert ">Active</span>" in package and "active · current" not in package
    assert "<td>Recurring</td>" in package


def test_times_of_day_name_the_time_zone(admin, db, app, monkeypatch):
    october = _partly_paid_and_overdue(db)
    page = admin.get(f"/merchant/packages/{october.package_id}").get_data(as_text=True)
    assert "<dd>2015-09-01 00:00 UTC</dd>" in page  # started at
    monkeypatch.setitem(app.config, "TIMEZONE", "America/Chicago")
    page = admin.get(f"/merchant/packages/{october.package_id}").get_data(as_text=True)
    assert "<dd>2015-08-31 19:00 CDT</dd>" in page


def test_price_calculator_drops_stale_answers(admin, db):
    """Typing fast sends several questions: hx-sync asks them one at a time and keeps only
    the latest waiting one, so the price shown is always the last quantity's."""
    page = admin.get("/merchant/items/new").get_data(as_text=True)
    quote = page[page.index('id="price-quote"'):].split(">", 1)[0]
    assert 'hx-sync="this:queue last"' in quote


def test_icons_are_inline_svg_not_emoji(admin, db):
    october = _partly_paid_and_overdue(db)
    page = admin.get(f"/merchant/packages/{october.package_id}").get_data(as_text=True)
    assert "📈" not in page and "🔗" not in page
    assert page.count('<svg class="icon icon-chart"') == 1 and page.count('<svg class="icon icon-link"') == 1

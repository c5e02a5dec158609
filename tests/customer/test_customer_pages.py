"""What a logged-in contact sees: dashboard, invoices, PDF, payments, packages, usage graph."""
from __future__ import annotations

import io
import json
import re
from datetime import date
from decimal import Decimal

from pypdf import PdfReader

from portal.services.payments import pay_invoice, record_payment
from portal.services.usage import record_usage


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_dashboard_shows_balance_open_invoices_and_packages(jane, acme):
    page = text(jane.get("/portal/"))
    assert re.search(r'id="cp-balance">38.05 USD<', page)  # September's 10.00 + October's 28.05
    assert f"#{acme.invoice.refnumber}" in page and f"#{acme.september.refnumber}" in page
    assert "28.05 USD" in page and "Package #" in page and "not an invoice" in page


def test_invoice_list_pages_with_htmx(jane, acme, monkeypatch):
    monkeypatch.setattr("portal.customer.invoices.INVOICES_PER_PAGE", 1)
    first = text(jane.get("/portal/invoices"))
    assert "<html" in first and f"#{acme.invoice.refnumber}" in first  # newest first
    assert f"#{acme.september.refnumber}<" not in first and "Page 1 of 2" in first
    response = jane.get("/portal/invoices?page=2", htmx=True)
    second = text(response)
    assert "<html" not in second and f"#{acme.september.refnumber}" in second
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]
    assert 'hx-target="#invoice-list"' in second


def test_invoice_page_reuses_the_printed_invoice(jane, acme):
    page = text(jane.get(f"/portal/invoices/{acme.invoice.id}"))
    assert f"Invoice #{acme.invoice.refnumber}" in page
    assert "361 minutes" in page and "28.05 USD" in page and "10.00 USD" in page and "18.05 USD" in page
    assert "/r/invoice/" in page  # the signed permalink
    assert f"/portal/invoices/{acme.invoice.id}/pdf" in page


def test_invoice_pdf_downloads(jane, acme):
    response = jane.get(f"/portal/invoices/{acme.invoice.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="invoice-{acme.invoice.refnumber}.pdf"'
    pdf_text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "28.05 USD" in pdf_text and "361" in pdf_text


def test_payments_with_their_applications_and_the_balance(jane, acme, db):
    pay_invoice(acme.invoice, paid_on=date(2015, 10, 20), method="check", reference="CHK-1001")
    record_payment(acme.contact.customer, amount=Decimal("5.00"), paid_on=date(2015, 10, 21))
    db.session.commit()
    page = text(jane.get("/portal/payments"))
    assert "CHK-1001" in page and "2015-10-20" in page
    assert f"#{acme.invoice.refnumber}</a> · 28.05 USD" in page
    # A payment recorded without invoices goes to the oldest open one (September's 10.00).
    assert f"#{acme.september.refnumber}</a> · 5.00 USD" in page
    assert re.search(r'id="cp-balance">5.00 USD<', page)  # 38.05 − 28.05 − 5.00
    invoice_page = text(jane.get(f"/portal/invoices/{acme.invoice.id}"))
    assert "Payments applied" in invoice_page and "CHK-1001" in invoice_page


def test_packages_and_their_lines(jane, acme):
    listing = text(jane.get("/portal/packages"))
    assert f"/portal/packages/{acme.package.id}" in listing and "month" in listing
    assert f"/portal/lines/{acme.line.id}/usage" in listing
    page = text(jane.get(f"/portal/packages/{acme.package.id}"))
    assert "VoIP minutes" in page and "10.00 USD per month · 0.05 USD per minute" in page
    assert "2015-09-01" in page and "Estimate — not an invoice" in page


def test_usage_graph_of_a_period_and_its_htmx_navigation(jane, acme):
    response = jane.get(f"/portal/lines/{acme.line.id}/usage?period=0")
    page = text(response)
    assert re.search(r'id="usage-aggregate">361 <span class="cp-unit">minutes', page)
    assert 'id="usage-cost">18.05 USD<' in page and "01 Sep 2015 – 30 Sep 2015" in page
    assert "vendor/plotly/plotly.min.js" in page and "js/usage_chart.js" in page
    figure = re.search(r'<script type="application/json" id="usage-figure-\d+">(.*?)</script>', page, re.S)
    spec = json.loads(figure.group(1), parse_float=Decimal)
    assert sum(Decimal(y) for y in spec["figure"]["data"][0]["y"]) == 361
    assert spec["config"]["displaylogo"] is False
    # September has ended (a later period exists): its cost is the period's, not "so far".
    assert spec["figure"]["layout"]["annotations"][-1]["text"] == "<b>Cost of the period: 18.05 USD</b>"
    assert "so far this period" not in page
    assert "period=1" in page and "is-disabled usage-prev" in page  # the first period has no previous
    partial = jane.get(f"/portal/lines/{acme.line.id}/usage?period=1", htmx=True)
    body = text(partial)
    assert "<html" not in body and "01 Oct 2015 – 31 Oct 2015" in body and 'hx-target="#usage-page"' in body
    assert 'id="usage-aggregate">0 <' in body


def test_usage_of_the_current_period_shows_the_days(jane, acme, db):
    record_usage({"line_item_id": acme.line.id, "usage_value": "12.5", "from": "2015-10-03 10:00:00"})
    db.session.commit()
    body = text(jane.get(f"/portal/lines/{acme.line.id}/usage?period=1"))
    assert "2015-10-03" in body and "12.5 minutes" in body and 'id="usage-cost">0.63 USD<' in body

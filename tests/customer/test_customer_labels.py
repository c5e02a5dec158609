"""The portal shows an invoice's real state (partly paid, overdue) and words, not codes."""
from __future__ import annotations

from datetime import date

from portal.services.payments import pay_invoice


def test_customer_portal_shows_states_and_labels(jane, acme, db):
    pay_invoice(acme.invoice, paid_on=date(2015, 10, 5), amount="5.00", method="ach")
    db.session.commit()
    invoices = jane.get("/portal/invoices").get_data(as_text=True)
    assert "Overdue, partly paid</span>" in invoices and ">Overdue</span>" in invoices  # October, September
    assert ">Unpaid<" not in invoices
    payments = jane.get("/portal/payments").get_data(as_text=True)
    assert "Bank transfer (ACH)" in payments and "<td>ach</td>" not in payments
    package = jane.get(f"/portal/packages/{acme.package.id}").get_data(as_text=True)
    assert ">Active</span>" in package

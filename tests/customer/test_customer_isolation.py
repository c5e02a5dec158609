"""Nobody sees another customer's data: every id from a URL is looked up WITH the contact's
customer, so customer B's contact gets 404 for customer A's records (as for missing ids)."""
from __future__ import annotations

import pytest

from portal.models import Invoice, Package


def a_paths(acme) -> list[str]:
    """Every page of a record of customer A (full pages and HTMX partials)."""
    invoice, package, line = acme.invoice.id, acme.package.id, acme.line.id
    return [f"/portal/invoices/{invoice}", f"/portal/invoices/{invoice}/pdf",
            f"/portal/invoices/{acme.september.id}", f"/portal/packages/{package}",
            f"/portal/packages/{package}/estimate", f"/portal/lines/{line}/usage",
            f"/portal/lines/{line}/usage?period=0"]


@pytest.mark.parametrize("htmx", [False, True])
def test_bob_gets_404_for_every_record_of_acme(bob, acme, jane, htmx):
    for path in a_paths(acme):
        assert jane.get(path, htmx=htmx).status_code == 200, path  # they exist, for Jane
        response = bob.get(path, htmx=htmx)
        assert response.status_code == 404, path
        assert b"Acme" not in response.data and b"361" not in response.data


def test_missing_ids_answer_the_same_404(jane):
    for path in ("/portal/invoices/999", "/portal/invoices/999/pdf", "/portal/packages/999",
                 "/portal/packages/999/estimate", "/portal/lines/999/usage"):
        assert jane.get(path).status_code == 404, path


def test_bobs_own_pages_show_none_of_acmes_data(bob, acme, bravo, db):
    own_package = db.session.query(Package).filter_by(customer_id=bravo.id).one()
    pages = ["/portal/", "/portal/invoices", "/portal/payments", "/portal/packages",
             f"/portal/packages/{own_package.id}", f"/portal/lines/{own_package.line_items[0].id}/usage"]
    for path in pages:
        response = bob.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert "Acme" not in body and "28.05" not in body, path
        assert f"/portal/invoices/{acme.invoice.id}" not in body and f"/portal/packages/{acme.package.id}\"" not in body
    assert 'id="cp-balance">20.00 USD<' in bob.get("/portal/").get_data(as_text=True)  # his own two $10 invoices


def test_jane_gets_404_for_bobs_invoices_too(jane, bob, bravo, db):
    invoices = db.session.query(Invoice).filter_by(customer_id=bravo.id).all()
    assert len(invoices) == 2
    for invoice in invoices:
        assert bob.get(f"/portal/invoices/{invoice.id}").status_code == 200
        assert jane.get(f"/portal/invoices/{invoice.id}").status_code == 404
        assert jane.get(f"/portal/invoices/{invoice.id}/pdf").status_code == 404

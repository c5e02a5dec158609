"""Nobody sees another customer's data: every id from a URL is looked up WITH the contact's
customer, so customer B's contact gets 404 for customer A's records (as for missing ids; every
route × both contacts is in tests/security/test_authorization_matrix.py)."""
from __future__ import annotations

from portal.models import Package


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

"""The customer portal shows a customer its credit notes (list, page, PDF), nobody else's.

State and hand computation: tests/support/factories.py (`make_credited`) (CN-0001 = 5.16 USD for Acme).
"""
import io
import re

from pypdf import PdfReader

from support.factories import make_credited
from portal.services.contact_access import set_contact_password
from support.logins import BOB, JANE
from support.logins import CONTACT_PASSWORD as PASSWORD
from support.portal_client import PortalClient


def _client(app, email):
    client = PortalClient(app.test_client())
    assert client.login(email).status_code == 302
    return client


def _states(db):
    acme = make_credited()
    bravo = make_credited(company="Bravo Networks", email=BOB)  # its own credit note CN-0002
    for state in (acme, bravo):
        set_contact_password(state.customer.contacts[0], PASSWORD)
    db.session.commit()
    return acme, bravo


def test_customer_sees_own_credit_note_page_and_pdf(app, db):
    """Jane's list shows CN-0001 (credit 5.16, all left), its page the −5.16 line and its
    period; the dashboard's balance is −5.16 (in her favour); the PDF says "Credit note"."""
    acme, _ = _states(db)
    jane = _client(app, JANE)
    note_id = acme.credit_note.id
    listing = jane.get("/portal/credit-notes").get_data(as_text=True)
    assert f"/portal/credit-notes/{note_id}" in listing and "CN-0001" in listing and "CN-0002" not in listing
    assert re.search(r'id="cp-credit-left">5.16 USD<', listing)
    page = jane.get(f"/portal/credit-notes/{note_id}").get_data(as_text=True)
    assert "Credit note CN-0001" in page and "-5.16 USD" in page and "2015-10-01 – 2015-10-31" in page
    assert re.search(r'id="cn-credit">5.16 USD<', page) and "Bravo" not in page
    dashboard = jane.get("/portal/").get_data(as_text=True)
    assert re.search(r'id="cp-balance">-5.16 USD<', dashboard)
    invoices = jane.get("/portal/invoices").get_data(as_text=True)
    assert "-5.16" not in invoices  # a credit note is not a negative invoice
    pdf = jane.get(f"/portal/credit-notes/{note_id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="credit-note-CN-0001.pdf"'
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "Credit note" in text and "5.16 USD" in text

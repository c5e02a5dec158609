"""The merchant portal's credit notes: list, customer page, detail with PDF, e-mail, void.

State and hand computation: tests/support/factories.py (`make_credited`) (CN-0001 = 5.16 USD).
"""
import io

from pypdf import PdfReader
from sqlalchemy import select

from support.factories import utc
from support.factories import make_credited
from portal.models import EmailDelivery, Invoice
from portal.jobs.billing import run_billing


def test_list_customer_page_detail_and_pdf(admin, db):
    """The list and the customer page link CN-0001 (credit 5.16); its page shows the line,
    the credit, and after the November run where it went (invoice #5, 5.16)."""
    state = make_credited()
    note_id = state.credit_note.id
    listing = admin.get("/merchant/credit-notes").get_data(as_text=True)
    assert f"/merchant/credit-notes/{note_id}" in listing and "CN-0001" in listing and "5.16 USD" in listing
    assert "Acme Telephony" in listing
    customer_page = admin.get(f"/merchant/customers/{state.customer.id}").get_data(as_text=True)
    assert "CN-0001" in customer_page
    run_billing(utc(2015, 11, 1))
    page = admin.get(f"/merchant/credit-notes/{note_id}").get_data(as_text=True)
    assert "Credit note CN-0001" in page and "-5.16 USD" in page and "Invoice #5: 5.16 USD" in page
    partial = admin.get(f"/merchant/credit-notes/{note_id}", htmx=True)
    assert "HX-Request" in partial.headers["Vary"] and "<html" not in partial.get_data(as_text=True)
    # The invoice URL of a credit note leads to its own page.
    assert admin.get(f"/merchant/invoices/{note_id}").headers["Location"].endswith(f"/merchant/credit-notes/{note_id}")
    pdf = admin.get(f"/merchant/credit-notes/{note_id}/pdf")
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "Credit note" in text and "CN-0001" in text


def test_email_and_void(admin, viewer, db):
    """Admin queues the e-mail again (2 deliveries: the run's and this one) and voids it:
    status void, invoice #5 owes its 10.00 again; a viewer may do neither (403)."""
    state = make_credited()
    note_id = state.credit_note.id
    november = db.session.get(Invoice, run_billing(utc(2015, 11, 1)).invoice_ids[0])
    assert viewer.post(f"/merchant/credit-notes/{note_id}/void").status_code == 403
    assert admin.post(f"/merchant/credit-notes/{note_id}/email").status_code == 302
    deliveries = db.session.scalars(select(EmailDelivery).where(EmailDelivery.invoice_id == note_id)).all()
    assert [d.subject for d in deliveries] == ["Credit note CN-0001 from Meterbill Demo Merchant"] * 2
    answer = admin.post(f"/merchant/credit-notes/{note_id}/void", htmx=True)
    assert answer.status_code == 200 and "Credit note CN-0001 voided." in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Invoice, note_id).status == "closed-void"
    assert db.session.get(Invoice, november.id).balance_minor == 1000


def test_invoice_paid_by_credit_can_be_voided_from_its_page(admin, db):
    """Invoice #5 (10.00) got CN-0001's 5.16 automatically: its page offers Void (a payment
    the merchant applied would refuse it); voiding returns the 5.16 to CN-0001."""
    state = make_credited()
    november = db.session.get(Invoice, run_billing(utc(2015, 11, 1)).invoice_ids[0])
    page = admin.get(f"/merchant/invoices/{november.id}").get_data(as_text=True)
    assert f"/merchant/invoices/{november.id}/void" in page and "CN-0001" in page
    assert admin.post(f"/merchant/invoices/{november.id}/void").status_code == 302
    db.session.expire_all()
    assert db.session.get(Invoice, state.credit_note.id).balance_minor == -516

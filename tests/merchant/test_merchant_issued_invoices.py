"""Issued invoices' web pages (merchant page, signed link) keep what they showed at issue;
a new invoice shows the new settings (issue 9 item 4)."""
from support.factories import utc
from support.factories import issue_then_change, pdf_text, zero_total_invoice

from portal.models import EmailDelivery, Invoice
from portal.services.billing import run_billing
from portal.services.links import invoice_token
from portal.services.pdf import render_invoice_pdf
from portal.services.settings import ensure_settings


def test_web_pages_of_an_issued_invoice_keep_their_values(db, admin):
    first, _ = issue_then_change(db)
    for page in (admin.get(f"/merchant/invoices/{first.id}").get_data(as_text=True),
                 admin.client.get(f"/r/invoice/{invoice_token(first.id)}").get_data(as_text=True)):
        for old in ("Northwind Telecom", "billing@northwind.example", "Pay within 30 days.", "Northwind · VAT GB123",
                    "Tax (8.25 %)", "--accent: #dc2626", "data:image/png;base64,", "Acme Telephony",
                    "10 Main Street", "Suite 400", "Building B", "Springfield, IL 62701", "USA"):
            assert old in page, old
        assert "Southwind" not in page and "77 Other Street" not in page and "Cash only." not in page


def test_a_new_invoice_shows_the_new_values(db, admin):
    issue_then_change(db)
    second = db.session.get(Invoice, run_billing(utc(2015, 10, 1)).invoice_ids[-1])
    text = pdf_text(second)
    for new in ("Southwind Ltd", "9 New Avenue", "ar@southwind.example", "Cash only.", "Southwind · VAT GB999",
                "Tax (20 %)", "Net 15", "Acme Renamed", "77 Other Street", "Chicago, IL 62701"):
        assert new in text, new
    assert "Northwind" not in text and b"/Subtype /Image" not in render_invoice_pdf(second)
    page = admin.get(f"/merchant/invoices/{second.id}").get_data(as_text=True)
    assert "Southwind Ltd" in page and "--accent: #0f766e" in page and "data:image/png" not in page




def test_zero_total_invoice_is_emailed_when_the_setting_asks(db, admin):
    from support.factories import SETTINGS_FORM as SETTINGS

    page = admin.get("/merchant/settings").get_data(as_text=True)
    assert 'name="email_zero_invoices"' in page
    assert admin.post("/merchant/settings", dict(SETTINGS, email_zero_invoices="y")).status_code == 302
    db.session.expire_all()
    assert ensure_settings().email_zero_invoices is True
    invoice = zero_total_invoice(db)
    assert invoice.total_minor == 0
    assert db.session.query(EmailDelivery).filter_by(invoice_id=invoice.id).one().to_address == "ap@zero.example"
    assert admin.post("/merchant/settings", SETTINGS).status_code == 302  # unticked: off again
    db.session.expire_all()
    assert ensure_settings().email_zero_invoices is False

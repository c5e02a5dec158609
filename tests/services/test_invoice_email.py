"""The invoice e-mail as received by a real SMTP server (aiosmtpd on loopback): headers,
greeting, online link, inline logo (issue 9 item 5), and zero-total invoices."""
from email.utils import parseaddr, parsedate_to_datetime

from support.factories import make_october_invoice
from support.factories import PNG, zero_total_invoice
from portal.models import EmailDelivery
from portal.services.links import invoice_links
from portal.services.mail import send_due_deliveries
from portal.services.settings import ensure_settings, update_settings

PUBLIC = "https://billing.northwind.example"


def _october_message(app, smtp_server, before_sending=None):
    invoice = make_october_invoice()
    if before_sending:
        before_sending()
    saved = app.config["PUBLIC_URL"]
    app.config["PUBLIC_URL"] = PUBLIC  # links are built from it, as in the scheduler (no request)
    try:
        assert send_due_deliveries() == {"sent": 2}
        permalink = invoice_links(invoice.id)["url_permalink"]
    finally:
        app.config["PUBLIC_URL"] = saved
    message = next(m for m in smtp_server if f"#{invoice.refnumber}" in m["Subject"])
    return invoice, message, permalink


def test_headers_greeting_link_and_inline_logo(db, app, smtp_server):
    update_settings(ensure_settings(), company_name="Northwind Telecom", email="ar@northwind.example", logo=PNG)
    invoice, message, permalink = _october_message(app, smtp_server)
    assert parseaddr(message["From"]) == ("Northwind Telecom", "ar@northwind.example")
    assert message["Reply-To"] == "ar@northwind.example"
    assert message["Sender"] == app.config["MAIL_FROM"]
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    delivery = db.session.query(EmailDelivery).filter_by(invoice_id=invoice.id).one()
    assert message["Message-ID"] == delivery.message_id and message["Message-ID"].endswith("@meterbill.local>")
    text = message.get_body(("plain",)).get_content()
    html_part = message.get_body(("html",))
    html = html_part.get_content()
    assert text.startswith("Hello Jane Doe,") and "Hello Jane Doe," in html
    assert permalink.startswith(PUBLIC + "/r/invoice/") and permalink in text and f'href="{permalink}"' in html
    assert "data:image" not in html
    related = next(p for p in message.walk() if p.get_content_type() == "multipart/related")
    image = next(p for p in related.iter_parts() if p.get_content_maintype() == "image")
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html and image.get_content() == PNG
    assert image.get_content_type() == "image/png" and image.get_content_disposition() == "inline"
    assert next(message.iter_attachments()).get_filename() == f"invoice-{invoice.refnumber}.pdf"


def test_without_company_email_from_falls_back_to_mail_from(db, app, smtp_server):
    update_settings(ensure_settings(), company_name="Northwind Telecom")
    _, message, _ = _october_message(app, smtp_server)
    assert parseaddr(message["From"]) == ("Northwind Telecom", app.config["MAIL_FROM"])
    assert message["Reply-To"] is None and message["Sender"] is None
    assert message["Date"] and not any(p.get_content_maintype() == "image" for p in message.walk())


def test_greeting_names_the_contact_the_email_goes_to(db, app, smtp_server):
    from portal.services.customers import update_contact
    from portal.models import Contact

    def rename():
        update_contact(db.session.query(Contact).one(), first_name="Janet", last_name="Smith")
        db.session.commit()

    _, message, _ = _october_message(app, smtp_server, rename)
    assert message.get_body(("plain",)).get_content().startswith("Hello Janet Smith,")


def test_zero_total_invoice_is_recorded_but_not_emailed_by_default(db):
    invoice = zero_total_invoice(db)
    assert invoice.total_minor == 0 and invoice.status == "open-unpaid" and invoice.lines
    assert db.session.query(EmailDelivery).count() == 0
    big = make_october_invoice()  # an invoice with a total is still e-mailed
    assert db.session.query(EmailDelivery).filter_by(invoice_id=big.id).count() == 1



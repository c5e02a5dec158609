"""Invoice e-mail through a real SMTP server on loopback, the outbox, retries and backoff."""
import io
from datetime import timedelta

from pypdf import PdfReader

from support.factories import make_october_invoice
from portal.db_types import utcnow
from portal.models import EmailDelivery
from portal.services.mail import MAX_ATTEMPTS, queue_invoice_email, send_due_deliveries


def test_invoice_email_is_sent_once_with_html_text_and_pdf(db, smtp_server):
    invoice = make_october_invoice()  # the billing run queued the e-mails of both invoices
    counts = send_due_deliveries()
    assert counts == {"sent": 2}
    message = next(m for m in smtp_server if f"#{invoice.refnumber}" in m["Subject"])
    assert message["To"] == "jane@acme.example"
    assert message["Subject"] == f"Invoice #{invoice.refnumber} from Meterbill Demo Merchant"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Total:       28.05 USD" in text
    assert "28.05 USD" in html and "361 minutes" in html
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == f"invoice-{invoice.refnumber}.pdf"
    pdf_text = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert "28.05 USD" in pdf_text
    assert send_due_deliveries() == {}
    assert len(smtp_server) == 2
    delivery = db.session.query(EmailDelivery).filter_by(invoice_id=invoice.id).one()
    assert delivery.status == "sent" and delivery.attempts == 1 and delivery.sent_at is not None


def test_outbox_when_no_smtp_server(db, app, tmp_path):
    app.config["OUTBOX_DIR"] = str(tmp_path)
    make_october_invoice()
    assert send_due_deliveries() == {"sent": 2}
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2
    assert b"application/pdf" in files[0].read_bytes()


def test_failures_are_retried_with_backoff_then_given_up(db, app):
    invoice = make_october_invoice()
    db.session.query(EmailDelivery).delete()
    delivery = queue_invoice_email(invoice)
    db.session.commit()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9)  # nothing listens there
    try:
        now = utcnow()
        assert send_due_deliveries(now) == {"pending": 1}
        db.session.refresh(delivery)
        assert delivery.attempts == 1 and delivery.last_error
        assert delivery.next_attempt_at == now + timedelta(minutes=1)
        assert send_due_deliveries(now) == {}  # not due again before its backoff
        for attempt in range(2, MAX_ATTEMPTS + 1):
            now = delivery.next_attempt_at
            send_due_deliveries(now)
            db.session.refresh(delivery)
            assert delivery.attempts == attempt
        assert delivery.status == "failed"
    finally:
        app.config.update(MAIL_SERVER="", MAIL_PORT=25)


def test_a_claimed_delivery_is_not_sent_by_another_worker(db, smtp_server):
    from portal.services.mail import _claim, send_delivery

    invoice = make_october_invoice()
    db.session.query(EmailDelivery).delete()
    delivery = queue_invoice_email(invoice)
    db.session.commit()
    now = utcnow()
    assert _claim(delivery.id, now)           # worker A claims it (and is still sending)
    assert send_delivery(delivery.id, now) is None  # worker B cannot
    assert smtp_server == []


def test_plain_messages_are_queued_and_sent(db, smtp_server):
    from portal.services.mail import queue_message

    queue_message("jane@acme.example", "Your invitation", "Open https://x/y to set a password.",
                  "<p>Open <a href='https://x/y'>this link</a></p>")
    db.session.commit()
    assert send_due_deliveries() == {"sent": 1}
    message = smtp_server[0]
    assert message["Subject"] == "Your invitation"
    assert "https://x/y" in message.get_body(("plain",)).get_content()
    assert "this link" in message.get_body(("html",)).get_content()
    assert list(message.iter_attachments()) == []

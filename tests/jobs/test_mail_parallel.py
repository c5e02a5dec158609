"""The mail job's parallel path: PDFs rendered in a process pool and kept per invoice
version, messages sent over several connections at the merchant's rate."""
import io

from pypdf import PdfReader

from support.factories import make_october_invoice
from portal.jobs import mail as mail_job
from portal.jobs.mail import mail_rate, send_due_deliveries
from portal.jobs.mail_sender import RatePace
from portal.jobs.pdf_pool import PdfPool, render_invoice_pdfs
from portal.models import EmailDelivery, Invoice
from portal.services import pdf as pdf_service
from portal.services.invoices import void_invoice
from portal.services.settings import ensure_settings, update_settings


def _text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_the_pool_renders_the_same_documents_as_one_process(app, db):
    invoice = make_october_invoice()
    ids = [i for (i,) in db.session.query(Invoice.id).order_by(Invoice.id)]
    app.config["PDF_CACHE_DIR"], saved = "", app.config["PDF_CACHE_DIR"]
    try:
        serial = render_invoice_pdfs(None, ids)
        with PdfPool(2) as pool:
            parallel = render_invoice_pdfs(pool, ids)
    finally:
        app.config["PDF_CACHE_DIR"] = saved
    assert [_text(p) for p in parallel] == [_text(p) for p in serial]
    assert f"Invoice #{invoice.refnumber}" in _text(parallel[-1]) and "28.05 USD" in _text(parallel[-1])


def test_an_unchanged_invoice_is_rendered_once_and_a_changed_one_again(app, db, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path))  # not another test's documents
    invoice = make_october_invoice()
    rendered = []
    real = pdf_service.html_to_pdf
    monkeypatch.setattr(pdf_service, "html_to_pdf", lambda html: rendered.append(1) or real(html))
    first = pdf_service.render_invoice_pdf(invoice)
    assert pdf_service.render_invoice_pdf(invoice) == first and len(rendered) == 1
    void_invoice(invoice)  # the document now says so: a new version
    voided = pdf_service.render_invoice_pdf(invoice)
    assert len(rendered) == 2 and voided != first
    assert pdf_service.render_invoice_pdf(invoice) == voided and len(rendered) == 2
    assert len(list(tmp_path.glob(f"{invoice.id}-*.pdf"))) == 1  # the older version is dropped


def test_a_batch_goes_through_the_pool_and_every_message_carries_its_pdf(db, smtp_server, monkeypatch):
    monkeypatch.setattr(mail_job, "POOL_THRESHOLD", 1)
    invoice = make_october_invoice()
    assert send_due_deliveries() == {"sent": 2}
    assert len(smtp_server) == 2
    message = next(m for m in smtp_server if f"#{invoice.refnumber}" in m["Subject"])
    attachment = next(message.iter_attachments())
    assert "28.05 USD" in _text(attachment.get_content())
    assert {d.status for d in db.session.query(EmailDelivery)} == {"sent"}


def test_a_limit_sends_only_that_many_and_leaves_the_rest_pending(db, smtp_server):
    make_october_invoice()
    assert send_due_deliveries(limit=1) == {"sent": 1}
    assert sorted(d.status for d in db.session.query(EmailDelivery)) == ["pending", "sent"]
    assert send_due_deliveries() == {"sent": 1} and len(smtp_server) == 2


def test_the_rate_is_the_merchants_setting_else_the_server_default(app, db):
    assert mail_rate() == app.config["MAIL_RATE_PER_MINUTE"] == 3000
    update_settings(ensure_settings(), mail_rate_per_minute=300)
    assert mail_rate() == 300


def test_the_pace_spaces_the_starts_evenly(monkeypatch):
    clock, slept = [100.0], []
    monkeypatch.setattr("portal.jobs.mail_sender.time.monotonic", lambda: clock[0])
    monkeypatch.setattr("portal.jobs.mail_sender.time.sleep", slept.append)
    pace = RatePace(120)  # one every half second
    for _ in range(3):
        pace.wait_turn()
    assert slept == [0.5, 1.0]

"""Invoice e-mails: queued as deliveries (flushed in the caller's transaction), built as
MIME messages and handed to SMTP or an outbox; the mail job (`portal.jobs.mail`) claims,
sends and records them, owning those commits.
"""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path

from flask import current_app, render_template

from portal.billing.vocabulary import DeliveryStatus
from portal.billing.errors import ValidationError
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Customer, EmailDelivery, Invoice
from portal.services.customers import billing_email
from portal.services.invoice_email import invoice_email_context
from portal.services.pdf import render_invoice_pdf
from portal.services.settings import ensure_settings

log = logging.getLogger("meterbill.mail")


def queue_invoice_email(invoice: Invoice, to_address: str | None = None, *,
                        customer: Customer | None = None,
                        company_name: str | None = None) -> EmailDelivery:
    """Queue the e-mail of `invoice` to its customer's billing contact (or `to_address`).

    :param invoice: the invoice to send.
    :param to_address: another recipient, for the API's `email` action.
    :param customer: the invoice's customer, when the caller has it loaded.
    :param company_name: the merchant's name, when the caller has it (billing runs).
    """
    customer = customer or db.session.get(Customer, invoice.customer_id)
    address = to_address or billing_email(customer)
    if not address or "@" not in address:
        raise ValidationError("email", f"customer {customer.id} has no billing e-mail address")
    delivery = EmailDelivery(**_invoice_delivery(invoice, address, company_name))
    db.session.add(delivery)
    db.session.flush()
    return delivery


def _invoice_delivery(invoice: Invoice, address: str, company_name: str | None) -> dict:
    """The columns of an invoice's pending e-mail delivery."""
    company_name = company_name or ensure_settings().company_name
    return dict(invoice_id=invoice.id, to_address=address, status=DeliveryStatus.PENDING,
                subject=(f"Credit note {invoice.number} from {company_name}" if invoice.is_credit_note
                         else f"Invoice #{invoice.refnumber} from {company_name}"),
                message_id=_message_id())


def issued_invoice_delivery(invoice: Invoice, *, customer: Customer, company_name: str | None,
                            email_zero: bool) -> dict | None:
    """What `queue_issued_invoice_email` would queue, as a row for a bulk insert (the chunked
    billing run writes a chunk's deliveries in one statement); None when nothing is sent: a
    zero total with the setting off, or a customer without a billing e-mail (logged).

    :param invoice: the invoice being written (its id and refnumber set).
    :param customer: its customer, with its contacts.
    :param company_name: the merchant's name.
    :param email_zero: the setting `email_zero_invoices`.
    """
    if invoice.total_minor == 0 and not email_zero:
        log.info("Invoice %s totals zero; recorded, not e-mailed (setting off)", invoice.id)
        return None
    address = billing_email(customer)
    if not address or "@" not in address:
        log.info("Invoice %s: the customer has no billing e-mail; not sent", invoice.id)
        return None
    return _invoice_delivery(invoice, address, company_name)


def queue_issued_invoice_email(invoice: Invoice, *, customer: Customer,
                               company_name: str | None = None,
                               email_zero: bool | None = None) -> EmailDelivery | None:
    """Queue the e-mail of a newly issued invoice; a zero-total invoice is recorded but only
    e-mailed when the merchant setting `email_zero_invoices` asks for it (else None).

    :param invoice: the invoice just written.
    :param customer: its customer.
    :param company_name: the merchant's name, when the caller has it.
    :param email_zero: the setting `email_zero_invoices`, when the caller has it (billing runs).
    """
    if email_zero is None:
        email_zero = ensure_settings().email_zero_invoices
    if invoice.total_minor == 0 and not email_zero:
        log.info("Invoice %s totals zero; recorded, not e-mailed (setting off)", invoice.id)
        return None
    return queue_invoice_email(invoice, customer=customer, company_name=company_name)


def _message_id() -> str:
    """A unique Message-ID in the domain of MAIL_FROM."""
    _, sender = parseaddr(current_app.config["MAIL_FROM"])
    return make_msgid(domain=sender.rpartition("@")[2] or "meterbill.local")


def queue_message(to_address: str, subject: str, text: str, html: str | None = None) -> EmailDelivery:
    """Queue a message that is not an invoice (an invitation, a password reset); flushes.

    :param to_address: the recipient.
    :param subject: the subject line.
    :param text: the plain-text body.
    :param html: an HTML alternative, if any.
    """
    if not to_address or "@" not in to_address:
        raise ValidationError("email", "must be an e-mail address")
    delivery = EmailDelivery(kind="message", to_address=to_address, subject=subject,
                             body_text=text, body_html=html, status=DeliveryStatus.PENDING,
                             message_id=_message_id())
    db.session.add(delivery)
    db.session.flush()
    return delivery


def _headers(delivery: EmailDelivery, seller: dict | None = None) -> EmailMessage:
    """Subject, From (the merchant's name and e-mail, else MAIL_FROM), Reply-To, Sender,
    To, Date and Message-ID.

    :param seller: the merchant as the invoice shows it (its snapshot), else the settings.
    """
    if seller is None:
        settings = ensure_settings()
        seller = {"company_name": settings.company_name, "email": settings.email}
    mail_from = current_app.config["MAIL_FROM"]
    sender_name, sender = parseaddr(mail_from)
    message = EmailMessage()
    message["Subject"] = delivery.subject
    message["From"] = formataddr((seller.get("company_name") or sender_name, seller.get("email") or sender))
    if seller.get("email"):
        message["Reply-To"] = seller["email"]
        if seller["email"].lower() != sender.lower():
            # The server's own address sends (and receives bounces) on the merchant's behalf.
            message["Sender"] = sender
    message["To"] = delivery.to_address
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = delivery.message_id
    return message


def build_message(delivery: EmailDelivery, pdf: bytes | None = None) -> EmailMessage:
    """The MIME message: text and HTML alternatives, and the invoice PDF for an invoice.

    :param pdf: the invoice's PDF when the caller rendered it already (the mail job renders
        PDFs in parallel processes); else it is rendered (or read from the cache) here.
    """
    if delivery.kind == "message":
        message = _headers(delivery)
        message.set_content(delivery.body_text or "")
        if delivery.body_html:
            message.add_alternative(delivery.body_html, subtype="html")
        return message
    invoice = db.session.get(Invoice, delivery.invoice_id)
    context = invoice_email_context(invoice, delivery.to_address)
    message = _headers(delivery, context["seller"])
    template, filename = "invoice", f"invoice-{invoice.refnumber}.pdf"
    if invoice.is_credit_note:
        from portal.services.credit_notes import credit_note_context

        # The credit's own figures; greeting, logo (cid:) and link as for an invoice.
        context = {**credit_note_context(invoice), **context}
        template, filename = "credit_note", f"credit-note-{invoice.number}.pdf"
    message.set_content(render_template(f"email/{template}.txt", **context))
    message.add_alternative(render_template(f"email/{template}.html", **context), subtype="html")
    if context["logo_image"] is not None:
        data, mimetype = context["logo_image"]
        maintype, _, subtype = mimetype.partition("/")
        # multipart/related: the HTML shows the logo by cid:, which mail clients display.
        message.get_body(("html",)).add_related(data, maintype=maintype, subtype=subtype,
                                                cid=f"<{context['logo_cid']}>", disposition="inline",
                                                filename=f"logo.{subtype}")
    message.add_attachment(pdf if pdf is not None else render_invoice_pdf(invoice),
                           maintype="application", subtype="pdf",
                           filename=filename)
    return message


def transport(message: EmailMessage) -> None:
    """Send through SMTP when MAIL_SERVER is set, else write an .eml file to the outbox."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        outbox = Path(config["OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("@", "_at_")
        (outbox / f"{name}.eml").write_bytes(bytes(message))
        return
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)

"""Invoice PDFs rendered with xhtml2pdf from templates/pdf/invoice.html."""
from __future__ import annotations

import io
import logging

from flask import render_template
from xhtml2pdf import pisa

from portal.models import Invoice
from portal.services.invoice_view import invoice_context

# xhtml2pdf logs every CSS property it does not know at WARNING; keep real errors only.
logging.getLogger("xhtml2pdf").setLevel(logging.ERROR)


class PdfError(RuntimeError):
    """xhtml2pdf could not render the document."""


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice (or credit note) as PDF bytes (the same content as its HTML page).

    :param invoice: the invoice, with its lines.
    """
    if invoice.is_credit_note:
        from portal.services.credit_notes import credit_note_context

        html = render_template("pdf/credit_note.html", **credit_note_context(invoice))
    else:
        html = render_template("pdf/invoice.html", **invoice_context(invoice))
    output = io.BytesIO()
    result = pisa.CreatePDF(src=html, dest=output, encoding="utf-8")
    if result.err:
        raise PdfError(f"PDF rendering of invoice {invoice.id} failed ({result.err} errors)")
    return output.getvalue()

"""Invoice PDFs rendered with xhtml2pdf from templates/pdf/invoice.html, kept per version.

Rendering is two steps: the HTML (templates, from the database; cheap) and the PDF
(xhtml2pdf; 40-55 ms of CPU). `html_to_pdf` needs nothing but the HTML (the logo is inlined
as a data: URI), so a process pool can run it (`portal.jobs.pdf_pool`). A rendered PDF is
kept in PDF_CACHE_DIR under the invoice's id and a hash of its HTML: an invoice whose
document has not changed is never rendered twice, and any change (a payment, a void, a new
snapshot) is a new version.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
from pathlib import Path

from flask import current_app, render_template
from xhtml2pdf import pisa

from portal.models import Invoice
from portal.services.invoice_view import invoice_context

# xhtml2pdf logs every CSS property it does not know at WARNING; keep real errors only.
logging.getLogger("xhtml2pdf").setLevel(logging.ERROR)


class PdfError(RuntimeError):
    """xhtml2pdf could not render the document."""


def invoice_pdf_html(invoice: Invoice) -> str:
    """The HTML the PDF of the invoice (or credit note) is rendered from."""
    if invoice.is_credit_note:
        from portal.services.credit_notes import credit_note_context

        return render_template("pdf/credit_note.html", **credit_note_context(invoice))
    return render_template("pdf/invoice.html", **invoice_context(invoice))


def html_to_pdf(html: str) -> bytes:
    """The PDF of a document's HTML (no app needed: runs in pool processes too)."""
    output = io.BytesIO()
    result = pisa.CreatePDF(src=html, dest=output, encoding="utf-8")
    if result.err:
        raise PdfError(f"PDF rendering failed ({result.err} errors)")
    return output.getvalue()


def cache_path(invoice_id: int, html: str) -> Path | None:
    """Where the PDF of this version of the invoice is kept (None: no cache configured)."""
    folder = current_app.config.get("PDF_CACHE_DIR")
    if not folder:
        return None
    version = hashlib.sha256(html.encode()).hexdigest()[:24]
    return Path(folder) / f"{invoice_id}-{version}.pdf"


def cached_pdf(path: Path | None) -> bytes | None:
    """The kept PDF at `path`, if any."""
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def keep_pdf(path: Path | None, pdf: bytes) -> None:
    """Keep `pdf` at `path` (written whole, then renamed: a reader never sees half a file) and
    drop the invoice's older versions."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        prefix = path.name.split("-", 1)[0] + "-"
        for old in path.parent.glob(f"{prefix}*.pdf"):
            if old != path:
                old.unlink(missing_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(pdf)
        partial.replace(path)
    except OSError as error:  # a full or read-only disk costs a re-render, nothing more
        logging.getLogger("meterbill.mail").warning("PDF cache: %s", error)


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice (or credit note) as PDF bytes (the same content as its HTML page), from
    the cache when this version was rendered before.

    :param invoice: the invoice, with its lines.
    """
    html = invoice_pdf_html(invoice)
    path = cache_path(invoice.id, html)
    pdf = cached_pdf(path)
    if pdf is None:
        try:
            pdf = html_to_pdf(html)
        except PdfError as error:
            raise PdfError(f"PDF rendering of invoice {invoice.id} failed: {error}") from None
        keep_pdf(path, pdf)
    return pdf

"""PDFs rendered in parallel processes: xhtml2pdf is pure Python (one core per process).

The pool's processes receive HTML and return PDF bytes; they need no app and no database
(`portal.services.pdf.html_to_pdf`). The mail job starts one pool when it has many PDFs to
render and keeps it for its next runs; a few PDFs are rendered in the calling process.
"""
from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor

from flask import current_app

from portal.extensions import db
from portal.models import Invoice
from portal.services.pdf import cache_path, cached_pdf, html_to_pdf, invoice_pdf_html, keep_pdf

# Below this many PDFs to render, starting processes costs more than it saves.
POOL_THRESHOLD = 8


class PdfPool:
    """A process pool rendering HTML to PDF (`processes` 0: one per CPU)."""

    def __init__(self, processes: int = 0):
        self.processes = processes or os.cpu_count() or 1
        # spawn: the scheduler process has threads; a forked child could inherit a held lock.
        self._executor = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_warm_process, initargs=(os.getpid(),))

    def submit(self, html: str) -> Future:
        """Render `html` in a pool process; the future's result is the PDF bytes."""
        return self._executor.submit(html_to_pdf, html)

    def warm(self) -> None:
        """Start every process and load xhtml2pdf in it (before a timed run)."""
        list(self._executor.map(html_to_pdf, ["<p>warm-up</p>"] * self.processes * 4))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PdfPool:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _warm_process(parent: int) -> None:
    """Each pool process loads xhtml2pdf and its fonts before its first real document, and
    leaves when its parent is gone (a killed scheduler must not leave renderers behind).

    :param parent: the pool owner's pid, taken in the owner: a parent that died before this
        process started is noticed too.
    """
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    html_to_pdf("<p>warm-up</p>")


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(2)
    os._exit(0)


_shared: PdfPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> PdfPool:
    """The process's pool, started on first use (PDF_PROCESSES processes) and kept."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = PdfPool(current_app.config.get("PDF_PROCESSES") or 0)
            atexit.register(_shared.close)
        return _shared


class PdfBatch:
    """The PDFs of several invoices: cached ones read, the others rendered in parallel.

    `add(invoice)` starts the work (the HTML is rendered here, the PDF in the pool);
    `pdf(invoice_id)` waits for that invoice's PDF and keeps it in the cache.
    """

    def __init__(self, pool: PdfPool | None):
        self.pool = pool
        self._pending: dict[int, tuple] = {}

    def add(self, invoice: Invoice) -> None:
        html = invoice_pdf_html(invoice)
        path = cache_path(invoice.id, html)
        pdf = cached_pdf(path)
        if pdf is not None:
            self._pending[invoice.id] = (path, pdf, None)
        elif self.pool is not None:
            self._pending[invoice.id] = (path, None, self.pool.submit(html))
        else:
            self._pending[invoice.id] = (path, None, html)

    def pdf(self, invoice_id: int) -> bytes:
        path, pdf, work = self._pending.pop(invoice_id)
        if pdf is not None:
            return pdf
        pdf = work.result() if isinstance(work, Future) else html_to_pdf(work)
        keep_pdf(path, pdf)
        return pdf


def render_invoice_pdfs(pool: PdfPool | None, invoice_ids: list[int], cache: bool = True) -> list[bytes]:
    """The PDFs of these invoices, in order (the benchmark's entry point).

    :param cache: False renders every one afresh (a cold cache).
    """
    if not cache:
        current_app.config["PDF_CACHE_DIR"], saved = "", current_app.config.get("PDF_CACHE_DIR")
    try:
        batch = PdfBatch(pool)
        for invoice_id in invoice_ids:
            batch.add(db.session.get(Invoice, invoice_id))
        return [batch.pdf(invoice_id) for invoice_id in invoice_ids]
    finally:
        if not cache:
            current_app.config["PDF_CACHE_DIR"] = saved

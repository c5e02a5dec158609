"""CSV usage imports from the merchant portal: upload, preview (dry run), import, progress.

Life of a `CsvImport`: `uploaded` (the file is on disk; its dry run is under way) →
`validated` (the preview: every bad row listed, nothing stored) → `running` (confirmed)
→ `done`, or `failed` (the file cannot be read on; rows committed before stay stored).

Both passes run in the BACKGROUND: a thread of the web process with its own app context
(so its own session and connection). A million-row file takes seconds to tens of seconds,
longer than a request should hold a worker, and it needs no broker or extra process; the
progress lives in the database row, so any worker can answer the page's polling. The
price: an import dies with its process (a restart leaves it `uploaded`/`running`; rows
committed so far stay, and files with external keys can simply be imported again).

Files are streamed: the upload is copied to disk in blocks and `usage_csv.import_usage_csv`
reads it line by line in chunks. Every error of a pass is appended to a JSON-lines file
beside the upload (`<file>.<pass>.errors.jsonl`) so the preview can page through all of
them; the row keeps the first `ERRORS_KEPT` for a quick look.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import os
import threading
import uuid
from itertools import islice
from pathlib import Path

from flask import current_app
from sqlalchemy import update

from portal.db_types import utcnow
from portal.extensions import db
from portal.models import CsvImport
from portal.services.usage_csv import CHUNK_ROWS, MAX_ERRORS, CsvImportError, ImportReport, \
    import_usage_csv, read_header

log = logging.getLogger(__name__)

CSV_EXTENSIONS = (".csv", ".txt")
MAX_UPLOAD_BYTES = 1 << 30  # 1 GiB: some 15 million rows
HEAD_BYTES = 1 << 16  # what the upload check reads to find the header row
ERRORS_KEPT = 100
PREVIEW, IMPORT = "preview", "import"
IN_PROGRESS = ("uploaded", "running")
_threads: dict[int, threading.Thread] = {}
# Imports of one process run two at a time; more wait their turn (still `uploaded`/`running`).
_slots = threading.BoundedSemaphore(2)


class UploadError(Exception):
    """An upload refused before anything is stored; `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def imports_dir() -> Path:
    """Where uploads are kept: IMPORTS_DIR, else instance/imports/."""
    path = Path(current_app.config.get("IMPORTS_DIR") or Path(current_app.instance_path) / "imports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_upload(upload, created_by_id: int | None = None) -> CsvImport:
    """Copy an uploaded file to disk in blocks, check its header, record it; flushes.

    :param upload: a werkzeug FileStorage (None when the form had no file).
    :param created_by_id: the staff user who uploaded it.
    :raises UploadError: no file, not a CSV file, too large, not UTF-8, a wrong header.
    """
    if upload is None or not upload.filename:
        raise UploadError(400, "Choose a CSV file to upload.")
    name = os.path.basename(upload.filename.replace("\\", "/"))[:255]
    if not name.lower().endswith(CSV_EXTENSIONS):
        raise UploadError(415, f"'{name}' is not a CSV file: upload a .csv file (UTF-8 text).")
    path = imports_dir() / f"{uuid.uuid4().hex}.csv"
    try:
        size = _copy(upload.stream, path)
        check_head(path)
    except UploadError:
        path.unlink(missing_ok=True)
        raise
    csv_import = CsvImport(filename=name, stored_path=str(path), status="uploaded", size_bytes=size,
                           created_by_id=created_by_id, errors=[])
    db.session.add(csv_import)
    db.session.flush()
    return csv_import


def _copy(stream, path: Path) -> int:
    """Copy in 1 MiB blocks (never the whole file in memory); the size in bytes."""
    size = 0
    with open(path, "wb") as out:
        while block := stream.read(1 << 20):
            size += len(block)
            if size > MAX_UPLOAD_BYTES:
                out.close()
                raise UploadError(413, f"The file is larger than {MAX_UPLOAD_BYTES >> 20} MiB: split it.")
            out.write(block)
    if size == 0:
        raise UploadError(400, "The file is empty: a header row is required.")
    return size


def check_head(path: Path) -> None:
    """Refuse at once a file that is not UTF-8 text or whose header row is wrong (the rest
    is checked row by row by the dry run)."""
    with open(path, "rb") as stream:
        head = stream.read(HEAD_BYTES)
    try:
        # Incremental: a character cut by the end of the block is not an error.
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        raise UploadError(422, "The file is not UTF-8 text: save it as \"CSV UTF-8\".") from None
    if "\x00" in text:
        raise UploadError(422, "The file is not a text file.")
    rows = (cells for cells in csv.reader(io.StringIO(text)) if any(c.strip() for c in cells))
    try:
        read_header(next(rows, None), ImportReport())
    except CsvImportError as error:
        raise UploadError(422, f"The file cannot be imported: {error.message}.") from None
    except csv.Error as error:
        raise UploadError(422, f"The file is not valid CSV ({error}).") from None


def errors_path(csv_import: CsvImport, phase: str) -> Path:
    """The JSON-lines file listing every error of a pass."""
    return Path(f"{csv_import.stored_path}.{phase}.errors.jsonl")


def shown_phase(csv_import: CsvImport) -> str:
    """The pass whose errors the import's page lists: the import once it was confirmed."""
    if csv_import.status in ("uploaded", "validated"):
        return PREVIEW
    return IMPORT if errors_path(csv_import, IMPORT).exists() or csv_import.status != "failed" else PREVIEW


def error_page(csv_import: CsvImport, phase: str, page: int, size: int = 100) -> tuple[list[dict], bool]:
    """One page of a pass's errors (row, line, field, message) and whether more follow."""
    path = errors_path(csv_import, phase)
    if not path.exists():
        return [], False
    with open(path, encoding="utf-8") as lines:
        chunk = [json.loads(line) for line in islice(lines, (page - 1) * size, page * size + 1)]
    return chunk[:size], len(chunk) > size


def confirm_import(import_id: int) -> bool:
    """Move a previewed import to `running` (atomically: a second click does nothing);
    resets its counters for the real pass. The caller commits, then `start_import`."""
    moved = db.session.execute(
        update(CsvImport).where(CsvImport.id == import_id, CsvImport.status == "validated")
        .values(status="running", rows_done=0, bytes_done=0, stored=0, duplicates=0,
                error_count=0, errors=[], message=None)
    ).rowcount
    db.session.expire_all()
    return moved == 1


def discard_import(csv_import: CsvImport) -> None:
    """Forget an import that is not under way: its files and its row; flushes."""
    for path in (Path(csv_import.stored_path), errors_path(csv_import, PREVIEW), errors_path(csv_import, IMPORT)):
        path.unlink(missing_ok=True)
    db.session.delete(csv_import)
    db.session.flush()


def start_validation(import_id: int) -> threading.Thread:
    """Run the dry run of an uploaded file in the background (after the caller's commit)."""
    return _start(import_id, PREVIEW)


def start_import(import_id: int) -> threading.Thread:
    """Run the confirmed import in the background (after the caller's commit)."""
    return _start(import_id, IMPORT)


def _start(import_id: int, phase: str) -> threading.Thread:
    app = current_app._get_current_object()
    thread = threading.Thread(target=_work, args=(app, import_id, phase), daemon=True,
                              name=f"csv-{phase}-{import_id}")
    _threads[import_id] = thread
    thread.start()
    return thread


def wait_for(import_id: int, timeout: float | None = None) -> None:
    """Wait until this process's background pass of an import ends (tests, CLI)."""
    thread = _threads.get(import_id)
    if thread is not None:
        thread.join(timeout)


def _work(app, import_id: int, phase: str) -> None:
    with _slots, app.app_context():
        try:
            run_pass(import_id, phase)
        except Exception:  # the thread must record its end, whatever happened
            log.exception("CSV import %s: the %s pass failed", import_id, phase)
            db.session.rollback()
            _finish(db.session.get(CsvImport, import_id), "failed", "An internal error stopped the import.")
        finally:
            db.session.remove()
            if _threads.get(import_id) is threading.current_thread():  # not the next pass's
                del _threads[import_id]


class _Counting:
    """A binary stream that counts the bytes read (the progress of a pass)."""

    def __init__(self, stream):
        self.stream, self.count = stream, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.count += len(data)
        return data


def run_pass(import_id: int, phase: str) -> None:
    """The dry run (PREVIEW) or the import (IMPORT) of a file, committing progress after
    each chunk; within an app context."""
    csv_import = db.session.get(CsvImport, import_id)
    dry_run = phase == PREVIEW
    with open(csv_import.stored_path, "rb") as raw, open(errors_path(csv_import, phase), "w", encoding="utf-8") as sink:
        stream = _Counting(raw)
        progress = _Progress(csv_import, stream, sink)
        try:
            # CHUNK_ROWS <= MAX_ERRORS: draining the report's errors after each chunk means
            # the service never drops one, so the error file lists every bad row.
            report = import_usage_csv(stream, dry_run=dry_run, chunk_rows=min(CHUNK_ROWS, MAX_ERRORS),
                                      on_chunk=progress)
        except CsvImportError as error:
            db.session.rollback()
            progress.record(error.report, count_bytes=False)
            _finish(csv_import, "failed", str(error.message))
            return
        progress.record(report)
    csv_import.rows_total = report.rows
    csv_import.bytes_done = csv_import.size_bytes
    if dry_run:
        csv_import.status = "validated"
        db.session.commit()
    else:
        _finish(csv_import, "done", None)


class _Progress:
    """`on_chunk`: copies the report's counts to the row, moves its errors to the error
    file, commits (the chunk's records and the progress together)."""

    def __init__(self, csv_import: CsvImport, stream: _Counting, sink):
        self.csv_import, self.stream, self.sink = csv_import, stream, sink

    def __call__(self, report: ImportReport) -> None:
        self.record(report)
        db.session.commit()

    def record(self, report: ImportReport, count_bytes: bool = True) -> None:
        row = self.csv_import
        kept = list(row.errors or [])
        for error in report.errors:
            self.sink.write(json.dumps(error) + "\n")
            if len(kept) < ERRORS_KEPT:
                kept.append(error)
        self.sink.flush()
        report.errors.clear()
        row.errors = kept  # a new list: JSON columns do not track in-place changes
        row.rows_done, row.stored, row.duplicates = report.rows, report.stored, report.duplicates
        row.error_count = report.error_count
        if count_bytes:
            row.bytes_done = min(self.stream.count, row.size_bytes)


def _finish(csv_import: CsvImport | None, status: str, message: str | None) -> None:
    """Record the end of a pass; the upload is deleted (nothing can resume it), its error files stay."""
    if csv_import is None:
        return
    csv_import.status, csv_import.message, csv_import.finished_at = status, message, utcnow()
    db.session.commit()
    Path(csv_import.stored_path).unlink(missing_ok=True)


def progress_percent(csv_import: CsvImport) -> int:
    """0..100: by rows once the dry run counted them, else by bytes read."""
    if csv_import.status not in IN_PROGRESS:
        return 100
    if csv_import.status == "running" and csv_import.rows_total:
        return min(99, csv_import.rows_done * 100 // csv_import.rows_total)
    return min(99, csv_import.bytes_done * 100 // max(csv_import.size_bytes, 1))

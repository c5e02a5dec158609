"""CSV usage imports (merchant portal and API): upload, preview (dry run), import, progress.

Life of a `CsvImport`: `uploaded` (the file is on disk; its dry run is queued or under
way) → `validated` (the preview: every bad row listed, nothing stored) → `running`
(confirmed; the import is queued or under way) → `done`, or `failed` (the file cannot be
read on; rows committed before stay stored). The API's upload skips the preview: it goes
straight to `running` (or, with `dry_run`, ends at `validated`).

Both passes are BACKGROUND JOBS (`portal.jobs`, kind `csv_import`) run by the scheduler
process, never by a web worker: the upload only streams the file to disk (instance
folder) and queues the job in the same transaction. A pass commits every chunk of rows
together with its checkpoint (the counters on the row) and its job's heartbeat; if the
worker dies, another takes the job over and resumes after the last committed row, so
every row is counted exactly once, with or without an `external_key`.

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
import uuid
from itertools import islice
from pathlib import Path

from flask import current_app
from sqlalchemy import update

from portal.db_types import utcnow
from portal.extensions import db
from portal.jobs import JobContext, enqueue
from portal.models import CsvImport
from portal.services.usage_csv import CHUNK_ROWS, MAX_ERRORS, CsvImportError, ImportReport, \
    import_usage_csv, read_header

log = logging.getLogger(__name__)

CSV_EXTENSIONS = (".csv", ".txt")
HEAD_BYTES = 1 << 16  # what the upload check reads to find the header row
ERRORS_KEPT = 100
PREVIEW, IMPORT = "preview", "import"
IN_PROGRESS = ("uploaded", "running")
# The status each pass runs from: a preview retried after a confirm must not touch the import.
PHASE_STATUS = {PREVIEW: "uploaded", IMPORT: "running"}
JOB_KIND = "csv_import"


class UploadError(Exception):
    """An upload refused before anything is stored; `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str, field: str = "file"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def imports_dir() -> Path:
    """Where uploads are kept: IMPORTS_DIR, else instance/imports/."""
    path = Path(current_app.config.get("IMPORTS_DIR") or Path(current_app.instance_path) / "imports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_limit() -> int:
    """The largest CSV upload in bytes (CSV_MAX_CONTENT_LENGTH)."""
    return int(current_app.config["CSV_MAX_CONTENT_LENGTH"])


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
    return save_stream(upload.stream, name, "uploaded", created_by_id)


def save_stream(stream, name: str, status: str, created_by_id: int | None = None) -> CsvImport:
    """Copy a CSV body to disk in blocks, check its header, record it; flushes.

    :param stream: a binary stream (an upload's, or the API request's body).
    :param name: the file name shown in the portal.
    :param status: `uploaded` (a preview follows) or `running` (imported directly).
    :raises UploadError: too large, empty, not UTF-8, a wrong header.
    """
    path = imports_dir() / f"{uuid.uuid4().hex}.csv"
    try:
        size = _copy(stream, path)
        check_head(path)
    except BaseException:  # also a client gone mid-upload: no orphan file
        path.unlink(missing_ok=True)
        raise
    csv_import = CsvImport(filename=name, stored_path=str(path), status=status, size_bytes=size,
                           created_by_id=created_by_id, errors=[])
    db.session.add(csv_import)
    db.session.flush()
    return csv_import


def _copy(stream, path: Path) -> int:
    """Copy in 1 MiB blocks (never the whole file in memory); the size in bytes."""
    size, limit = 0, upload_limit()
    with open(path, "wb") as out:
        while block := stream.read(1 << 20):
            size += len(block)
            if size > limit:
                raise UploadError(413, f"The file is larger than {limit >> 20} MiB: split it.")
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
        raise UploadError(422, f"The file cannot be imported: {error.message}.", error.field) from None
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
    resets its counters for the real pass. The caller queues `start_import`, then commits."""
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


def start_validation(import_id: int) -> None:
    """Queue the dry run of an uploaded file (in the caller's transaction)."""
    enqueue(JOB_KIND, {"import_id": import_id, "phase": PREVIEW})


def start_import(import_id: int) -> None:
    """Queue the confirmed import (in the caller's transaction)."""
    enqueue(JOB_KIND, {"import_id": import_id, "phase": IMPORT})


def run_import_job(context: JobContext) -> None:
    """The `csv_import` job: one pass of one import, resumed where a dead worker stopped."""
    import_id, phase = context.payload["import_id"], context.payload["phase"]
    csv_import = db.session.get(CsvImport, import_id)
    if csv_import is None or csv_import.status != PHASE_STATUS[phase]:
        return  # discarded, finished by an earlier attempt, or past this pass's phase
    run_pass(csv_import, phase, context)


def import_job_failed(payload: dict, error: str) -> None:
    """A pass that failed for good (its workers died or it kept failing); flushes."""
    csv_import = db.session.get(CsvImport, payload.get("import_id"))
    if csv_import is not None and csv_import.status in IN_PROGRESS:
        csv_import.status, csv_import.finished_at = "failed", utcnow()
        csv_import.message = "The import stopped and could not be resumed; rows stored so far stay."
        log.error("CSV import %s failed: %s", csv_import.id, error)
        db.session.flush()


class _Counting:
    """A binary stream that counts the bytes read (the progress of a pass)."""

    def __init__(self, stream):
        self.stream, self.count = stream, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.count += len(data)
        return data


def run_pass(csv_import: CsvImport, phase: str, context: JobContext) -> None:
    """The dry run (PREVIEW) or the import (IMPORT) of a file, from its last checkpoint.

    Each chunk's records, the import's counters (the checkpoint) and the job's heartbeat
    are committed together; a takeover resumes after the last committed row, so every
    row is stored exactly once, with or without an external_key.
    """
    dry_run = phase == PREVIEW
    resume = ImportReport(dry_run=dry_run, rows=csv_import.rows_done, stored=csv_import.stored,
                          duplicates=csv_import.duplicates, error_count=csv_import.error_count)
    _trim_errors(errors_path(csv_import, phase), csv_import.rows_done)
    with open(csv_import.stored_path, "rb") as raw, \
            open(errors_path(csv_import, phase), "a", encoding="utf-8") as sink:
        stream = _Counting(raw)
        progress = _Progress(csv_import, stream, sink, context)
        try:
            # CHUNK_ROWS <= MAX_ERRORS: draining the report's errors after each chunk means
            # the service never drops one, so the error file lists every bad row.
            report = import_usage_csv(stream, dry_run=dry_run, chunk_rows=min(CHUNK_ROWS, MAX_ERRORS),
                                      on_chunk=progress, resume=resume)
        except CsvImportError as error:
            db.session.rollback()
            progress.record(error.report, count_bytes=False)
            _finish(csv_import, "failed", str(error.message), context)
            return
        progress.record(report)
    csv_import.rows_total = report.rows
    csv_import.bytes_done = csv_import.size_bytes
    if dry_run:
        csv_import.status = "validated"
        context.renew()
        db.session.commit()
    else:
        _finish(csv_import, "done", None, context)


def _trim_errors(path: Path, rows_done: int) -> None:
    """Keep the errors of rows up to the checkpoint (a dead attempt may have written
    errors of rows it never committed)."""
    if not path.exists():
        return
    with open(path, encoding="utf-8") as lines:
        kept = [line for line in lines if json.loads(line)["row"] <= rows_done]
    with open(path, "w", encoding="utf-8") as out:
        out.writelines(kept)


class _Progress:
    """`on_chunk`: copies the report's counts to the row, moves its errors to the error
    file, commits (the chunk's records, the checkpoint and the heartbeat together)."""

    def __init__(self, csv_import: CsvImport, stream: _Counting, sink, context: JobContext):
        self.csv_import, self.stream, self.sink, self.context = csv_import, stream, sink, context

    def __call__(self, report: ImportReport) -> None:
        self.record(report)
        self.context.renew()
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


def _finish(csv_import: CsvImport, status: str, message: str | None, context: JobContext) -> None:
    """Record the end of a pass; the upload is deleted (nothing can resume it), its error files stay."""
    csv_import.status, csv_import.message, csv_import.finished_at = status, message, utcnow()
    context.renew()
    db.session.commit()
    Path(csv_import.stored_path).unlink(missing_ok=True)


def progress_percent(csv_import: CsvImport) -> int:
    """0..100: by rows once the dry run counted them, else by bytes read."""
    if csv_import.status not in IN_PROGRESS:
        return 100
    if csv_import.status == "running" and csv_import.rows_total:
        return min(99, csv_import.rows_done * 100 // csv_import.rows_total)
    return min(99, csv_import.bytes_done * 100 // max(csv_import.size_bytes, 1))

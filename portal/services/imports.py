"""CSV usage imports (merchant portal and API): upload, preview (dry run), import, progress.

Life of a `CsvImport`: `uploaded` (the file is on disk; its dry run is queued or under
way) → `validated` (the preview: every bad row listed, nothing stored) → `running`
(confirmed; the import is queued or under way) → `done`, or `failed` (the file cannot be
read on; rows committed before stay stored). The API's upload skips the preview: it goes
straight to `running` (or, with `dry_run`, ends at `validated`).

Both passes are BACKGROUND JOBS (`portal.jobs.csv_import`, kind `csv_import`) run by the
scheduler process, never by a web worker: the upload only streams the file to disk
(instance folder) and queues the job in the same transaction. This module only flushes;
the job commits every chunk of rows together with its checkpoint (see there).

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
import os
import uuid
from itertools import islice
from pathlib import Path

from flask import current_app
from sqlalchemy import update

from portal.billing.vocabulary import ImportStatus
from portal.billing.errors import TooLarge, Unreadable, UnsupportedFormat, ValidationError
from portal.extensions import db
from portal.services.job_queue import enqueue
from portal.models import CsvImport
from portal.services.usage_csv import CsvImportError, ImportReport, read_header

CSV_EXTENSIONS = (".csv", ".txt")
HEAD_BYTES = 1 << 16  # what the upload check reads to find the header row
ERRORS_KEPT = 100
PREVIEW, IMPORT = "preview", "import"
IN_PROGRESS = (ImportStatus.UPLOADED, ImportStatus.RUNNING)
# The status each pass runs from: a preview retried after a confirm must not touch the import.
PHASE_STATUS = {PREVIEW: "uploaded", IMPORT: "running"}
JOB_KIND = "csv_import"


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
    :raises ValidationError: no file; UnsupportedFormat: not a CSV file; TooLarge;
        Unreadable: not UTF-8, a wrong header.
    """
    if upload is None or not upload.filename:
        raise ValidationError("file", "Choose a CSV file to upload.")
    name = os.path.basename(upload.filename.replace("\\", "/"))[:255]
    if not name.lower().endswith(CSV_EXTENSIONS):
        raise UnsupportedFormat("file", f"'{name}' is not a CSV file: upload a .csv file (UTF-8 text).")
    return save_stream(upload.stream, name, ImportStatus.UPLOADED, created_by_id)


def save_stream(stream, name: str, status: str, created_by_id: int | None = None) -> CsvImport:
    """Copy a CSV body to disk in blocks, check its header, record it; flushes.

    :param stream: a binary stream (an upload's, or the API request's body).
    :param name: the file name shown in the portal.
    :param status: `uploaded` (a preview follows) or `running` (imported directly).
    :raises ValidationError: empty; TooLarge; Unreadable: not UTF-8, a wrong header.
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
                raise TooLarge("file", f"The file is larger than {limit >> 20} MiB: split it.")
            out.write(block)
    if size == 0:
        raise ValidationError("file", "The file is empty: a header row is required.")
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
        raise Unreadable("file", "The file is not UTF-8 text: save it as \"CSV UTF-8\".") from None
    if "\x00" in text:
        raise Unreadable("file", "The file is not a text file.")
    rows = (cells for cells in csv.reader(io.StringIO(text)) if any(c.strip() for c in cells))
    try:
        read_header(next(rows, None), ImportReport())
    except CsvImportError as error:
        raise Unreadable(error.field, f"The file cannot be imported: {error.message}.") from None
    except csv.Error as error:
        raise Unreadable("file", f"The file is not valid CSV ({error}).") from None


def errors_path(csv_import: CsvImport, phase: str) -> Path:
    """The JSON-lines file listing every error of a pass."""
    return Path(f"{csv_import.stored_path}.{phase}.errors.jsonl")


def shown_phase(csv_import: CsvImport) -> str:
    """The pass whose errors the import's page lists: the import once it was confirmed."""
    if csv_import.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATED):
        return PREVIEW
    return IMPORT if errors_path(csv_import, IMPORT).exists() or csv_import.status != ImportStatus.FAILED else PREVIEW


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
        update(CsvImport).where(CsvImport.id == import_id, CsvImport.status == ImportStatus.VALIDATED)
        .values(status=ImportStatus.RUNNING, rows_done=0, bytes_done=0, stored=0, duplicates=0,
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


def progress_percent(csv_import: CsvImport) -> int:
    """0..100: by rows once the dry run counted them, else by bytes read."""
    if csv_import.status not in IN_PROGRESS:
        return 100
    if csv_import.status == ImportStatus.RUNNING and csv_import.rows_total:
        return min(99, csv_import.rows_done * 100 // csv_import.rows_total)
    return min(99, csv_import.bytes_done * 100 // max(csv_import.size_bytes, 1))

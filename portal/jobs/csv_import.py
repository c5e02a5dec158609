"""The `csv_import` job: one pass (dry run or import) of an uploaded CSV file.

A pass commits every chunk of rows together with its checkpoint (the counters on the
`CsvImport` row) and its job's heartbeat; if the worker dies, another takes the job over
and resumes after the last committed row, so every row is counted exactly once, with or
without an `external_key`. Everything else about imports (upload, confirm, error pages)
is in `portal.services.imports`, which only flushes.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from sqlalchemy import text

from portal.billing.vocabulary import ImportStatus
from portal.db_types import utcnow
from portal.extensions import db
from portal.jobs.runner import JobContext
from portal.models import CsvImport
from portal.services.imports import ERRORS_KEPT, IN_PROGRESS, PHASE_STATUS, PREVIEW, \
    errors_path
from portal.services.usage_csv import CHUNK_ROWS, MAX_ERRORS, CsvImportError, ImportReport
from portal.services.usage_csv_split import import_usage_file

log = logging.getLogger(__name__)


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
        csv_import.status, csv_import.finished_at = ImportStatus.FAILED, utcnow()
        csv_import.message = "The import stopped and could not be resumed; rows stored so far stay."
        log.error("CSV import %s failed: %s", csv_import.id, error)
        db.session.flush()


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
    with open(errors_path(csv_import, phase), "a", encoding="utf-8") as sink:
        progress = _Progress(csv_import, sink, context)
        try:
            # CHUNK_ROWS <= MAX_ERRORS: draining the report's errors after each chunk means
            # the service never drops one, so the error file lists every bad row.
            report = import_usage_file(csv_import.stored_path, dry_run=dry_run,
                                       chunk_rows=min(CHUNK_ROWS, MAX_ERRORS), on_chunk=progress,
                                       resume=resume)
        except CsvImportError as error:
            db.session.rollback()
            progress.record(error.report, count_bytes=False)
            _finish(csv_import, ImportStatus.FAILED, str(error.message), context)
            return
        progress.record(report)
    csv_import.rows_total = report.rows
    csv_import.bytes_done = csv_import.size_bytes
    if dry_run:
        csv_import.status = ImportStatus.VALIDATED
        context.renew()
        db.session.commit()
    else:
        _finish(csv_import, ImportStatus.DONE, None, context)


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

    def __init__(self, csv_import: CsvImport, sink, context: JobContext):
        self.csv_import, self.sink, self.context = csv_import, sink, context

    def __call__(self, report: ImportReport) -> None:
        self.record(report)
        self.context.renew()
        if db.session.get_bind().dialect.name == "postgresql":
            # The chunk's commit does not wait for its WAL to reach the disk (~1-2 ms per
            # chunk): a crash can lose the last chunks only together with their checkpoint,
            # so the takeover redoes them; the pass's final commit waits, and with it all.
            db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
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
            row.bytes_done = min(report.position, row.size_bytes)


def _finish(csv_import: CsvImport, status: str, message: str | None, context: JobContext) -> None:
    """Record the end of a pass; the upload is deleted (nothing can resume it), its error files stay."""
    csv_import.status, csv_import.message, csv_import.finished_at = status, message, utcnow()
    context.renew()
    db.session.commit()
    Path(csv_import.stored_path).unlink(missing_ok=True)

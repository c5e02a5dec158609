"""CSV usage import, shared by the API and the merchant portal (its preview is a dry run).

The file is streamed: it is read line by line from any binary stream, parsed by the csv
module and sent through the bulk channel's `ingest_batch` (same rules, same speed) in
chunks of `CHUNK_ROWS` rows, so memory does not grow with the file. The caller commits
each chunk (`on_chunk`): an import is NOT all-or-nothing (an error that stops the file
leaves the chunks before it stored). Re-uploading a file is safe for rows that carry an
`external_key` (they answer as duplicates); rows without a key are stored again. A dry
run sees duplicates of earlier rows of the same chunk and of stored records, not of
earlier chunks of the same file (nothing of them is stored).

Numbering: the header is row 0 and data rows are numbered 1, 2, ... in file order;
blank lines (and rows whose cells are all empty) are skipped and not numbered. Each error
also gives `line`, the physical line of the file where the row ends (they differ when a
quoted cell spans lines or blank lines were skipped). Cells are trimmed of spaces.
"""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from collections.abc import Callable, Iterator

from portal.billing.errors import ValidationError
from portal.csv_reading import COLUMNS, ReadError, header_columns, numbered_rows  # noqa: F401 (COLUMNS: the portal reads it here)
from portal.db_types import utcnow
from portal.services import merchant_tz
from portal.services.usage import Result, ingest_batch, parse_fields

CHUNK_ROWS = 1000
MAX_ERRORS = 1000  # listed in the report; all are counted
MAX_LINE_CHARS = 1 << 16  # a longer line is refused rather than buffered whole
READ_AHEAD = 2  # chunks parsed ahead of the one being stored (bounded memory)


@dataclass
class ImportReport:
    """Counts of an import (or of a dry run: `stored` is then what would be stored)."""

    dry_run: bool = False
    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    error_count: int = 0
    errors: list[dict] = field(default_factory=list)
    position: int = 0  # bytes of the file read so far (the job's progress)

    def add_error(self, row: int, name: str | None, message: str, line: int | None) -> None:
        """Count an error; keep its details while the list is below MAX_ERRORS."""
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "line": line, "field": name, "message": message})

    def as_dict(self) -> dict:
        """The report as the API answers it."""
        return {"rows": self.rows, "stored": self.stored, "duplicates": self.duplicates,
                "errors": self.errors, "error_count": self.error_count, "dry_run": self.dry_run}


class CsvImportError(ValidationError):
    """The file cannot be read on (bad header, not UTF-8, malformed CSV); `report` holds
    what was processed before — already committed chunks stay stored."""

    def __init__(self, name: str, message: str, report: ImportReport):
        super().__init__(name, message)
        self.report = report


def import_usage_csv(stream, *, dry_run: bool = False, chunk_rows: int = CHUNK_ROWS,
                     on_chunk: Callable[[ImportReport], None] | None = None,
                     resume: ImportReport | None = None) -> ImportReport:
    """Validate and (unless `dry_run`) store every row of a usage CSV file; flushes.

    :param stream: a binary stream with a `read(size)` method (e.g. `request.stream`).
    :param dry_run: check every row and sort out duplicates, store nothing.
    :param chunk_rows: rows sent to the database at once.
    :param on_chunk: called after each chunk with the report so far; the API commits
        there (and a portal can show progress).
    :param resume: the report of the rows already done (a resumed import): its first
        `resume.rows` data rows are read but not sent again, and counting goes on from it.
    :raises CsvImportError: the header is wrong or the file is not UTF-8 / not CSV.
    """
    report = resume or ImportReport(dry_run=dry_run)
    for chunk in _read_ahead(stream, report, chunk_rows, merchant_tz()):
        records = [(raw, fields) for _, _, raw, fields in chunk if isinstance(raw, dict)]
        outcomes = ingest_batch([raw for raw, _ in records], source="csv", dry_run=dry_run,
                                parsed=[fields for _, fields in records])
        report.rows = chunk[-1][0]
        count_outcomes(chunk, outcomes, report)
        if on_chunk is not None:
            on_chunk(report)
    return report


def _read_ahead(stream, report: ImportReport, chunk_rows: int, tz) -> Iterator[list]:
    """The chunks of `_chunks`, each row with its fields parsed (`parse_fields`), read and
    parsed by a thread while the caller stores the chunk before: Python parses the next
    chunk while PostgreSQL inserts this one (psycopg waits without the GIL).

    The thread counts rows in its own report; `report.rows` moves only when the caller
    has handled a chunk, so a checkpoint never counts rows read ahead. An error that stops
    the file is raised here after the chunks before it.
    """
    reading = ImportReport(rows=report.rows)
    chunks: queue.Queue = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()

    def hand_over(item) -> bool:
        """Queue an item unless the caller stopped; whether to go on."""
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for chunk in _chunks(stream, reading, chunk_rows):
                now = utcnow()
                parsed = [(row, line, raw, parse_fields(raw, tz, now) if isinstance(raw, dict)
                           else None) for row, line, raw in chunk]
                if not hand_over(parsed):
                    return
        except BaseException as error:  # handed to the caller, raised in its thread
            hand_over(error)
            return
        hand_over(None)

    reader = threading.Thread(target=read, name="csv-read-ahead", daemon=True)
    reader.start()
    try:
        while (item := chunks.get()) is not None:
            if isinstance(item, CsvImportError):
                report.rows = reading.rows
                raise CsvImportError(item.field, item.message, report) from None
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def _chunks(stream, report: ImportReport, chunk_rows: int) -> Iterator[list]:
    """Lists of (row, line, raw record or the error of a misshapen row)."""
    chunk = []
    try:
        for numbered in numbered_rows(stream, report, MAX_LINE_CHARS):
            chunk.append(numbered)
            if len(chunk) >= chunk_rows:
                yield chunk
                chunk = []
    except ReadError as error:
        raise CsvImportError(error.field, error.message, report) from None
    if chunk:
        yield chunk


def read_header(cells: list[str] | None, report: ImportReport) -> list[str | None]:
    """The known column of each position (None for columns that are ignored).

    :param cells: the header row.
    :param report: attached to the error.
    :raises CsvImportError: the file is empty, or a required column is missing or repeated.
    """
    try:
        return header_columns(cells)
    except ReadError as error:
        raise CsvImportError(error.field, error.message, report) from None


def count_outcomes(chunk: list, outcomes: list, report: ImportReport) -> None:
    """Count a chunk's rows and list its errors in row order.

    :param chunk: (row, line, raw record or the message why it is misshapen, ...) each.
    :param outcomes: one `Outcome` per raw record (dict) of the chunk, in order.
    :param report: counts and errors so far.
    """
    outcomes = iter(outcomes)
    for row, line, raw, _ in chunk:
        if not isinstance(raw, dict):
            report.add_error(row, None, raw, line)
            continue
        outcome = next(outcomes)
        if outcome.result is Result.CREATED:
            report.stored += 1
        elif outcome.result is Result.REPLAYED:
            report.duplicates += 1
        else:
            report.add_error(row, outcome.error.field, str(outcome.error), line)

"""The import of a stored CSV file in two processes: one reads and types, this one stores.

A Python thread could not overlap the two stages (the GIL), so the job starts a small
parsing process (`portal/csv_reading.py`, standard library only: ~15 MB) that reads the
file from the checkpoint, numbers the rows and types every plainly valid row (numbers and
date-times of the usual forms, as `usage_input.parse_fields` would) into the text COPY
wants; it sends chunks through a pipe, which holds at most one chunk beside the one each
side works on, so memory does not grow with the file. While it reads chunk N+1, this
process checks chunk N's lines (one query) and stores it.

Same rules and report as `usage_csv.import_usage_csv` (which dry runs and the API's
stream keep using): a chunk whose rows are all either plain and valid or invalid is stored
by ONE `COPY` (executemany on SQLite) in a savepoint; any other chunk — a valid row of an
unusual form, a key already stored or repeated (the COPY then fails and is rolled back), a
line deleted meanwhile — goes through `ingest_batch` exactly as before, which answers
duplicates and conflicts. Only flushes: the caller's `on_chunk` commits.
"""
from __future__ import annotations

import logging
import marshal
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from operator import itemgetter
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import NamedTuple

from sqlalchemy.exc import IntegrityError

from portal import csv_reading
from portal.billing.errors import ValidationError
from portal.billing.money import from_micro
from portal.csv_reading import instant_key
from portal.db_types import utcnow
from portal.extensions import db
from portal.models.catalog import USAGE_TYPES
from portal.services import merchant_tz, usage_csv
from portal.services.usage import (LineLookup, UsageInput, check_line, check_usage, ingest_batch)
from portal.services.usage_csv import CsvImportError, ImportReport, count_outcomes, import_usage_csv
from portal.usage_sql import copy_plain

log = logging.getLogger(__name__)


def import_usage_file(path: str, *, dry_run: bool, chunk_rows: int,
                      on_chunk: Callable[[ImportReport], None], resume: ImportReport) -> ImportReport:
    """Check and (unless `dry_run`) store every row of a stored usage CSV file; flushes.

    :param path: the uploaded file.
    :param dry_run: check only (the preview), in this process (`import_usage_csv`).
    :param chunk_rows: rows stored (and reported to `on_chunk`, which commits) at once.
    :param on_chunk: called after each chunk with the report so far (`position`: bytes read).
    :param resume: the rows already done: skipped, and counting goes on from it.
    :raises CsvImportError: the file cannot be read on (rows of chunks before it stay).
    """
    if not dry_run:
        return _import_split(path, chunk_rows, on_chunk, resume)
    with open(path, "rb") as raw:
        stream = csv_reading.Counting(raw)

        def chunk_done(report: ImportReport) -> None:
            report.position = stream.count
            on_chunk(report)

        return import_usage_csv(stream, dry_run=True, chunk_rows=chunk_rows, on_chunk=chunk_done,
                                resume=resume)


def _import_split(path: str, chunk_rows: int, on_chunk, report: ImportReport) -> ImportReport:
    tz = merchant_tz()
    with _parser(path, report.rows, chunk_rows, tz.key) as frames:
        for frame in frames:
            if frame[0] == "stop":
                report.rows = frame[3]
                raise CsvImportError(frame[1], frame[2], report)
            _, position, plain, others, spans = frame
            store_chunk(plain, others, spans, report, tz)
            report.rows = max(plain[-1][0] if plain else 0, others[-1][0] if others else 0)
            report.position = position
            on_chunk(report)
    return report


@contextmanager
def _parser(path: str, done: int, chunk_rows: int, zone: str) -> Iterator[Iterator[tuple]]:
    """The parsing process's frames; the process is ended and reaped in any case."""
    args = [sys.executable, "-I", csv_reading.__file__, path, str(done), zone, str(chunk_rows),
            str(usage_csv.MAX_LINE_CHARS), ",".join(USAGE_TYPES)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE)
    try:
        yield _frames(process.stdout)
    except BaseException:
        # This process stops early (an error, the worker dying). Not `process.kill()`: it
        # may reap the child first (poll), and wait4 below would find nothing to wait for.
        # The pid cannot be reused before it is reaped.
        os.kill(process.pid, signal.SIGKILL)
        raise
    finally:
        process.stdout.close()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        # (Its ru_maxrss would be this process's size when it was started: Linux keeps the
        # peak of the memory it had before exec. bench/ingest.py reads its VmHWM instead.)
        log.info("CSV parsing process %s: exit %s, CPU %.2f s", process.pid, process.returncode,
                 usage.ru_utime + usage.ru_stime)


def _frames(pipe) -> Iterator[tuple]:
    """The frames of `csv_reading.parse_file` until its end frame."""
    while True:
        head = pipe.read(4)
        data = pipe.read(int.from_bytes(head, "little")) if len(head) == 4 else b""
        if not data:
            raise RuntimeError("the CSV parsing process stopped before the end of the file")
        frame = marshal.loads(data)  # from our own child process: plain values only
        if frame[0] == "end":
            return
        yield frame


class _Line(NamedTuple):
    """What the quick check of a plain row needs of its line (keys as in `instant_key`)."""

    id: int
    starts: str
    ends: str | None
    usage_type: str


def store_chunk(plain: list, others: list, spans: dict, report: ImportReport, tz) -> None:
    """Check and store one chunk from the parsing process, and count it; flushes.

    :param plain: (row, line, *`csv_reading.lean_fields`) of the plain rows.
    :param others: (row, line, raw record or the message why the row is misshapen).
    :param spans: per line reference of the plain rows: [earliest from, latest from,
        whether a row names a usage type] (the whole chunk is checked against its lines
        at once when they allow it, row by row otherwise).
    :param report: counts and errors so far.
    :param tz: the merchant time zone.
    """
    lookup = LineLookup([_naming(ref) for ref in spans] + [r[2] for r in others if isinstance(r[2], dict)])
    lines = {ref: _quick_line(lookup, ref) for ref in spans}
    refused: dict = {}  # row -> (line, field, message)
    careful = any([_full_check(r, lookup, tz, refused) for r in others])
    stored = plain
    if not all(_span_fits(lines[ref], span) for ref, span in spans.items()):
        stored = []
        for r in plain:
            if _row_fits(r, lines[r[2]]):
                stored.append(r)
            elif _slow_check(r, lookup, tz, refused):
                careful = True  # valid after all (the quick checks are only a filter)
    if careful or not _copied(stored, lines):
        _store_carefully(sorted(plain + others, key=itemgetter(0)), report)
        return
    report.stored += len(stored)
    for row in sorted(refused):
        line, field, message = refused[row]
        report.add_error(row, field, message, line)


def _span_fits(line: _Line | None, span: list) -> bool:
    """Whether every plain row of a line passes its checks (no row names a type)."""
    return line is not None and line.starts <= span[0] and not span[2] \
        and (line.ends is None or span[1] < line.ends)


def _row_fits(r: tuple, line: _Line | None) -> bool:
    return line is not None and line.starts <= r[3] and (line.ends is None or r[3] < line.ends) \
        and (r[4] is None or r[4] == line.usage_type)


def _naming(ref: int | str) -> dict:
    """A record naming only its line, as `LineLookup` reads records."""
    return {"line_item_id": ref} if isinstance(ref, int) else {"line_item_external_key": ref}


def _quick_line(lookup: LineLookup, ref: int | str) -> _Line | None:
    try:
        line = lookup.find(_naming(ref))
    except ValidationError:
        return None
    if not line.is_metered:
        return None
    ends = None if line.cancel_at is None else instant_key(line.cancel_at)
    return _Line(line.id, instant_key(line.subscribe_at), ends, line.usage_type)


def _typed(r: tuple) -> UsageInput:
    """A plain row's `lean_fields` as `parse_fields` returns them."""
    def instant(key: str) -> datetime:
        return datetime.fromisoformat(key).replace(tzinfo=timezone.utc)
    return UsageInput(None, from_micro(r[6]), instant(r[3]), instant(r[7]), r[4], r[8], r[9])


def _slow_check(r: tuple, lookup: LineLookup, tz, refused: dict) -> bool:
    """The line checks of a plain row, naming its error; whether it is valid."""
    try:
        check_line(_typed(r), lookup.find(_naming(r[2])), tz)
    except ValidationError as error:
        refused[r[0]] = (r[1], error.field, str(error))
        return False
    return True


def _full_check(r: tuple, lookup: LineLookup, tz, refused: dict) -> bool:
    """Every check of a row that is not plain, naming its error; whether it is valid."""
    if not isinstance(r[2], dict):
        refused[r[0]] = (r[1], None, r[2])  # misshapen: the message says why
        return False
    try:
        check_usage(r[2], lookup.find(r[2]), tz, utcnow())
    except ValidationError as error:
        refused[r[0]] = (r[1], error.field, str(error))
        return False
    return True


def _copied(plain: list, lines: dict) -> bool:
    """Store the checked rows by one COPY in a savepoint; False (nothing stored) when the
    database refused it: a key taken or repeated, a line deleted meanwhile."""
    if not plain:
        return True
    try:
        with db.session.begin_nested():
            copy_plain(db.session.connection(), plain, {ref: line.id for ref, line in lines.items()
                                                        if line is not None}, instant_key(utcnow()))
    except IntegrityError:
        return False
    return True


def _store_carefully(rows: list, report: ImportReport) -> None:
    """The chunk through `ingest_batch`, as `import_usage_csv` stores it (duplicates,
    conflicts, rows of unusual forms)."""
    chunk = [(r[0], r[1], r[2], None) if len(r) == 3 else (r[0], r[1], _naming(r[2]), _typed(r))
             for r in rows]
    records = [(raw, fields) for _, _, raw, fields in chunk if isinstance(raw, dict)]
    outcomes = ingest_batch([raw for raw, _ in records], source="csv",
                            parsed=[fields for _, fields in records])
    count_outcomes(chunk, outcomes, report)

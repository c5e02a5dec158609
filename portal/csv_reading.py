"""Reading a usage CSV file into numbered rows, and the lean typing of plain rows.

Standard library only, ON PURPOSE: the import job runs this module as its own small
process (`python -I portal/csv_reading.py FILE ...`, see `portal.services.usage_csv_split`),
which reads and types the next chunks while the job stores the chunk before; it must not
import Flask, SQLAlchemy or the app (memory, start-up). `portal.services.usage_csv` reads
files with the same functions, so both number rows and refuse files identically.

Numbering: the header is row 0 and data rows are numbered 1, 2, ... in file order;
blank lines (and rows whose cells are all empty) are skipped and not numbered.
"""
from __future__ import annotations

import csv
import io
import marshal
import re
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

COLUMNS = ("line_item_id", "line_item_external_key", "usage_value", "from", "to",
           "external_key", "type")
MAX_LINE_ID = 2**31 - 1  # line_items.id is a 32-bit column
MAX_MICRO = 10**18  # 10^12 in micro-units: the largest usage value
UTC_ZONES = frozenset({"UTC", "Etc/UTC"})
_PLAIN_VALUE = re.compile(r"([0-9]{1,13})(?:\.([0-9]{1,6}))?")
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


class ReadError(Exception):
    """The file cannot be read on (header, encoding, malformed CSV): `field`, `message`."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def header_columns(cells: list[str] | None) -> list[str | None]:
    """The known column of each header position (None: ignored); ReadError if unusable."""
    if cells is None:
        raise ReadError("file", "the file is empty: a header row is required")
    names = [cell.strip().lower() for cell in cells]
    for name in COLUMNS:
        if names.count(name) > 1:
            raise ReadError(name, f"the column '{name}' appears twice in the header row")
    if "usage_value" not in names:
        raise ReadError("usage_value", "the header row has no 'usage_value' column")
    if "line_item_id" not in names and "line_item_external_key" not in names:
        raise ReadError("line_item_id", "the header row needs a 'line_item_id' or a "
                                        "'line_item_external_key' column")
    return [name if name in COLUMNS else None for name in names]


def numbered_rows(stream, counter, max_line: int) -> Iterator[tuple]:
    """(row, line, raw record or the message why the row is misshapen) after the first
    `counter.rows` data rows (done by an earlier attempt); `counter.rows` counts them.

    :param stream: a binary stream with `read(size)`.
    :param counter: any object with an integer `rows`.
    :param max_line: the longest line accepted, in characters.
    :raises ReadError: bad header, not UTF-8, a line too long, malformed CSV.
    """
    reader = csv.reader(_lines(_text(stream), counter, max_line))
    records = _records(reader, counter)
    columns = header_columns(next(records, None))
    done = counter.rows
    for seen, cells in enumerate(records, start=1):
        if seen <= done:
            continue
        counter.rows += 1
        yield counter.rows, reader.line_num, _row(cells, columns)


def _row(cells: list[str], columns: list) -> dict | str:
    if len(cells) != len(columns):
        return f"the row has {len(cells)} cells, the header has {len(columns)}"
    return {name: cell.strip() for name, cell in zip(columns, cells, strict=True) if name is not None}


def _records(reader, counter) -> Iterator[list[str]]:
    """Non-blank CSV records; a malformed file stops with the row it failed at."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ReadError("file", f"row {counter.rows + 1}: malformed CSV ({error})") from None
        if any(cell.strip() for cell in cells):
            yield cells


class _Source(io.RawIOBase):
    """Any object with `read(size)` (werkzeug's stream, a WSGI input) as a raw stream."""

    def __init__(self, source):
        self.source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.source.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _text(stream) -> io.TextIOWrapper:
    # utf-8-sig drops the byte-order mark spreadsheets put first; newline="" as csv wants.
    # Bad bytes become lone surrogates, found line by line in `_lines`: decoding errors
    # would surface a whole buffer ahead, at the wrong row.
    buffered = io.BufferedReader(_Source(stream), buffer_size=1 << 16)
    return io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _lines(text: io.TextIOWrapper, counter, max_line: int) -> Iterator[str]:
    """The file's lines, each read with a bounded buffer."""
    while True:
        line = text.readline(max_line)
        if not line:
            return
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            raise ReadError("file", f"row {counter.rows + 1}: the file is not UTF-8 text") from None
        if len(line) == max_line and not line.endswith(("\n", "\r")):
            raise ReadError("file", f"row {counter.rows + 1}: a line is longer than "
                                    f"{max_line} characters")
        yield line


def instant_key(instant: datetime) -> str:
    """An aware instant as naive UTC text with microseconds: how PostgreSQL's COPY and
    SQLite store it, and ordered like the instants (fixed width)."""
    return instant.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


def _instant_key(text: str, tz, utc_zone: bool) -> str:
    # `portal.timeutil.parse_datetime`, step by step (its errors send the row to it); a
    # naive time in a UTC merchant zone needs no conversion (the common case of files).
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if "Z" in text else text)
    if parsed.tzinfo is None:
        if utc_zone:
            return parsed.isoformat(" ", "microseconds")
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


def lean_fields(raw: dict, tz, now_key: str, types) -> tuple | None:
    """A plainly valid row typed as `usage_input.parse_fields` types it, plus its line
    reference and its COPY text up to `created_at` (without `line_item_id` when the line
    is named by its external key); None for anything
    unusual (the caller then checks the row in full, which names its error).

    :param now_key: `instant_key` of the instant a row without `from` gets.
    :returns: (line id or key, from key, usage type, COPY text, micro-units, to key,
        external key, from given); keys as `instant_key` writes them.
    """
    line_id = raw.get("line_item_id")
    if line_id:
        if not (line_id.isascii() and line_id.isdigit() and len(line_id) <= 10
                and 0 < int(line_id) <= MAX_LINE_ID):
            return None
        ref = int(line_id)
    elif (ref := _plain_text(raw.get("line_item_external_key"))) is None:
        return None
    match = _PLAIN_VALUE.fullmatch(raw.get("usage_value") or "")
    if match is None:
        return None
    whole, fraction = match.groups()
    micro = int(whole) * 1_000_000 + (int(fraction.ljust(6, "0")) if fraction else 0)
    start, end = raw.get("from"), raw.get("to")
    utc_zone = tz.key in UTC_ZONES
    try:
        from_key = _instant_key(start, tz, utc_zone) if start else now_key
        to_key = _instant_key(end, tz, utc_zone) if end else from_key
    except (ValueError, OverflowError):
        return None
    kind, key = raw.get("type") or None, raw.get("external_key") or None
    if micro > MAX_MICRO or to_key < from_key or (kind is not None and kind not in types) \
            or (key is not None and _plain_text(key) is None):
        return None
    copied = _COPY_SPECIAL.sub(lambda m: _COPY_ESCAPES[m.group()], key) if key else "\\N"
    # A line named by its id starts the text (the job adds the id of a line named by key).
    text = (f"{ref if type(ref) is int else ''}\t{micro}\t{from_key}\t{to_key}\t"
            f"{kind or chr(92) + 'N'}\t{copied}\tcsv\t")
    return ref, from_key, kind, text, micro, to_key, key, bool(start)


def _plain_text(value: str | None) -> str | None:
    """A key-like cell as `usage_input.text_field` accepts it (the file is UTF-8 already)."""
    if not value or len(value) > 255 or "\x00" in value:
        return None
    return value


class Counting:
    """A binary stream that counts the bytes read (the progress of a pass)."""

    def __init__(self, stream):
        self.stream, self.count = stream, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.count += len(data)
        return data


class _Counter:
    def __init__(self, rows: int):
        self.rows = rows


def send(out, frame) -> None:
    """Write one frame (marshal: plain values only) with its length."""
    data = marshal.dumps(frame)
    out.write(len(data).to_bytes(4, "little") + data)
    out.flush()


def parse_file(path: str, done: int, tz, chunk_rows: int, max_line: int, types, out) -> None:
    """Write the file's chunks after row `done` as frames to `out`: ("chunk", bytes read,
    *`_typed`), then ("end",) or ("stop", field, message, rows read)."""
    counter = _Counter(done)
    with open(path, "rb") as raw:
        stream, chunk = Counting(raw), []
        try:
            for row, line, record in numbered_rows(stream, counter, max_line):
                chunk.append((row, line, record))
                if len(chunk) >= chunk_rows:
                    send(out, ("chunk", stream.count, *_typed(chunk, tz, types)))
                    chunk = []
        except ReadError as error:  # the rows of an unfinished chunk are not stored, as in
            send(out, ("stop", error.field, error.message, counter.rows))  # `usage_csv`
            return
        if chunk:
            send(out, ("chunk", stream.count, *_typed(chunk, tz, types)))
    send(out, ("end",))


def _typed(chunk: list, tz, types) -> tuple[list, list, dict]:
    """A chunk as (plain rows: (row, line, *lean fields); other rows: (row, line, raw
    record or message); per line reference, [earliest from, latest from, any typed row])."""
    now_key = instant_key(datetime.now(timezone.utc))
    plain, others, spans = [], [], {}
    for row, line, record in chunk:
        fields = lean_fields(record, tz, now_key, types) if isinstance(record, dict) else None
        if fields is None:
            others.append((row, line, record))
            continue
        plain.append((row, line, *fields))
        ref, start, kind = fields[:3]
        span = spans.get(ref)
        if span is None:
            spans[ref] = [start, start, kind is not None]
            continue
        if start < span[0]:
            span[0] = start
        elif start > span[1]:
            span[1] = start
        if kind is not None:
            span[2] = True
    return plain, others, spans


if __name__ == "__main__":  # the job's parsing process: FILE DONE TZ CHUNK MAX_LINE TYPES
    file, rows_done, zone, chunk_size, longest, kinds = sys.argv[1:7]
    parse_file(file, int(rows_done), ZoneInfo(zone), int(chunk_size), int(longest),
               frozenset(kinds.split(",")), sys.stdout.buffer)

"""The job's CSV import in two processes (`usage_csv_split`): the parsing process's lean
typing gives exactly what `parse_fields` gives, and the file's report and stored rows are
those of `import_usage_csv` (errors, duplicates, conflicts, rows of unusual forms)."""
from __future__ import annotations

import io
import re
import subprocess
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from support.factories import make_package, utc
from portal.csv_reading import instant_key, lean_fields
from portal.models import BillingChange, UsageRecord
from portal.models.catalog import USAGE_TYPES
from portal.services import usage_csv_split
from portal.services.usage import parse_fields
from portal.services.usage_csv import CsvImportError, ImportReport, import_usage_csv
from portal.services.usage_csv_split import import_usage_file

NOW = datetime(2015, 9, 20, 8, 30, 15, 123456, tzinfo=timezone.utc)
VALUES = ["0", "12", "12.5", "12.500000", "0012.25", "1000000000000", "1000000000000.5",
          "1.1234567", "5.", ".5", "1e3", "-1", "12,5", "", "x"]
INSTANTS = ["", "2015-09-15", "2015-09-15 10:00:00", "2015-09-15T10:00:00Z", "2015-09-15 10:00:00.25",
            "2015-09-15T10:00:00+02:00", "2015-11-01 01:30:00", "2015-03-08 02:30:00", "2015-02-30",
            "0001-01-01 00:00:00", "9999-12-31 23:59:59", "15/09/2015", "2015-09-15 10:00:00 "]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Pacific/Kiritimati"])
def test_lean_typing_is_parse_fields_or_nothing(zone):
    tz = ZoneInfo(zone)
    rows = [{"line_item_id": "7", "usage_value": value, "from": start, "to": end, "type": kind,
             "external_key": key}
            for value in VALUES for start in INSTANTS for end in ("", "2015-09-16 00:00:00")
            for kind, key in (("", ""), ("max", "a\tb\\c"), ("sum", "k"))]
    lean_count = 0
    for raw in rows:
        lean, full = lean_fields(raw, tz, instant_key(NOW), USAGE_TYPES), parse_fields(raw, tz, NOW)
        if lean is None:
            continue
        lean_count += 1
        assert full is not None, raw
        ref, from_key, kind, text, micro, to_key, key, given = lean
        assert (ref, kind, key, given) == (7, full.usage_type, full.external_key, full.from_given)
        assert micro == full.value * 1_000_000 and (from_key, to_key) == (
            instant_key(full.from_at), instant_key(full.to_at))
        escaped = "\\N" if key is None else key.replace("\\", "\\\\").replace("\t", "\\t")
        assert text == f"7\t{micro}\t{from_key}\t{to_key}\t{kind or chr(92) + 'N'}\t{escaped}\tcsv\t"
    assert lean_count > 100


@pytest.fixture
def line(db):
    line = make_package(start=utc(2015, 9, 1)).line_items[0]
    line.external_key = "acme-voip"
    db.session.commit()
    return line


def _file(tmp_path, text: str) -> str:
    path = tmp_path / "usage.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _import(path: str, rows: int = 1000) -> ImportReport:
    return import_usage_file(path, dry_run=False, chunk_rows=rows, on_chunk=lambda _r: None,
                             resume=ImportReport())


def _stored(db) -> list[tuple]:
    return [(r.line_item_id, r.usage_value, r.from_at, r.to_at, r.usage_type, r.external_key,
             r.source) for r in db.session.scalars(select(UsageRecord).order_by(UsageRecord.id))]


def test_a_plain_file_is_stored_with_its_change_log_and_exact_values(db, line, tmp_path):
    text = "line_item_id,usage_value,from,to,external_key,type\n" + "".join(
        f"{line.id},{n}.{n:06d},2015-09-{1 + n % 28:02d} 10:00:00,,k{n},\n" for n in range(1, 26))
    report = _import(_file(tmp_path, text), rows=10)
    assert (report.rows, report.stored, report.duplicates, report.error_count) == (25, 25, 0, 0)
    rows = _stored(db)
    assert rows[0] == (line.id, Decimal("1.000001"), utc(2015, 9, 2, 10), utc(2015, 9, 2, 10), None,
                       "k1", "csv")
    assert sum(r[1] for r in rows) == sum(Decimal(f"{n}.{n:06d}") for n in range(1, 26))
    # The change-log trigger logged every row, as for the other channels.
    assert len(db.session.scalars(select(BillingChange)).all()) == 25


MIXED = ("line_item_id,line_item_external_key,usage_value,from,to,external_key,type\n"
         "{id},,1,2015-09-15,,a,\n"          # plain
         ",acme-voip,2,2015-09-15 01:00:00,,b,\n"  # plain, line by its key
         "{id},,-1,2015-09-15,,c,\n"         # invalid value
         "{id},,3,2015-08-15,,d,\n"          # before the line started
         "{id},,4,2015-09-15,2015-09-14,e,\n"  # to before from
         "999999,,5,2015-09-15,,f,\n"        # no such line
         "{id},,6,2015-09-15,,g,max\n"       # wrong usage type
         "{id},,7\n"                         # misshapen
         "{id},,1,2015-09-15,,a,\n"          # the key again, same content: duplicate
         "{id},,8,2015-09-15,,a,\n"          # the key again, other content: conflict
         "{id},,9.,2015-09-15T02:00:00+02:00,,h,\n")  # valid, of an unusual form


def _without_ids(report: dict) -> str:
    return re.sub(r"usage record \d+", "usage record N", repr(report))  # the ids differ by run


@pytest.mark.parametrize("rows", [3, 1000])
def test_a_mixed_file_gives_the_report_and_rows_of_the_stream_import(db, line, tmp_path, rows):
    text = MIXED.format(id=line.id)
    expected = import_usage_csv(io.BytesIO(text.encode()), chunk_rows=rows)
    expected_rows = _stored(db)
    db.session.execute(delete(UsageRecord))
    db.session.commit()
    report = _import(_file(tmp_path, text), rows=rows)
    assert _without_ids(report.as_dict()) == _without_ids(expected.as_dict())
    assert (report.rows, report.stored, report.duplicates, report.error_count) == (11, 3, 1, 7)
    assert [(e["row"], e["field"]) for e in report.errors] == [
        (3, "usage_value"), (4, "from"), (5, "to"), (6, "line_item_id"), (7, "type"), (8, None),
        (10, "external_key")]
    assert _stored(db) == expected_rows


def test_a_file_imported_again_counts_duplicates_and_stores_nothing_twice(db, line, tmp_path):
    text = "line_item_id,usage_value,from,external_key\n" + "".join(
        f"{line.id},{n},2015-09-15 10:00:{n:02d},k{n}\n" for n in range(30))
    path = _file(tmp_path, text)
    assert _import(path, rows=7).stored == 30
    db.session.commit()
    again = _import(path, rows=7)
    assert (again.rows, again.stored, again.duplicates, again.error_count) == (30, 0, 30, 0)
    assert len(_stored(db)) == 30


def test_a_resumed_import_skips_the_rows_done_and_goes_on_counting(db, line, tmp_path):
    text = "line_item_id,usage_value,from\n" + f"{line.id},1,2015-09-15\n" * 10
    done = ImportReport(rows=4, stored=4)
    reports = []
    report = import_usage_file(_file(tmp_path, text), dry_run=False, chunk_rows=4,
                               on_chunk=lambda r: reports.append((r.rows, r.stored, r.position)),
                               resume=done)
    assert (report.rows, report.stored) == (10, 10) and len(_stored(db)) == 6
    assert [r[:2] for r in reports] == [(8, 8), (10, 10)] and reports[-1][2] == len(text)


def test_a_bad_byte_stops_the_file_after_the_chunks_before_it(db, line, tmp_path):
    path = tmp_path / "bad.csv"
    good = "".join(f"{line.id},1,k{i}\n" for i in range(5))
    path.write_bytes(f"line_item_id,usage_value,external_key\n{good}".encode() + b"\xff,1,x\n")
    stored = []
    with pytest.raises(CsvImportError) as error:
        import_usage_file(str(path), dry_run=False, chunk_rows=2, on_chunk=lambda r: stored.append(r.stored),
                          resume=ImportReport())
    assert error.value.field == "file" and "row 6: the file is not UTF-8" in error.value.message
    assert stored == [2, 4] and error.value.report.rows == 5


def test_the_parsing_process_is_ended_when_the_import_stops_early(db, line, tmp_path, monkeypatch):
    started = []
    original = subprocess.Popen

    def popen(*args, **kwargs):
        started.append(original(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(usage_csv_split.subprocess, "Popen", popen)
    text = "line_item_id,usage_value\n" + f"{line.id},1\n" * 5000

    def stop(_report):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_usage_file(_file(tmp_path, text), dry_run=False, chunk_rows=10, on_chunk=stop,
                          resume=ImportReport())
    assert len(started) == 1 and started[0].returncode is not None  # ended and reaped


def test_a_line_id_of_thousands_of_digits_is_a_row_error_not_a_failed_import(db, line, tmp_path):
    """int() refuses strings over 4300 digits: such a cell must be the row's error naming
    line_item_id, in the parsing process and in the full check, not a dead import."""
    text = (f"line_item_id,usage_value,from\n{line.id},1,2015-09-15\n{'9' * 5000},2,2015-09-15\n"
            f"{line.id},3,2015-09-16\n")
    report = _import(_file(tmp_path, text), rows=2)
    assert (report.rows, report.stored, report.error_count) == (3, 2, 1)
    assert [(e["row"], e["field"]) for e in report.errors] == [(2, "line_item_id")]
    assert sorted(r[1] for r in _stored(db)) == [Decimal(1), Decimal(3)]
    preview = import_usage_csv(io.BytesIO(text.encode()), dry_run=True)
    assert [(e["row"], e["field"]) for e in preview.errors] == [(2, "line_item_id")]

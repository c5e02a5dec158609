"""The CSV import service: streaming in chunks, row numbering, header and file errors."""
import io

import pytest

from support.factories import make_package
from portal.models import UsageRecord
from portal.services import usage_csv
from portal.services.usage_csv import CsvImportError, import_usage_csv


@pytest.fixture
def line(db):
    line = make_package().line_items[0]
    line.external_key = "acme-voip"
    db.session.flush()
    return line


class TrickleStream:
    """A request body arriving in small pieces; records how many chunks were stored
    before each read, to prove the import works while the file is still arriving."""

    def __init__(self, data: bytes, piece: int = 4096):
        self.data, self.piece, self.position = data, piece, 0
        self.flushes_seen: list[int] = []
        self.flushes = 0

    def read(self, size: int = -1) -> bytes:
        self.flushes_seen.append(self.flushes)
        size = self.piece if size is None or size < 0 else min(size, self.piece)
        chunk = self.data[self.position:self.position + size]
        self.position += len(chunk)
        return chunk


def _csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


def test_streams_4000_rows_in_chunks_while_reading(db, line):
    # 20 chunks of 200 rows prove the streaming as 20 chunks of the default 1000 would, at a
    # fifth of the database work (the chunk size is a parameter; its default is not the point).
    rows = "".join(f"{line.id},{i % 97}.25,2015-09-{1 + i % 28:02d} 10:00:00,k{i}\n" for i in range(4000))
    stream = TrickleStream(("line_item_id,usage_value,from,external_key\n" + rows).encode())
    reports = []

    def committed(report):
        stream.flushes += 1
        reports.append(report.stored)
        db.session.commit()

    report = import_usage_csv(stream, chunk_rows=200, on_chunk=committed)
    assert (report.rows, report.stored, report.error_count) == (4000, 4000, 0)
    assert reports == list(range(200, 4001, 200))
    assert stream.flushes_seen[len(stream.flushes_seen) // 2] >= 5  # stored while still reading
    assert db.session.query(UsageRecord).count() == 4000


def test_row_numbers_lines_and_fields_of_errors(db, line):
    text = ("\ufeffLine_Item_ID, usage_value ,from,to,external_key,notes\n"
            f"{line.id},1,2015-09-15,,a,ok\n"
            "\n"
            f"{line.id},-1,2015-09-15,,b,negative\n"
            f'{line.id},2,2015-09-15,2015-09-14,c,"two\nlines"\n'
            f"{line.id},3\n"
            f"999999,4,2015-09-15,,d,\n"
            ",,,,,\n"
            f"{line.id},1,2015-09-15,,a,retry\n"
            f"{line.id},9,2015-09-15,,a,conflict\n")
    report = import_usage_csv(_csv(text))
    assert (report.rows, report.stored, report.duplicates, report.error_count) == (7, 1, 1, 5)
    assert [(e["row"], e["line"], e["field"]) for e in report.errors] == [
        (2, 4, "usage_value"), (3, 6, "to"), (4, 7, None), (5, 8, "line_item_id"), (7, 11, "external_key"),
    ]
    assert report.errors[2]["message"] == "the row has 2 cells, the header has 6"


def test_dry_run_stores_nothing_but_reports_everything(db, line):
    text = "line_item_external_key,usage_value,external_key\nacme-voip,1,a\nacme-voip,1,a\nacme-voip,x,b\n"
    report = import_usage_csv(_csv(text), dry_run=True)
    assert report.as_dict() == {"rows": 3, "stored": 1, "duplicates": 1, "error_count": 1,
                                "dry_run": True, "errors": [{"row": 3, "line": 4, "field": "usage_value",
                                                             "message": "usage_value: must be a number"}]}
    assert db.session.query(UsageRecord).count() == 0


def test_error_list_is_capped_but_all_are_counted(db, line, monkeypatch):
    monkeypatch.setattr(usage_csv, "MAX_ERRORS", 10)
    text = "line_item_id,usage_value\n" + f"{line.id},-1\n" * 25
    report = import_usage_csv(_csv(text), chunk_rows=7)
    assert (report.error_count, len(report.errors), report.errors[-1]["row"]) == (25, 10, 10)


@pytest.mark.parametrize("text, field, message", [
    ("", "file", "empty"),
    ("\n\n", "file", "empty"),
    ("line_item_id,from\n1,2015-09-15\n", "usage_value", "'usage_value'"),
    ("usage_value,external_key\n1,a\n", "line_item_id", "'line_item_external_key'"),
    ("line_item_id,usage_value,usage_value\n", "usage_value", "twice"),
])
def test_bad_headers_name_the_column(db, text, field, message):
    with pytest.raises(CsvImportError) as error:
        import_usage_csv(_csv(text))
    assert error.value.field == field and message in error.value.message


def test_non_utf8_stops_at_the_row_with_what_was_stored(db, line):
    good = "".join(f"{line.id},1,k{i}\n" for i in range(5))
    data = f"line_item_id,usage_value,external_key\n{good}".encode() + b"\xff\xfe,1,x\n"
    stored = []
    with pytest.raises(CsvImportError) as error:
        import_usage_csv(io.BytesIO(data), chunk_rows=2, on_chunk=lambda r: stored.append(r.stored))
    assert error.value.field == "file" and "row 6: the file is not UTF-8" in error.value.message
    assert stored == [2, 4] and error.value.report.rows == 5


def test_an_endless_line_is_refused_without_buffering_it(db, monkeypatch):
    monkeypatch.setattr(usage_csv, "MAX_LINE_CHARS", 100)
    with pytest.raises(CsvImportError, match="longer than 100"):
        import_usage_csv(_csv("line_item_id,usage_value\n" + "1" * 1000))

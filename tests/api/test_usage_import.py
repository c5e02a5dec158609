"""`POST /usage/_action/import`: a streamed text/csv body answered with a per-row report."""
import pytest

from support.api_client import body
from factories import make_package
from portal.models import UsageRecord

URL = "/api/v3/usage/_action/import"
CSV = {"Content-Type": "text/csv"}


@pytest.fixture
def line(db):
    line = make_package().line_items[0]
    line.external_key = "acme-voip"
    db.session.commit()
    return line


def _file(line, rows=3):
    lines = [f"{line.id},{i}.5,2015-09-{i + 1:02d} 00:00:00,2015-09-{i + 1:02d} 01:00:00,k{i}"
             for i in range(rows)]
    return "line_item_id,usage_value,from,to,external_key\n" + "\n".join(lines) + "\n"


def test_import_then_reupload_counts_duplicates(api, line, db):
    first = api.post(URL, data=_file(line), headers=CSV)
    assert first.status_code == 200
    assert body(first)["response"] == {"rows": 3, "stored": 3, "duplicates": 0, "errors": [],
                                       "error_count": 0, "dry_run": False}
    again = body(api.post(URL, data=_file(line), headers=CSV))["response"]
    assert (again["stored"], again["duplicates"]) == (0, 3)
    records = body(api.get(f"/api/v3/usage?where=line_item_id:EQUALS:{line.id}&order=from:ASC"))
    assert [(u["external_key"], u["source"], u["to"]) for u in records["response"]][0] == (
        "k0", "csv", "2015-09-01 01:00:00")


def test_dry_run_stores_nothing(api, line, db):
    text = _file(line) + f"{line.id},-2,2015-09-09,,bad\n"
    report = body(api.post(f"{URL}?dry_run=1", data=text, headers=CSV))["response"]
    assert (report["dry_run"], report["stored"], report["error_count"]) == (True, 3, 1)
    assert report["errors"] == [{"row": 4, "line": 5, "field": "usage_value",
                                 "message": "usage_value: must not be negative"}]
    assert db.session.query(UsageRecord).count() == 0


def test_a_large_file_is_imported_in_committed_chunks(api, line, db):
    response = api.post(URL, data=_file(line, rows=1) + "".join(
        f"{line.id},1,2015-09-15 00:00:00,,big{i}\n" for i in range(4999)), headers=CSV)
    assert body(response)["response"]["stored"] == 5000
    assert db.session.query(UsageRecord).count() == 5000


@pytest.mark.parametrize("data, headers, code, field", [
    ("line_item_id,from\n1,2015-09-15\n", CSV, 400, "usage_value"),
    ("usage_value\n1\n", CSV, 400, "line_item_id"),
    ("", CSV, 400, "file"),
    (b"line_item_id,usage_value\n1,\xe9\n", CSV, 400, "file"),
    ("line_item_id,usage_value\n", {"Content-Type": "text/csv; charset=latin-1"}, 400, "file"),
    ("line_item_id,usage_value\n", {"Content-Type": "application/json"}, 415, None),
    ("x", {"Content-Type": "multipart/form-data; boundary=x"}, 415, None),
])
def test_bad_files_are_4xx_naming_the_problem(api, line, data, headers, code, field):
    response = api.post(URL, data=data, headers=headers)
    assert response.status_code == code, body(response)
    assert body(response)["details"].get("field") == field


def test_bad_dry_run_flag_is_400(api, line):
    response = api.post(f"{URL}?dry_run=maybe", data=_file(line), headers=CSV)
    assert response.status_code == 400 and body(response)["details"]["field"] == "dry_run"

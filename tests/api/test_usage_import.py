"""`POST /usage/_action/import`: the text/csv body streams to disk and answers 202 at once;
the import runs as a background job (the scheduler's job runner); `GET /usage_import/N`
shows its progress, counts and per-row errors."""
import pytest
from sqlalchemy import func, select

from support.api_client import body
from support.factories import make_package, utc
from portal.jobs import run_pending
from portal.models import CsvImport, Job, UsageRecord

URL = "/api/v3/usage/_action/import"
CSV = {"Content-Type": "text/csv"}


@pytest.fixture(autouse=True)
def imports_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORTS_DIR", str(tmp_path))
    return tmp_path


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


def upload(api, text, query="") -> int:
    """POST the file; assert the 202 and its Location; the import's id."""
    response = api.post(URL + query, data=text, headers=CSV)
    assert response.status_code == 202, body(response)
    import_id = body(response)["response"]["id"]
    assert response.headers["Location"] == f"http://localhost/api/v3/usage_import/{import_id}"
    return import_id


def state(api, import_id) -> dict:
    response = api.get(f"/api/v3/usage_import/{import_id}")
    assert response.status_code == 200
    return body(response)["response"]


def stored(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(UsageRecord))


def test_upload_answers_202_then_the_job_runner_imports_and_get_shows_the_counts(app, api, line, db):
    import_id = upload(api, _file(line) + f"{line.id},-2,2015-09-09,,bad\n")
    queued = state(api, import_id)
    assert (queued["status"], queued["rows"], queued["stored"]) == ("running", 0, 0)
    assert stored(db) == 0  # nothing ran in the request
    assert run_pending(app) == {"done": 1}
    done = state(api, import_id)
    assert {k: done[k] for k in ("status", "percent", "rows", "rows_total", "stored", "duplicates",
                                  "error_count")} == {
        "status": "done", "percent": 100, "rows": 4, "rows_total": 4, "stored": 3,
        "duplicates": 0, "error_count": 1}
    assert done["errors"] == [{"row": 4, "line": 5, "field": "usage_value",
                               "message": "usage_value: must not be negative"}]
    assert stored(db) == 3
    again = upload(api, _file(line))
    run_pending(app)
    assert (state(api, again)["stored"], state(api, again)["duplicates"]) == (0, 3)
    records = body(api.get(f"/api/v3/usage?where=line_item_id:EQUALS:{line.id}&order=from:ASC"))
    assert [(u["external_key"], u["source"], u["to"]) for u in records["response"]][0] == (
        "k0", "csv", "2015-09-01 01:00:00")


def test_a_dry_run_stores_nothing_and_can_be_confirmed(app, api, line, db):
    import_id = upload(api, _file(line) + f"{line.id},-2,2015-09-09,,bad\n", "?dry_run=1")
    run_pending(app)
    report = state(api, import_id)
    assert (report["status"], report["stored"], report["error_count"]) == ("validated", 3, 1)
    assert stored(db) == 0
    confirmed = api.post(f"/api/v3/usage_import/{import_id}/_action/confirm")
    assert confirmed.status_code == 200 and body(confirmed)["response"] is True
    assert api.post(f"/api/v3/usage_import/{import_id}/_action/confirm").status_code == 409
    run_pending(app)
    assert (state(api, import_id)["status"], stored(db)) == ("done", 3)


def test_a_preview_retried_after_the_confirm_leaves_the_import_alone(app, api, line, db):
    """A preview pass taken over after the merchant confirmed (its first worker died) must not
    set the running import back to "validated" (a second confirm would import it twice)."""
    from portal.jobs.queue import enqueue
    from portal.services.imports import JOB_KIND, PREVIEW

    import_id = upload(api, _file(line), "?dry_run=1")
    run_pending(app)
    assert api.post(f"/api/v3/usage_import/{import_id}/_action/confirm").status_code == 200
    # The stale preview, due before the confirmed import job, so it runs first.
    enqueue(JOB_KIND, {"import_id": import_id, "phase": PREVIEW}, run_after=utc(2015, 1, 1))
    db.session.commit()
    run_pending(app)
    assert (state(api, import_id)["status"], stored(db)) == ("done", 3)
    assert api.post(f"/api/v3/usage_import/{import_id}/_action/confirm").status_code == 409
    assert stored(db) == 3


def test_a_large_file_is_imported_in_committed_chunks(app, api, line, db):
    import_id = upload(api, _file(line, rows=1) + "".join(
        f"{line.id},1,2015-09-15 00:00:00,,big{i}\n" for i in range(4999)))
    run_pending(app)
    assert state(api, import_id)["stored"] == 5000 and stored(db) == 5000


@pytest.mark.parametrize("data, headers, code, field", [
    ("line_item_id,from\n1,2015-09-15\n", CSV, 400, "usage_value"),
    ("usage_value\n1\n", CSV, 400, "line_item_id"),
    ("", CSV, 400, "file"),
    (b"line_item_id,usage_value\n1,\xe9\n", CSV, 400, "file"),
    ("line_item_id,usage_value\n", {"Content-Type": "text/csv; charset=latin-1"}, 400, "file"),
    ("line_item_id,usage_value\n", {"Content-Type": "application/json"}, 415, None),
    ("x", {"Content-Type": "multipart/form-data; boundary=x"}, 415, None),
])
def test_bad_files_are_4xx_naming_the_problem(api, line, db, imports_dir, data, headers, code, field):
    response = api.post(URL, data=data, headers=headers)
    assert response.status_code == code, body(response)
    assert body(response)["details"].get("field") == field
    assert db.session.scalar(select(func.count()).select_from(CsvImport)) == 0
    assert list(imports_dir.iterdir()) == []


def test_a_file_over_the_csv_limit_is_413_and_leaves_nothing(app, api, line, db, imports_dir, monkeypatch):
    monkeypatch.setitem(app.config, "CSV_MAX_CONTENT_LENGTH", 200)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100)  # the global limit does not apply
    assert api.post(URL, data=_file(line, rows=1), headers=CSV).status_code == 202
    response = api.post(URL, data=_file(line, rows=10), headers=CSV)
    assert response.status_code == 413 and body(response)["status"] == "Error"
    assert db.session.scalar(select(func.count()).select_from(CsvImport)) == 1
    assert len(list(imports_dir.iterdir())) == 1


def test_bad_dry_run_flag_is_400(api, line, db):
    response = api.post(f"{URL}?dry_run=maybe", data=_file(line), headers=CSV)
    assert response.status_code == 400 and body(response)["details"]["field"] == "dry_run"
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_an_unknown_import_is_404(api, db):
    assert api.get("/api/v3/usage_import/999").status_code == 404

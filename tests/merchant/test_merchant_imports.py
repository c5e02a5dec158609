"""CSV usage import in the merchant portal: upload, preview, confirm, background progress.

The passes are background jobs: nothing runs in the request; `run_jobs` runs the queue as
the scheduler's job runner does."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from support.factories import make_package, utc
from flask import current_app

from portal.jobs import run_pending
from portal.models import CsvImport, Job, UsageRecord
from portal.services import imports as service


@pytest.fixture(autouse=True)
def imports_dir(app, tmp_path, monkeypatch) -> Path:
    """Uploads go to a temporary folder, not the project's instance/."""
    monkeypatch.setitem(app.config, "IMPORTS_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def line(db):
    package = make_package(start=utc(2015, 9, 1))
    db.session.commit()
    return package.line_items[0]


def upload(client, content: bytes, filename: str = "usage.csv", **kwargs):
    return client.post("/merchant/imports", data={"file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data", **kwargs)


def csv_of(line, good: int, bad: int = 0) -> bytes:
    rows = ["line_item_id,usage_value,from,external_key"]
    rows += [f"{line.id},{n % 10}.5,2015-09-15 10:00:00,k{n}" for n in range(good)]
    rows += [f"{line.id},lots,2015-09-15 10:00:00,b{n}" for n in range(bad)]
    return ("\n".join(rows) + "\n").encode()


def run_jobs(db) -> dict:
    """Run the queued jobs (what the scheduler's job runner does); see their commits."""
    db.session.rollback()
    counts = run_pending(current_app._get_current_object())
    db.session.expire_all()
    return counts


def settle(db, response) -> CsvImport:
    """The import a response redirected to, once its background pass has run."""
    import_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert db.session.get(CsvImport, import_id).status in service.IN_PROGRESS  # queued only
    run_jobs(db)
    return db.session.get(CsvImport, import_id)


def stored_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(UsageRecord))


def test_preview_lists_bad_rows_before_anything_is_stored_then_confirm_imports(admin, db, line, imports_dir):
    response = upload(admin, csv_of(line, good=3, bad=1))
    assert response.status_code == 303
    imp = settle(db, response)
    assert (imp.status, imp.rows_total, imp.stored, imp.error_count) == ("validated", 4, 3, 1)
    assert stored_count(db) == 0
    page = admin.get(f"/merchant/imports/{imp.id}").get_data(as_text=True)
    assert "3 will be stored" in page and "1 has errors" in page
    assert "usage_value" in page and "<td class=\"num\">4</td>" in page  # row 4 and its field
    assert "Import 3 rows" in page and 'hx-trigger="every 1s"' not in page

    response = admin.post(f"/merchant/imports/{imp.id}/confirm")
    assert response.status_code == 303
    imp = settle(db, response)
    assert (imp.status, imp.stored, imp.error_count, imp.rows_done) == ("done", 3, 1, 4)
    assert imp.finished_at is not None and imp.bytes_done == imp.size_bytes
    assert stored_count(db) == 3
    assert set(db.session.scalars(select(UsageRecord.source))) == {"csv"}
    assert not Path(imp.stored_path).exists()  # the upload is gone, its error list stays
    summary = admin.get(f"/merchant/imports/{imp.id}").get_data(as_text=True)
    assert "Imported" in summary and "Rows that were not stored" in summary


def test_second_import_of_the_same_file_counts_duplicates(admin, db, line):
    for expected_stored in (2, 0):
        imp = settle(db, upload(admin, csv_of(line, good=2)))
        assert imp.stored == expected_stored and imp.duplicates == 2 - expected_stored
        if imp.stored:
            settle(db, admin.post(f"/merchant/imports/{imp.id}/confirm"))
    page = admin.get(f"/merchant/imports/{imp.id}").get_data(as_text=True)
    assert "No row can be stored" in page and "Import 0 rows" not in page


@pytest.mark.parametrize("content, filename, status, message", [
    (None, "usage.csv", 400, "Choose a CSV file"),
    (b"a,b\n", "usage.xlsx", 415, "is not a CSV file"),
    (b"", "usage.csv", 400, "The file is empty"),
    ("line_item_id,usage_value\n1,café\n".encode("latin-1"), "usage.csv", 422, "not UTF-8"),
    (b"line_item_id,value\n1,2\n", "usage.csv", 422, "no &#39;usage_value&#39; column"),
    (b"usage_value\n1\n", "usage.csv", 422, "line_item_external_key"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "usage.csv", 422, "not"),
])
def test_bad_uploads_are_refused_with_a_clear_message(admin, db, imports_dir, content, filename, status, message):
    if content is None:
        response = admin.post("/merchant/imports", data={}, content_type="multipart/form-data")
    else:
        response = upload(admin, content, filename)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CsvImport)) == 0
    assert list(imports_dir.iterdir()) == []


def test_every_error_is_listed_with_pages(admin, db, line):
    imp = settle(db, upload(admin, csv_of(line, good=1, bad=2500)))
    assert imp.error_count == 2500 and len(imp.errors) == service.ERRORS_KEPT
    assert sum(1 for _ in open(service.errors_path(imp, service.PREVIEW))) == 2500
    first = admin.get(f"/merchant/imports/{imp.id}").get_data(as_text=True)
    assert "Errors 1–100 of 2,500" in first and "Next →" in first
    assert "Import 1 row</button>" in first  # one row: singular
    last = admin.get(f"/merchant/imports/{imp.id}?page=25", htmx=True).get_data(as_text=True)
    assert "<html" not in last and "Errors 2401–2500 of 2,500" in last and "Next →" not in last
    assert last.count("<tr>") == 1 + 100


def test_a_file_unreadable_past_its_head_fails_in_the_preview(admin, db, line):
    bad_first = f"line_item_id,usage_value,from\n{line.id},lots,2015-09-15\n".encode()
    good = b"".join(f"{line.id},1.5,2015-09-15 10:00:00\n".encode() for _ in range(3000))
    # More than the head the upload checks, then a byte that is not UTF-8.
    imp = settle(db, upload(admin, bad_first + good + f"{line.id},1,2015-09-15,caf\xe9\n".encode("latin-1")))
    assert imp.status == "failed" and "not UTF-8" in imp.message and imp.rows_done >= 3000
    page = admin.get(f"/merchant/imports/{imp.id}").get_data(as_text=True)
    assert "The file cannot be imported" in page and "Nothing was stored" in page
    assert "row 3002: the file is not UTF-8 text" in page and "must be a number" in page
    assert admin.post(f"/merchant/imports/{imp.id}/confirm").status_code == 409
    assert stored_count(db) == 0


def test_progress_partial_polls_only_while_running(admin, db):
    imp = CsvImport(filename="big.csv", stored_path="/nonexistent", status="running",
                    size_bytes=1000, rows_total=400, rows_done=100, bytes_done=250)
    db.session.add(imp)
    db.session.commit()
    partial = admin.get(f"/merchant/imports/{imp.id}", htmx=True).get_data(as_text=True)
    assert "<html" not in partial and 'hx-trigger="every 1s"' in partial
    assert '<progress class="import-progress" max="100" value="25"' in partial
    imp.status, imp.rows_done, imp.stored = "done", 400, 400
    db.session.commit()
    partial = admin.get(f"/merchant/imports/{imp.id}", htmx=True).get_data(as_text=True)
    assert 'hx-trigger' not in partial and "Imported" in partial
    full = admin.get(f"/merchant/imports/{imp.id}")
    assert "<html" in full.get_data(as_text=True) and "HX-Request" in full.headers["Vary"]


def test_confirm_only_once_and_discard(admin, db, line, imports_dir):
    imp = settle(db, upload(admin, csv_of(line, good=2)))
    assert service.confirm_import(imp.id) is True and service.confirm_import(imp.id) is False
    db.session.rollback()
    assert admin.post(f"/merchant/imports/{imp.id}/discard").status_code == 303
    assert db.session.get(CsvImport, imp.id) is None and list(imports_dir.iterdir()) == []
    assert admin.post("/merchant/imports/999/confirm").status_code == 404


def test_viewer_reads_but_cannot_change(viewer, db, line):
    # (admin and viewer clients cannot share a test: the CSRF token is cached on `g`.)
    from werkzeug.datastructures import FileStorage

    imp = service.save_upload(FileStorage(io.BytesIO(csv_of(line, good=1)), "usage.csv"))
    service.start_validation(imp.id)
    db.session.commit()
    run_jobs(db)
    listing = viewer.get("/merchant/imports").get_data(as_text=True)
    assert "usage.csv" in listing and 'type="file"' not in listing
    assert "Import 1 row" not in viewer.get(f"/merchant/imports/{imp.id}").get_data(as_text=True)
    assert upload(viewer, csv_of(line, good=1)).status_code == 403
    assert viewer.post(f"/merchant/imports/{imp.id}/confirm").status_code == 403
    assert viewer.post(f"/merchant/imports/{imp.id}/discard").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(CsvImport)) == 1


def test_csrf_is_required(admin, db, line):
    response = upload(admin, csv_of(line, good=1), csrf=False)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(CsvImport)) == 0


def test_list_page_full_and_partial_and_template(admin, db):
    full = admin.get("/merchant/imports")
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in full.get_data(as_text=True)
    partial = admin.get("/merchant/imports", htmx=True).get_data(as_text=True)
    assert "<html" not in partial and 'id="import-list"' in partial
    template = admin.get("/merchant/imports/template.csv")
    assert template.mimetype == "text/csv" and template.get_data(as_text=True).startswith("line_item_id,")


def test_the_upload_only_queues_a_job_no_web_thread_runs_it(admin, db, line):
    import threading

    before = set(threading.enumerate())
    response = upload(admin, csv_of(line, good=2))
    import_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    # No thread was started by the upload (one that ended meanwhile, e.g. another test's
    # server winding down, does not count).
    assert not set(threading.enumerate()) - before
    [job] = db.session.scalars(select(Job)).all()
    assert (job.kind, job.status, job.payload) == ("csv_import", "waiting",
                                                   {"import_id": import_id, "phase": "preview"})
    page = admin.get(f"/merchant/imports/{import_id}", htmx=True).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in page  # still polling: the job has not run
    assert run_jobs(db) == {"done": 1}
    assert db.session.get(CsvImport, import_id).status == "validated"


def test_a_csv_upload_may_exceed_the_global_request_limit_but_not_its_own(app, admin, db, line, monkeypatch):
    content = csv_of(line, good=40)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    monkeypatch.setitem(app.config, "CSV_MAX_CONTENT_LENGTH", 10_000)
    assert len(content) > 1000
    assert upload(admin, content).status_code == 303
    monkeypatch.setitem(app.config, "CSV_MAX_CONTENT_LENGTH", 1500)
    assert upload(admin, content).status_code == 413

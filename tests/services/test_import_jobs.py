"""A CSV import whose worker died is taken over and resumed: every row counted once,
also rows without an external_key (the checkpoint is committed with each chunk)."""
from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from support.factories import make_package, utc
from portal.db_types import utcnow
from portal.jobs import run_pending
from portal.models import CsvImport, Job, UsageRecord
from portal.services import imports as service


class WorkerDied(BaseException):
    """Stands for the process being killed: nothing after it runs (no except, no finish)."""


@pytest.fixture(autouse=True)
def imports_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORTS_DIR", str(tmp_path))


def queue_import(db, line, rows: int, bad_every: int = 0) -> int:
    lines = ["line_item_id,usage_value,from"]
    for n in range(1, rows + 1):
        value = "lots" if bad_every and n % bad_every == 0 else f"{n % 7}.25"
        lines.append(f"{line.id},{value},2015-09-15 10:00:00")  # no external_key
    csv_import = service.save_stream(io.BytesIO(("\n".join(lines) + "\n").encode()), "big.csv", "running")
    service.start_import(csv_import.id)
    db.session.commit()
    return csv_import.id


def die_after_chunks(monkeypatch, chunks: int) -> None:
    original = service._Progress.__call__
    calls = []

    def progress(self, report):
        original(self, report)  # the chunk and its checkpoint are committed...
        calls.append(report.rows)
        if len(calls) == chunks:
            raise WorkerDied()  # ...then the process is killed

    monkeypatch.setattr(service._Progress, "__call__", progress)


def test_a_dead_import_is_resumed_by_another_worker_and_counts_each_row_once(app, db, monkeypatch):
    line = make_package(start=utc(2015, 9, 1)).line_items[0]
    db.session.commit()
    import_id = queue_import(db, line, rows=2500, bad_every=1000)
    with monkeypatch.context() as patch:
        die_after_chunks(patch, 1)
        with pytest.raises(WorkerDied):
            run_pending(app, "worker-a")
    db.session.rollback()
    job = db.session.scalars(select(Job)).one()
    assert (job.status, job.locked_by, job.attempts) == ("running", "worker-a", 1)
    assert db.session.scalar(select(func.count()).select_from(UsageRecord)) == 999
    assert run_pending(app, "worker-b") == {}  # the heartbeat is fresh: worker-a may be alive
    db.session.execute(update(Job).values(heartbeat_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()

    assert run_pending(app, "worker-b") == {"done": 1}
    db.session.rollback()
    imp = db.session.get(CsvImport, import_id)
    assert (imp.status, imp.rows_done, imp.stored, imp.error_count) == ("done", 2500, 2498, 2)
    assert [error["row"] for error in imp.errors] == [1000, 2000]
    assert sum(1 for _ in open(service.errors_path(imp, service.IMPORT))) == 2
    assert db.session.scalar(select(func.count()).select_from(UsageRecord)) == 2498
    expected = sum(Decimal(f"{n % 7}.25") for n in range(1, 2501) if n % 1000)
    assert db.session.scalar(select(func.sum(UsageRecord.usage_value))) == expected
    job = db.session.scalars(select(Job)).one()
    assert (job.status, job.attempts, job.locked_by) == ("done", 2, None)


def test_an_import_whose_workers_keep_dying_is_failed_and_says_so(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_MAX_ATTEMPTS", 1)
    line = make_package(start=utc(2015, 9, 1)).line_items[0]
    db.session.commit()
    import_id = queue_import(db, line, rows=1500)
    with monkeypatch.context() as patch:
        die_after_chunks(patch, 1)
        with pytest.raises(WorkerDied):
            run_pending(app, "worker-a")
    db.session.execute(update(Job).values(heartbeat_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert run_pending(app, "worker-b") == {"failed": 1}
    db.session.rollback()
    imp = db.session.get(CsvImport, import_id)
    assert imp.status == "failed" and "could not be resumed" in imp.message
    assert imp.stored == 1000  # what was committed stays, and is shown

"""The real scheduler process, as deployed: it keeps billing, mailing and running jobs
after its start-up run, and stops cleanly and quietly on SIGINT or SIGTERM.

Each test starts `python scheduler.py` on the test database (the temporary SQLite file,
or PostgreSQL from DATABASE_URL) with 1-second intervals, changes the data only AFTER
the process started, and waits (bounded) for the effect with no other action.
"""
from __future__ import annotations

import signal
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from support.factories import make_package
from portal.db_types import utcnow
from portal.models import BillingRun, EmailDelivery, Invoice
from scheduler_process import start_scheduler, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def scheduler(app, db, tmp_path):
    process = start_scheduler(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    process.wait_for_output("Scheduler started")
    yield process
    process.stop(signal.SIGKILL)


def scheduler_runs(db) -> int:
    db.session.rollback()  # a new transaction: see the other process's commits
    return db.session.scalar(select(func.count()).select_from(BillingRun).where(
        BillingRun.source == "scheduler", BillingRun.finished_at.is_not(None)))


def test_a_package_due_after_start_up_is_billed_and_mailed_by_itself(db, scheduler, tmp_path):
    wait_until(lambda: scheduler_runs(db) >= 1, 30, "the start-up billing run")
    package = make_package(start=utcnow() - timedelta(days=40))  # due since 9 days
    db.session.commit()
    package_id = package.id

    def invoices():
        db.session.rollback()
        return db.session.scalars(select(Invoice).where(Invoice.package_id == package_id)).all()

    found = wait_until(invoices, 30, "the scheduler to bill the new package")
    assert found[0].total_minor > 0
    # The interval job (not the start-up run) billed it, and keeps running.
    wait_until(lambda: scheduler_runs(db) >= 3, 30, "more billing runs")
    # The invoice e-mail it queued is sent by the mail job: an .eml file in the outbox.
    subjects = wait_until(lambda: [line for eml in (tmp_path / "outbox").glob("*.eml")
                                   for line in eml.read_text().splitlines()
                                   if line.startswith("Subject:")], 30, "the invoice e-mail")
    assert any(str(found[0].refnumber) in subject for subject in subjects), subjects


def test_an_e_mail_queued_after_start_up_is_sent(db, scheduler, tmp_path):
    from portal.services.mail import queue_message

    wait_until(lambda: scheduler_runs(db) >= 1, 30, "the start-up billing run")
    delivery = queue_message("ops@example.test", "Queued after start-up", "Hello from the test.")
    db.session.commit()
    delivery_id = delivery.id

    def sent():
        db.session.rollback()
        return db.session.get(EmailDelivery, delivery_id).status == "sent"

    wait_until(sent, 30, "the mail job to send the delivery")
    [eml] = (tmp_path / "outbox").glob("*.eml")
    assert "Queued after start-up" in eml.read_text() and "ops@example.test" in eml.read_text()


@pytest.mark.parametrize("signals", [
    (signal.SIGINT,), (signal.SIGTERM,),
    # Ctrl-C under the old `make run` also sent TERM to the group: the second signal came
    # while stopping (SchedulerNotRunningError, "release unlocked lock").
    (signal.SIGINT, signal.SIGTERM),
], ids=["INT", "TERM", "INT-then-TERM"])
def test_a_signal_stops_it_quietly_and_cleanly(app, db, tmp_path, signals):
    process = start_scheduler(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    process.wait_for_output("Billing job at")
    for sig in signals[:-1]:
        process.popen.send_signal(sig)
    code = process.stop(signals[-1])
    log = process.output()
    assert code == 0, log
    assert "Scheduler stopped" in log
    assert "Traceback" not in log and "Error" not in log


def test_an_api_csv_upload_is_imported_by_the_scheduler_process(app, api, db, scheduler, tmp_path, monkeypatch):
    from support.api_client import body

    monkeypatch.setitem(app.config, "IMPORTS_DIR", str(tmp_path / "imports"))
    line = make_package().line_items[0]
    db.session.commit()
    rows = "".join(f"{line.id},2.5,2015-09-{day:02d} 00:00:00\n" for day in range(1, 11))
    response = api.post("/api/v3/usage/_action/import", data="line_item_id,usage_value,from\n" + rows,
                        headers={"Content-Type": "text/csv"})
    assert response.status_code == 202
    import_id = body(response)["response"]["id"]

    def done():
        db.session.rollback()
        answer = body(api.get(f"/api/v3/usage_import/{import_id}"))["response"]
        return answer if answer["status"] == "done" else None

    answer = wait_until(done, 30, "the scheduler's job runner to import the file")
    assert (answer["rows"], answer["stored"], answer["error_count"]) == (10, 10, 0)

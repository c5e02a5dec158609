"""Billing runs are recorded (scheduler job and CLI); the dashboard and /health show them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from support.factories import make_package, utc
from portal.db_types import utcnow
from portal.models import BillingRun
from portal.services import billing as billing_service
from portal.services.jobs import billing_job


def runs(db) -> list[BillingRun]:
    db.session.expire_all()
    return list(db.session.scalars(select(BillingRun).order_by(BillingRun.id)))


def test_the_cli_run_is_recorded_with_its_counts(app, db):
    make_package(start=utc(2015, 9, 1))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["billing", "run", "--now", "2015-10-01 00:00:00"])
    assert result.exit_code == 0, result.output
    [run] = runs(db)
    assert (run.source, run.now, run.packages, run.invoices, run.failures, run.error) == (
        "cli", utc(2015, 10, 1), 1, 2, 0, None)  # the September and October boundaries
    assert run.started_at <= run.finished_at


def test_the_scheduler_job_is_recorded_and_a_failing_package_leaves_its_error(app, db, monkeypatch):
    make_package(start=utcnow() - timedelta(days=40))
    db.session.commit()

    def broken(package_id, now, ctx=None):
        raise RuntimeError("tax table missing")

    monkeypatch.setattr(billing_service, "bill_due", broken)
    summary = billing_job(app)
    assert summary.failures == 1
    [run] = runs(db)
    assert (run.source, run.packages, run.invoices, run.failures) == ("scheduler", 1, 0, 1)
    assert run.finished_at is not None
    assert "failed: RuntimeError: tax table missing" in run.error


def test_a_run_that_crashes_is_recorded_as_such(app, db, monkeypatch):
    def crash(now, shard=(0, 1)):
        raise ConnectionError("database went away")

    monkeypatch.setattr("portal.services.jobs.run_billing", crash)
    with pytest.raises(ConnectionError):
        billing_job(app)
    [run] = runs(db)
    assert run.finished_at is not None and "The run stopped: ConnectionError" in run.error


def test_health_is_degraded_without_a_run_and_when_the_last_is_older_than_three_intervals(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER_BILLING_SECONDS", 60)
    assert client.get("/health").get_json()["status"] == "degraded"
    assert client.get("/health").get_json()["scheduler"] == "no run yet"
    run = BillingRun(source="scheduler", started_at=utcnow() - timedelta(seconds=170),
                     now=utcnow(), finished_at=utcnow())
    db.session.add(run)
    db.session.commit()
    answer = client.get("/health")
    assert answer.status_code == 200 and answer.get_json()["status"] == "ok"
    run.started_at = utcnow() - timedelta(seconds=181)  # just over 3 × 60 s
    db.session.commit()
    answer = client.get("/health")
    assert answer.status_code == 200
    assert {k: answer.get_json()[k] for k in ("status", "database", "scheduler")} == {
        "status": "degraded", "database": "ok", "scheduler": "stale"}

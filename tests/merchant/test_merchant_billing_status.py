"""The dashboard shows the last billing run (when, invoices, errors), the next one and the queue."""
from __future__ import annotations

from datetime import timedelta

from support.factories import utc
from portal.models import BillingRun


def test_the_dashboard_shows_the_last_run_its_errors_and_the_next(app, admin, db, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER_BILLING_SECONDS", 300)
    page = admin.get("/merchant/").get_data(as_text=True)
    assert "Automatic billing" in page and "No billing run has been recorded yet" in page
    started = utc(2026, 3, 2, 9, 15, 0)
    db.session.add(BillingRun(source="scheduler", started_at=started, now=started,
                              finished_at=started + timedelta(seconds=2), packages=4, invoices=3,
                              failures=1, error="Billing package 7 failed: RuntimeError: boom"))
    db.session.commit()
    page = admin.get("/merchant/").get_data(as_text=True)
    assert "Last run: <strong>2026-03-02 09:15:00 UTC</strong>" in page
    assert "3 invoices issued" in page and "4 due packages" in page and "1 failed" in page
    assert "Billing package 7 failed: RuntimeError: boom" in page
    assert "Next run: 2026-03-02 09:20:00 UTC" in page and "runs every 5 min" in page
    assert "Not running" in page  # that run is long past
    assert "background jobs: 0 waiting, 0 running, 0 failed" in page

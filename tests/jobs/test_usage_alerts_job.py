"""The scheduler's usage-alert check commits its work and advances its cursor."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from support.factories import make_package
from portal.jobs.alerts import usage_alerts_job
from portal.models import Counter, UsageAlert, UsageRecord
from portal.services.usage import record_usage
from portal.services.usage_alerts import CURSOR
from scheduler import build_scheduler


def test_the_job_fires_a_crossed_alert_and_commits(app, db):
    package = make_package()  # started 2015-09-01, its current period is today's
    db.session.add(UsageAlert(package_id=package.id, metric="quantity", threshold=Decimal("10"),
                              notify_merchant=False))
    db.session.commit()
    assert usage_alerts_job(app) == 0  # first check: the cursor starts at the newest usage
    record_usage({"line_item_id": package.line_items[0].id, "usage_value": "12"})  # now
    db.session.commit()
    assert usage_alerts_job(app) == 1
    db.session.rollback()
    alert = db.session.scalars(select(UsageAlert)).one()
    assert alert.fired_value == Decimal("12")
    newest = db.session.scalar(select(UsageRecord.id))
    assert db.session.get(Counter, CURSOR).value == newest
    assert usage_alerts_job(app) == 0


def test_the_scheduler_runs_the_check(app):
    scheduler = build_scheduler(app, "w1")
    assert scheduler.get_job("usage_alerts").trigger.interval.total_seconds() == 60

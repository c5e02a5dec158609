"""Usage rollups: graphs and the dashboard read rollups plus the raw remainder, and give
exactly what the raw records give, whatever the order of arrivals and rollup runs."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select, text, update

from support.factories import make_customer, make_voip_item, utc
from portal.extensions import db as _db
from portal.jobs.rollups import roll_usage
from portal.models import UsageDayRollup, UsageRecord, UsageRollupDirty, UsageRollupState
from portal.services.charts import choose_period, usage_series
from portal.services.packages import LineDraft, create_package
from portal.services import usage_rollups
from portal.services.reports import usage_by_item, usage_month_and_day
from support.database import clean_database

ZONE = "America/New_York"  # 2015-11-01 is a 25-hour day
START = utc(2015, 10, 20, 4)  # local midnight of 2015-10-20


def _add(line, value, at):
    _db.session.add(UsageRecord(line_item_id=line.id, usage_value=Decimal(value), from_at=at, to_at=at,
                                source="api"))


def _lines():
    kinds = [make_voip_item(name=f"{kind} item", usage_type=kind) for kind in ("add", "max", "lat")]
    # The `max` line's trial ends at 23:00 local on 2 November (24-hour days across the DST
    # change): that day is cut by the billing window and is read raw.
    package = create_package(make_customer(), [LineDraft(item=item, trial_days=33 if item.usage_type == "max" else 0)
                                               for item in kinds], start_at=utc(2015, 10, 1, 4))
    _db.session.commit()
    return package.line_items


def _figures(lines):
    """Everything the graphs and the dashboard show for October and November."""
    series = [usage_series(line, choose_period(line, index, now=utc(2015, 12, 1)).period)
              for line in lines for index in (0, 1)]
    months = [usage_by_item(utc(2015, 10, 1, 4), utc(2015, 11, 1, 4)),
              usage_by_item(utc(2015, 11, 1, 4), utc(2015, 12, 1, 5)),
              usage_by_item(utc(2015, 10, 28, 4), utc(2015, 10, 29, 4)),
              usage_month_and_day(utc(2015, 11, 1, 4), utc(2015, 12, 1, 5), date(2015, 11, 3))]
    return series, months


def _raw_figures(lines):
    """The same figures from the raw records only (nothing counts as rolled)."""
    _db.session.execute(update(UsageRollupState).values(rolled_before=None))
    try:
        return _figures(lines)
    finally:
        _db.session.rollback()


def test_rollups_hold_every_aggregation_and_late_usage_corrects_its_day(app, db, client, monkeypatch):
    monkeypatch.setitem(app.config, "TIMEZONE", ZONE)
    add_line, max_line, lat_line = _lines()
    for line in (add_line, max_line, lat_line):
        _add(line, "5", utc(2015, 10, 21, 12))
        _add(line, "7.5", utc(2015, 10, 21, 12))  # same `from`: the later arrival is the latest
        _add(line, "2", utc(2015, 10, 22, 3, 59))  # still 2015-10-21 in New York
    db.session.commit()
    run = roll_usage(utc(2015, 10, 23, 12))
    assert (run.days, run.rows, run.late) == (2, 3, 0)  # 21 and 22 October
    rollup = db.session.get(UsageDayRollup, (lat_line.id, date(2015, 10, 21)))
    assert (rollup.records, rollup.total, rollup.peak) == (3, Decimal("14.5"), Decimal("7.5"))
    assert (rollup.latest_value, rollup.latest_from) == (Decimal("2"), utc(2015, 10, 22, 3, 59))
    state = db.session.get(UsageRollupState, 1)
    assert (state.tz, state.rolled_before, state.log_before) == (ZONE, date(2015, 10, 23), utc(2015, 10, 23, 4))

    _add(add_line, "100", utc(2015, 10, 21, 20))  # late: its day is rolled
    _add(add_line, "1", utc(2015, 10, 23, 20))  # today: not logged
    db.session.commit()
    assert db.session.scalars(select(UsageRollupDirty.at)).all() == [utc(2015, 10, 21, 20)]
    series = usage_series(add_line, choose_period(add_line, 0, now=utc(2015, 10, 23, 12)).period)
    assert series.days[20].value == Decimal("114.5")  # read raw while the late record waits
    assert roll_usage(utc(2015, 10, 23, 13)).late == 1
    assert db.session.scalars(select(UsageRollupDirty)).all() == []
    db.session.expire_all()
    assert db.session.get(UsageDayRollup, (add_line.id, date(2015, 10, 21))).total == Decimal("114.5")
    assert _figures([add_line]) == _raw_figures([add_line])
    assert client.get("/health").get_json()["rollups"] == {"rolled_through": "2015-10-22", "late_waiting": 0}


def test_a_new_zone_rebuilds_the_rollups(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "TIMEZONE", ZONE)
    line = _lines()[0]
    _add(line, "3", utc(2015, 10, 22, 2))  # 2015-10-21 in New York, 2015-10-22 in UTC
    db.session.commit()
    roll_usage(utc(2015, 10, 25))
    monkeypatch.setitem(app.config, "TIMEZONE", "UTC")
    roll_usage(utc(2015, 10, 25))
    days = db.session.scalars(select(UsageDayRollup.day)).all()
    assert days == [date(2015, 10, 22)]
    assert db.session.get(UsageRollupState, 1).tz == "UTC"


usage_op = st.tuples(st.just("usage"), st.integers(0, 2), st.decimals(0, 50, places=2),
                     st.integers(0, 40 * 24), st.booleans())
roll_op = st.tuples(st.just("roll"), st.integers(0, 2), st.integers(0, 40 * 24), st.integers(0, 0),
                    st.booleans())
operations = st.lists(st.one_of(usage_op, roll_op), min_size=1, max_size=16)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=operations)
def test_rollups_plus_remainder_equal_the_raw_records(app, db, monkeypatch, operations):
    monkeypatch.setitem(app.config, "TIMEZONE", ZONE)
    clean_database()
    lines = _lines()
    lines[2].cancel_at = utc(2015, 11, 7, 15, 30)  # the `lat` line ends mid-day
    db.session.commit()
    for kind, index, value, hours, edge in operations:
        at = START + timedelta(hours=hours)
        if kind == "usage":  # often at a local midnight, or a microsecond before it
            _add(lines[index], value, at - timedelta(microseconds=1) if edge else at)
            db.session.commit()
        else:
            roll_usage(at)
    assert _figures(lines) == _raw_figures(lines)
    roll_usage(utc(2015, 12, 5))
    assert db.session.scalars(select(UsageRollupDirty)).all() == []
    assert _figures(lines) == _raw_figures(lines)
    day = usage_month_and_day(utc(2015, 11, 1, 4), utc(2015, 12, 1, 5), date(2015, 11, 3))[1]
    assert day == usage_by_item(utc(2015, 11, 3, 5), utc(2015, 11, 4, 5))


def test_an_insert_in_flight_is_never_lost_between_rolling_and_logging(app, db, monkeypatch):
    """A record of yesterday inserted (not yet committed) before the job starts logging late
    usage: the job waits for it (SHARE lock) and, timed out, rolls nothing; once committed,
    the next run rolls it. Without the lock it would be neither rolled nor logged."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite has one writer at a time")
    monkeypatch.setattr(usage_rollups, "LOCK_TIMEOUT_MS", 100)
    line = _lines()[0]
    _add(line, "1", utc(2015, 10, 20))
    db.session.commit()
    other = _db.engine.connect()
    pending = other.begin()
    other.execute(text("INSERT INTO usage_records (line_item_id, usage_value, from_at, to_at, source, "
                       "created_at) VALUES (:line, 4000000, '2015-10-22 12:00', '2015-10-22 12:00', "
                       "'api', now())"), {"line": line.id})
    assert roll_usage(utc(2015, 10, 23, 12)).waiting
    assert db.session.scalars(select(UsageDayRollup)).all() == []
    pending.commit()
    other.close()
    run = roll_usage(utc(2015, 10, 23, 12))
    assert run.days == 3, run
    assert db.session.get(UsageDayRollup, (line.id, date(2015, 10, 22))).total == Decimal(4)

"""The usage chart service: daily buckets in the merchant zone (DST), cumulative, cost."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from support.factories import make_customer, make_package, make_voip_item, utc
from portal.billing.periods import local_floor_date, period_at
from portal.billing.pricing import PriceModel
from portal.extensions import db as _db
from portal.models import UsageRecord
from portal.services.billing_inputs import line_spec, usage_aggregate
from portal.services.catalog import pricemodel_of, unit_price
from portal.presentation.figures import usage_figure_json
from portal.services.charts import choose_period, usage_series
from portal.services.packages import LineDraft, cancel_package, create_package, package_anchor


def add(line, value, at: datetime, record_id: int | None = None):
    """Store a usage record directly (the chart reads what is stored)."""
    record = UsageRecord(line_item_id=line.id, usage_value=Decimal(value), from_at=at, to_at=at,
                         source="api")
    _db.session.add(record)
    return record


def zone(app, monkeypatch, name: str) -> ZoneInfo:
    monkeypatch.setitem(app.config, "TIMEZONE", name)
    return ZoneInfo(name)


def local(tz, *args) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(timezone.utc)


def test_daily_buckets_cumulative_and_cost(db):
    line = make_package().line_items[0]  # $0.05 per minute, monthly from 2015-09-01 UTC
    add(line, "10", utc(2015, 9, 1, 0, 0))
    add(line, "5.5", utc(2015, 9, 1, 23, 59, 59, 999999))
    add(line, "20", utc(2015, 9, 30, 12))
    add(line, "99", utc(2015, 10, 1))  # next period
    db.session.commit()
    choice = choose_period(line, now=utc(2015, 9, 20))
    series = usage_series(line, choice.period)
    assert len(series.days) == 30 and series.days[0].day.isoformat() == "2015-09-01"
    assert [series.days[0].value, series.days[0].records] == [Decimal("15.5"), 2]
    assert series.days[29].value == Decimal(20) and series.days[28].cumulative == Decimal("15.5")
    assert series.aggregate == Decimal("35.5") and series.records == 3
    assert series.cost == Decimal("1.78")  # 35.5 × 0.05 = 1.775, rounded half-up
    assert series.currency == "USD"


@pytest.mark.parametrize("name, days", [
    ("America/New_York", [(2015, 11, 1), (2015, 3, 8)]),   # 25- and 23-hour days
    ("Australia/Lord_Howe", [(2015, 4, 5), (2015, 10, 4)]),  # half-hour DST shifts
    ("America/Sao_Paulo", [(2018, 11, 4)]),                  # midnight falls in the gap
    ("Asia/Kathmandu", [(2015, 6, 1)]),                      # +05:45, no DST
])
def test_buckets_follow_local_days_across_dst(app, db, monkeypatch, name, days):
    tz = zone(app, monkeypatch, name)
    rng = random.Random(name)
    for year, month, day in days:
        start = datetime(year, month, day, tzinfo=tz)
        package = make_package(customer=make_customer(company=f"C{year}{month}", email=None),
                               start=(start - timedelta(days=3)).astimezone(timezone.utc),
                               paycycle="1wk")
        line = package.line_items[0]
        period = choose_period(line, now=start.astimezone(timezone.utc) + timedelta(hours=5)).period
        instants = [period.start, period.end - timedelta(microseconds=1)]
        instants += [period.start + (period.end - period.start) * rng.random() for _ in range(300)]
        for hour in range(-3, 30):  # dense around the local midnights of the DST day
            instants.append(local(tz, year, month, day) + timedelta(hours=hour, seconds=rng.choice([0, -1, 1])))
        instants = [i for i in instants if period.start <= i < period.end]
        for instant in instants:
            add(line, "1", instant)
        db.session.commit()
        series = usage_series(line, period)
        expected = {}
        for instant in instants:
            key = local_floor_date(instant, tz)
            expected[key] = expected.get(key, 0) + 1
        assert {b.day: b.records for b in series.days if b.records} == expected
        assert series.aggregate == len(instants)


def test_new_york_fall_back_day_holds_its_25_hours(app, db, monkeypatch):
    tz = zone(app, monkeypatch, "America/New_York")
    line = make_package(start=local(tz, 2015, 10, 1)).line_items[0]
    add(line, "1", local(tz, 2015, 11, 1, 0, 30))
    add(line, "2", datetime(2015, 11, 2, 4, 30, tzinfo=timezone.utc))  # 23:30 EST on Nov 1
    add(line, "4", datetime(2015, 11, 2, 5, 30, tzinfo=timezone.utc))  # 00:30 EST on Nov 2
    db.session.commit()
    series = usage_series(line, choose_period(line, now=local(tz, 2015, 11, 20)).period)
    assert series.days[0].day.isoformat() == "2015-11-01"
    assert [series.days[0].value, series.days[1].value] == [Decimal(3), Decimal(4)]


@pytest.mark.parametrize("usage_type", ["add", "max", "lat"])
def test_aggregate_and_cost_equal_the_billing_core(db, usage_type):
    pricing = PriceModel(pricemodel="uni", minimum=Decimal("2.00"), tiers=unit_price("0.10"))
    item = make_voip_item(usage_type=usage_type, pricing=pricing)
    package = create_package(make_customer(), [LineDraft(item=item, trial_days=3)],
                             start_at=utc(2015, 9, 1))
    line = package.line_items[0]
    rng = random.Random(usage_type)
    for _ in range(200):
        add(line, str(rng.randint(0, 50)), utc(2015, 9, 1) + timedelta(minutes=rng.randint(0, 30 * 1440)))
    add(line, "7", utc(2015, 9, 20, 12))
    add(line, "8", utc(2015, 9, 20, 12))  # same instant: the later arrival wins for `lat`
    db.session.commit()
    cancel_package(package, utc(2015, 9, 25))
    db.session.commit()
    period = period_at(package_anchor(package), "mon", 0, ZoneInfo("UTC"))
    series = usage_series(line, period)
    expected = usage_aggregate(line_spec(line, pricemodel_of(line.tierset)), usage_type, period)
    assert series.aggregate == expected
    assert series.days[-1].cumulative == expected
    assert series.cost == max(Decimal("2.00"), (expected * Decimal("0.10")).quantize(Decimal("0.01")))
    assert series.records == 202


def test_latest_of_a_day_for_lat_items(db):
    item = make_voip_item(usage_type="lat")
    line = create_package(make_customer(), [LineDraft(item=item)], start_at=utc(2015, 9, 1)).line_items[0]
    add(line, "30", utc(2015, 9, 2, 8))
    add(line, "10", utc(2015, 9, 2, 20))
    add(line, "50", utc(2015, 9, 2, 9))
    db.session.commit()
    series = usage_series(line, choose_period(line, now=utc(2015, 9, 5)).period)
    assert series.days[1].value == Decimal(10) and series.days[1].records == 3
    assert series.days[5].cumulative == Decimal(10)


def test_period_choice_is_clamped_to_the_lines_life(db):
    package = make_package(start=utc(2015, 9, 1))
    line = package.line_items[0]
    choice = choose_period(line, now=utc(2015, 11, 15))
    assert (choice.first_index, choice.last_index, choice.period.index) == (0, 2, 2)
    assert (choice.previous_index, choice.next_index) == (1, None)
    assert choose_period(line, 99, now=utc(2015, 11, 15)).period.index == 2
    assert choose_period(line, -5, now=utc(2015, 11, 15)).next_index == 1
    cancel_package(package, utc(2015, 10, 1))  # a cancel at a boundary: September is the last
    assert choose_period(line, now=utc(2016, 1, 1)).period.index == 0


def test_figure_json_is_safe_inside_a_script_element(db):
    line = make_package().line_items[0]
    add(line, "3", utc(2015, 9, 3))
    db.session.commit()
    series = usage_series(line, choose_period(line, now=utc(2015, 9, 5)).period)
    text = usage_figure_json(series, "minutes</script>", "0.15 USD")
    assert "<" not in text and ">" not in text
    data = json.loads(text)
    bars, line_trace = data["figure"]["data"]
    assert bars["type"] == "bar" and bars["y"][2] == 3 and len(bars["x"]) == 30
    assert line_trace["yaxis"] == "y2"
    layout = data["figure"]["layout"]
    assert [s["x0"] for s in layout["shapes"]] == ["2015-09-01", "2015-10-01"]
    assert "0.15 USD" in layout["annotations"][2]["text"]


@pytest.mark.parametrize("usage_type", ["add", "lat"])
def test_the_series_reads_usage_in_one_query(db, usage_type):
    from sqlalchemy import event

    item = make_voip_item(usage_type=usage_type)
    line = create_package(make_customer(), [LineDraft(item=item)], start_at=utc(2015, 9, 1)).line_items[0]
    for day in range(1, 29):
        add(line, str(day), utc(2015, 9, day, 12))
    db.session.commit()
    assert line.item and line.package.customer and line.tierset.tiers  # loaded before counting
    statements = []
    engine = db.session.get_bind()

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        series = usage_series(line, choose_period(line, now=utc(2015, 9, 29)).period)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if "usage_records" in s]) == 1
    assert series.records == 28

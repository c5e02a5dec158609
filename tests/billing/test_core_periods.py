"""Billing periods: every paycycle, month clamping from the anchor, DST, odd zones."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from portal.billing.errors import ValidationError
from portal.billing.periods import (
    PAYCYCLES, Period, _first_existing_after, anchor_date, boundary, hold_period, local_day_count,
    local_midnight, period_at, period_containing, periods_between, validate_paycycle,
)

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def local_dates(anchor, paycycle, count, tz=UTC):
    return [boundary(anchor, paycycle, k, tz).astimezone(tz).date() for k in range(count)]


def test_paycycle_codes():
    assert " ".join(PAYCYCLES) == "dly 1wk 2wk 4wk mon 2mn qtr six yrl 2yr 3yr"
    assert validate_paycycle("qtr") == "qtr"


@pytest.mark.parametrize("code", ["month", "MON", "", None, "4w"])
def test_unknown_paycycle_lists_valid_codes(code):
    with pytest.raises(ValidationError) as err:
        validate_paycycle(code, field="package.paycycle")
    assert err.value.field == "package.paycycle"
    assert "dly, 1wk, 2wk, 4wk, mon, 2mn, qtr, six, yrl, 2yr, 3yr" in err.value.message


@pytest.mark.parametrize("paycycle, anchor, expected", [
    ("dly", date(2024, 2, 27), ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"]),
    ("1wk", date(2024, 12, 24), ["2024-12-24", "2024-12-31", "2025-01-07", "2025-01-14"]),
    ("2wk", date(2024, 1, 1), ["2024-01-01", "2024-01-15", "2024-01-29", "2024-02-12"]),
    ("4wk", date(2024, 1, 1), ["2024-01-01", "2024-01-29", "2024-02-26", "2024-03-25"]),
    ("mon", date(2024, 1, 31), ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30",
                                "2024-05-31"]),
    ("mon", date(2023, 1, 31), ["2023-01-31", "2023-02-28", "2023-03-31"]),
    ("mon", date(2024, 1, 30), ["2024-01-30", "2024-02-29", "2024-03-30"]),
    ("2mn", date(2023, 12, 31), ["2023-12-31", "2024-02-29", "2024-04-30", "2024-06-30",
                                 "2024-08-31"]),
    ("qtr", date(2024, 11, 30), ["2024-11-30", "2025-02-28", "2025-05-30", "2025-08-30",
                                 "2025-11-30"]),
    ("six", date(2024, 8, 31), ["2024-08-31", "2025-02-28", "2025-08-31", "2026-02-28"]),
    ("yrl", date(2024, 2, 29), ["2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28",
                                "2028-02-29"]),
    ("2yr", date(2024, 2, 29), ["2024-02-29", "2026-02-28", "2028-02-29"]),
    ("3yr", date(2024, 2, 29), ["2024-02-29", "2027-02-28", "2030-02-28", "2033-02-28",
                                "2036-02-29"]),
])
def test_every_paycycle_boundaries(paycycle, anchor, expected):
    assert [d.isoformat() for d in local_dates(anchor, paycycle, len(expected))] == expected


def test_month_clamping_never_drifts_over_years():
    dates = local_dates(date(2024, 1, 31), "mon", 25)
    assert dates[13] == date(2025, 2, 28) and dates[14] == date(2025, 3, 31)
    assert all(d.day >= 28 for d in dates)
    assert [d for d in dates if d.month in (1, 3, 5, 7, 8, 10, 12)] == [
        d for d in dates if d.day == 31
    ]


def test_boundaries_are_utc_local_midnight():
    start = boundary(date(2015, 9, 1), "mon", 1, NEW_YORK)
    assert start == utc(2015, 10, 1, 4)
    assert start.tzinfo == UTC
    september = Period(utc(2015, 9, 1), utc(2015, 10, 1), 0)
    assert period_at(date(2015, 9, 1), "mon", 0, UTC) == september


def test_daily_periods_across_dst_new_york():
    anchor = date(2024, 1, 1)
    spring = period_containing(anchor, "dly", utc(2024, 3, 10, 12), NEW_YORK)
    assert (spring.start, spring.end) == (utc(2024, 3, 10, 5), utc(2024, 3, 11, 4))
    assert spring.end - spring.start == timedelta(hours=23)
    autumn = period_containing(anchor, "dly", utc(2024, 11, 3, 12), NEW_YORK)
    assert (autumn.start, autumn.end) == (utc(2024, 11, 3, 4), utc(2024, 11, 4, 5))
    assert autumn.end - autumn.start == timedelta(hours=25)
    for instant in (spring.start, spring.end, autumn.start, autumn.end):
        local = instant.astimezone(NEW_YORK)
        assert (local.hour, local.minute) == (0, 0)


def test_monthly_periods_in_london_keep_local_midnight():
    anchor = date(2024, 3, 15)
    first, second = period_at(anchor, "mon", 0, LONDON), period_at(anchor, "mon", 1, LONDON)
    assert first == Period(utc(2024, 3, 15), utc(2024, 4, 14, 23), 0)  # BST from 31 March
    assert second.start == first.end
    october = period_at(anchor, "mon", 7, LONDON)  # still BST on 15 Oct, GMT from 27 Oct
    assert (october.start, october.end) == (utc(2024, 10, 14, 23), utc(2024, 11, 15, 0))


def test_midnight_missing_in_sao_paulo_uses_first_existing_instant():
    # 2018-11-04: clocks jumped from 00:00 (-03) to 01:00 (-02); the day starts at 01:00.
    start = boundary(date(2018, 11, 1), "dly", 3, SAO_PAULO)
    assert start == utc(2018, 11, 4, 3)
    assert start.astimezone(SAO_PAULO).hour == 1
    assert boundary(date(2018, 11, 1), "dly", 2, SAO_PAULO) == utc(2018, 11, 3, 3)
    assert local_day_count(utc(2018, 11, 4, 3), utc(2018, 11, 5, 2), SAO_PAULO) == 1


def test_midnight_missing_in_havana():
    assert local_midnight(date(2024, 3, 10), ZoneInfo("America/Havana")) == utc(2024, 3, 10, 5)


def test_skipped_day_in_samoa_gives_an_empty_daily_period():
    apia = ZoneInfo("Pacific/Apia")  # 2011-12-30 does not exist there
    period = period_at(date(2011, 12, 28), "dly", 2, apia)
    assert period.start == period.end == utc(2011, 12, 30, 10)


def test_first_existing_after_a_gap_time_not_at_its_start():
    # 02:30 does not exist in New York on 2024-03-10; the first instant after it is 03:00 EDT.
    assert _first_existing_after(datetime(2024, 3, 10, 2, 30), NEW_YORK) == utc(2024, 3, 10, 7)


def test_anchor_date_uses_holduntil_then_start_in_local_time():
    start = utc(2015, 9, 1, 3)
    assert anchor_date(start, None, UTC) == date(2015, 9, 1)
    assert anchor_date(start, None, NEW_YORK) == date(2015, 8, 31)
    # A hold at local midnight anchors on its own date (04:00 UTC = 00:00 EDT).
    assert anchor_date(start, utc(2015, 9, 15, 4), NEW_YORK) == date(2015, 9, 15)


def test_a_hold_with_a_time_of_day_anchors_on_the_next_local_midnight():
    """holduntil 2015-09-15 08:00 EDT (12:00 UTC): the first boundary at or after it is
    2015-09-16 00:00 EDT, so period 0 (and the first invoice) starts then, never before the
    hold ends; the hold before it is one usage period [start, 2015-09-16 04:00 UTC)."""
    start, hold = utc(2015, 9, 1, 3), utc(2015, 9, 15, 12)
    anchor = anchor_date(start, hold, NEW_YORK)
    assert anchor == date(2015, 9, 16)
    first = boundary(anchor, "mon", 0, NEW_YORK)
    assert first == utc(2015, 9, 16, 4) and first >= hold
    assert hold_period(start, first) == Period(start, utc(2015, 9, 16, 4), -1)
    assert hold_period(start, first, until=utc(2015, 9, 10)) == Period(start, utc(2015, 9, 10), -1)
    assert hold_period(first, first) is None


def test_period_containing_exact_boundaries():
    anchor = date(2024, 1, 31)
    for k in (0, 1, 2, 13):
        start = boundary(anchor, "mon", k, NEW_YORK)
        assert period_containing(anchor, "mon", start, NEW_YORK).index == k
        just_before = start - timedelta(microseconds=1)
        assert period_containing(anchor, "mon", just_before, NEW_YORK).index == k - 1


def test_period_containing_before_anchor_has_negative_index():
    anchor = date(2024, 3, 31)
    assert period_containing(anchor, "mon", utc(2024, 2, 15), UTC) == Period(
        utc(2024, 1, 31), utc(2024, 2, 29), -2
    )
    assert period_containing(anchor, "mon", utc(2024, 1, 15), UTC) == Period(
        utc(2023, 12, 31), utc(2024, 1, 31), -3
    )


def test_period_containing_far_from_anchor_is_direct():
    anchor = date(2000, 1, 1)
    period = period_containing(anchor, "dly", utc(2030, 6, 15, 12), NEW_YORK)
    assert period.start.astimezone(NEW_YORK).date() == date(2030, 6, 15)
    assert period.index == (date(2030, 6, 15) - anchor).days


def test_period_containing_requires_aware_instant():
    with pytest.raises(ValidationError):
        period_containing(date(2024, 1, 1), "mon", datetime(2024, 2, 1), UTC)


def test_periods_between():
    anchor = date(2024, 1, 31)
    periods = periods_between(anchor, "mon", utc(2024, 2, 15), utc(2024, 4, 1), UTC)
    assert [(p.start.date().isoformat(), p.index) for p in periods] == [
        ("2024-01-31", 0), ("2024-02-29", 1), ("2024-03-31", 2),
    ]
    assert periods_between(anchor, "mon", utc(2024, 2, 29), utc(2024, 3, 31), UTC) == [
        Period(utc(2024, 2, 29), utc(2024, 3, 31), 1)
    ]
    assert periods_between(anchor, "mon", utc(2024, 3, 1), utc(2024, 3, 1), UTC) == []


def test_local_day_count():
    assert local_day_count(utc(2024, 9, 1), utc(2024, 10, 1), UTC) == 30
    assert local_day_count(utc(2024, 9, 16), utc(2024, 10, 1), UTC) == 15
    assert local_day_count(utc(2024, 9, 16, 23, 59), utc(2024, 9, 17, 0, 1), UTC) == 2
    assert local_day_count(utc(2024, 9, 16, 10), utc(2024, 9, 16, 11), UTC) == 1
    assert local_day_count(utc(2024, 9, 16), utc(2024, 9, 16), UTC) == 0
    march = period_at(date(2024, 3, 1), "mon", 0, NEW_YORK)
    november = period_at(date(2024, 11, 1), "mon", 0, NEW_YORK)
    assert march.end - march.start == timedelta(days=31, hours=-1)
    assert local_day_count(march.start, march.end, NEW_YORK) == 31
    assert november.end - november.start == timedelta(days=30, hours=1)
    assert local_day_count(november.start, november.end, NEW_YORK) == 30

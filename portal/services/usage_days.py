"""Local days of the merchant zone as SQL buckets, portable to SQLite and PostgreSQL.

No SQL time zone functions (SQLite lacks them): Python computes the local midnights (UTC
instants, DST-aware, as the billing core does) and splits them into runs of regular
86,400-second days; a day whose length differs (the 23- or 25-hour day of a DST change)
is a run of its own. In SQL, a CASE picks the run of `from_at` and the day index is
    run's first day + (epoch(from_at) - epoch(run start)) / 86400   (integer division)
or the run's only day for an irregular one. Exact across DST changes and zones whose
midnight falls in a gap, cheap (a handful of CASE branches), and served by the
(line_item_id, from_at) index.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import BigInteger, case, cast, func, literal

from portal.billing.periods import Period, local_floor_date, local_midnight
from portal.extensions import db
from portal.models import UsageRecord

DAY_SECONDS = 86400
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def day_starts(first: date, end: date, tz) -> list[tuple[date, datetime]]:
    """Each local date in [first, end) with the UTC instant it starts, plus a closing
    (end, its midnight) sentinel."""
    return [(first + timedelta(days=n), local_midnight(first + timedelta(days=n), tz))
            for n in range((end - first).days + 1)]


def local_days(period: Period, tz) -> list[tuple[date, datetime]]:
    """Each local date of the period with the UTC instant it starts (the first one starts
    at the period start), plus a closing (date, period end) sentinel."""
    first, last = local_floor_date(period.start, tz), local_floor_date(period.end, tz)
    if local_midnight(last, tz) < period.end:
        last += timedelta(days=1)  # a period ending mid-day (never for full periods)
    days = day_starts(first, last, tz)
    days[0] = (first, period.start)
    days[-1] = (last, period.end)
    return days


def _runs(days: list[tuple[date, datetime]]) -> list[tuple[int, datetime, datetime, bool]]:
    """(first day index, start, end, regular) runs: regular runs are 86,400-second days."""
    runs: list[list] = []
    for index in range(len(days) - 1):
        start, end = days[index][1], days[index + 1][1]
        regular = (end - start).total_seconds() == DAY_SECONDS
        if runs and regular and runs[-1][3]:
            runs[-1][2] = end
        else:
            runs.append([index, start, end, regular])
    return [tuple(run) for run in runs]


def _epoch_seconds(column):
    """Whole seconds since 1970 of a naive-UTC timestamp column, on either database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", column)), BigInteger)
    # SQLite rounds fractions to milliseconds (23:59:59.9999 would become the next day):
    # the whole seconds are read from the text form SQLAlchemy stores, "YYYY-MM-DD HH:MM:SS.ffffff".
    return cast(func.strftime("%s", func.substr(column, 1, 19)), BigInteger)


def day_index_expression(days: list[tuple[date, datetime]], column=UsageRecord.from_at):
    """SQL: the index in `days` of the local day that contains `column` (default `from_at`)."""
    seconds = _epoch_seconds(column)
    branches = []
    for first, start, end, regular in _runs(days):
        offset = int((start - _EPOCH).total_seconds())
        value = (literal(first, BigInteger) + (seconds - literal(offset, BigInteger)) // DAY_SECONDS
                 if regular else literal(first, BigInteger))
        branches.append((column < end, value))
    return branches[0][1] if len(branches) == 1 else case(*branches[:-1], else_=branches[-1][1])

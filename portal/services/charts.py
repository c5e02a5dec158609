"""Usage chart data of a metered line for one billing period (merchant and customer portals).

`usage_series(line, period)` answers daily buckets, the cumulative billable aggregate and
the cost so far from ONE aggregate query, whatever the number of records.

Daily buckets in the merchant zone, portable to SQLite and PostgreSQL (no SQL time zone
functions, which SQLite lacks): Python computes the period's local midnights (UTC
instants, DST-aware, as the billing core does) and splits them into runs of regular
86,400-second days; a day whose length differs (the 23- or 25-hour day of a DST change)
is a run of its own. In SQL, a CASE picks the run of `from_at` and the day index is
    run's first day + (epoch(from_at) - epoch(run start)) / 86400   (integer division)
or the run's only day for an irregular one. Exact across DST changes and zones whose
midnight falls in a gap, cheap (a handful of CASE branches), and served by the
(line_item_id, from_at) index. A second flag marks records inside the billing window
(trial and cancel excluded, as `billing_inputs.usage_aggregate` counts them) so that the
cumulative line and the cost equal what the invoice will charge.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import BigInteger, and_, case, cast, func, literal, null, select

from portal.billing.money import quantize_money
from portal.billing.periods import Period, local_floor_date, local_midnight, period_at, period_containing
from portal.billing.pricing import price_quantity, usage_charge
from portal.billing.proration import billable_interval
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import LineItem, UsageRecord
from portal.services import merchant_tz
from portal.services.billing_inputs import line_spec
from portal.services.catalog import pricemodel_of
from portal.services.packages import package_anchor

DAY_SECONDS = 86400
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class DayBucket:
    """One local day: its aggregate (sum, max or latest by usage type) and records."""

    day: date
    value: Decimal
    records: int
    cumulative: Decimal  # the billable aggregate from the period start through this day


@dataclass(frozen=True)
class UsageSeries:
    """A line's usage over one period, with what it costs so far."""

    period: Period
    usage_type: str
    days: tuple[DayBucket, ...]
    aggregate: Decimal  # the period's billable aggregate, as the invoice will count it
    records: int
    cost: Decimal  # usage_charge of the aggregate, rounded to the currency
    currency: str


@dataclass(frozen=True)
class PeriodChoice:
    """The selected period of a line and how far navigation may go."""

    period: Period
    first_index: int
    last_index: int

    @property
    def previous_index(self) -> int | None:
        return self.period.index - 1 if self.period.index > self.first_index else None

    @property
    def next_index(self) -> int | None:
        return self.period.index + 1 if self.period.index < self.last_index else None


def choose_period(line: LineItem, index: int | None = None, now: datetime | None = None) -> PeriodChoice:
    """The period `index` of the line's package (default: the current one), clamped to
    the periods the line lived in: from its subscription to now (or its cancel)."""
    package, tz = line.package, merchant_tz()
    anchor = package_anchor(package)
    ends = [at for at in (line.cancel_at, package.cancel_at) if at is not None]
    last_instant = min([now or utcnow(), *ends])
    if ends and last_instant == min(ends):
        last_instant -= timedelta(microseconds=1)  # a cancel at a boundary ends the period before
    first = period_containing(anchor, package.paycycle, line.subscribe_at, tz).index
    last = max(first, period_containing(anchor, package.paycycle, last_instant, tz).index)
    chosen = last if index is None else min(max(index, first), last)
    return PeriodChoice(period_at(anchor, package.paycycle, chosen, tz), first, last)


def local_days(period: Period, tz) -> list[tuple[date, datetime]]:
    """Each local date of the period with the UTC instant it starts (the first one starts
    at the period start), plus a closing (date, period end) sentinel."""
    first, last = local_floor_date(period.start, tz), local_floor_date(period.end, tz)
    if local_midnight(last, tz) < period.end:
        last += timedelta(days=1)  # a period ending mid-day (never for full periods)
    days = [(first + timedelta(days=n), local_midnight(first + timedelta(days=n), tz))
            for n in range((last - first).days)]
    days[0] = (first, period.start)
    return days + [(last, period.end)]


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


def day_index_expression(days: list[tuple[date, datetime]]):
    """SQL: the index in `days` of the local day that contains `from_at`."""
    seconds = _epoch_seconds(UsageRecord.from_at)
    branches = []
    for first, start, end, regular in _runs(days):
        offset = int((start - _EPOCH).total_seconds())
        value = (literal(first, BigInteger) + (seconds - literal(offset, BigInteger)) // DAY_SECONDS
                 if regular else literal(first, BigInteger))
        branches.append((UsageRecord.from_at < end, value))
    return branches[0][1] if len(branches) == 1 else case(*branches[:-1], else_=branches[-1][1])


def _spec(line: LineItem):
    """The billing core's view of the line, with the price model in force on it."""
    return line_spec(line, pricemodel_of(line.tierset))


def billing_window(line: LineItem, period: Period) -> tuple[datetime, datetime]:
    """The part of the period whose usage is billed (the window of `usage_aggregate`)."""
    spec = _spec(line)
    start = max(period.start, spec.trial_end) if spec.trial_end else period.start
    end = min(period.end, spec.cancel_at) if spec.cancel_at else period.end
    return start, end


def _grouped_rows(line: LineItem, period: Period, days: list) -> list:
    """(day, billable, value, records, from_at, id) per (day, billable) group: ONE query."""
    start, end = billing_window(line, period)
    billable = (case((and_(UsageRecord.from_at >= start, UsageRecord.from_at < end), 1), else_=0)
                if start < end else literal(0))
    inner = select(day_index_expression(days).label("day"), billable.label("billable"),
                   UsageRecord.usage_value.label("value"), UsageRecord.from_at, UsageRecord.id) \
        .where(UsageRecord.line_item_id == line.id, UsageRecord.from_at >= period.start,
               UsageRecord.from_at < period.end).subquery()
    group = (inner.c.day, inner.c.billable)
    if line.item.usage_type == "lat":
        # The latest record of each group (by from, then arrival), found by a window function.
        rank = func.row_number().over(partition_by=group, order_by=(inner.c.from_at.desc(), inner.c.id.desc()))
        ranked = select(*group, inner.c.value, func.count().over(partition_by=group).label("n"),
                        inner.c.from_at, inner.c.id, rank.label("rank")).subquery()
        stmt = select(ranked.c.day, ranked.c.billable, ranked.c.value, ranked.c.n,
                      ranked.c.from_at, ranked.c.id).where(ranked.c.rank == 1)
    else:
        total = (func.sum if line.item.usage_type == "add" else func.max)(inner.c.value)
        stmt = select(*group, total, func.count(), null(), null()).group_by(*group)
    return db.session.execute(stmt).all()


def _combine(usage_type: str, values: list) -> Decimal | None:
    """The aggregate of partial aggregates; `lat` values come as (value, (from_at, id))."""
    if not values:
        return None
    if usage_type == "add":
        return sum(values, Decimal(0))
    if usage_type == "max":
        return max(values)
    return max(values, key=lambda pair: pair[1])


def _buckets(usage_type: str, size: int, rows: list) -> list[tuple[Decimal, int, Decimal | None]]:
    """(value, records, billable part) of each day index, from the grouped rows."""
    shown: list[list] = [[] for _ in range(size)]
    billed: list[list] = [[] for _ in range(size)]
    counts = [0] * size
    for day, billable, value, records, from_at, record_id in rows:
        part = (value, (from_at, record_id)) if usage_type == "lat" else value
        shown[day].append(part)
        if billable:
            billed[day].append(part)
        counts[day] += records
    return [(_combine(usage_type, shown[i]), counts[i], _combine(usage_type, billed[i]))
            for i in range(size)]


def _running(usage_type: str, so_far, part):
    """The cumulative billable aggregate after adding a day's billable part."""
    if part is None:
        return so_far
    if so_far is None:
        return part
    return _combine(usage_type, [so_far, part])


def usage_series(line: LineItem, period: Period) -> UsageSeries:
    """Daily buckets, cumulative billable aggregate and cost so far of a line in a period.

    :param line: a metered line item (its item, tierset and package are loaded as needed).
    :param period: one of its package's periods (see `choose_period`).
    """
    usage_type, days = line.item.usage_type, local_days(period, merchant_tz())
    buckets = _buckets(usage_type, len(days) - 1, _grouped_rows(line, period, days))
    out, so_far = [], None
    for (day, _), (value, records, part) in zip(days[:-1], buckets, strict=True):  # not the closing sentinel
        so_far = _running(usage_type, so_far, part)
        out.append(DayBucket(day, _value(value), records, _value(so_far)))
    aggregate = _value(so_far)
    currency = line.package.customer.currency
    return UsageSeries(period, usage_type, tuple(out), aggregate, sum(counts for _, counts, _ in buckets),
                       period_cost(line, period, aggregate), currency)


def _value(aggregate) -> Decimal:
    if aggregate is None:
        return Decimal(0)
    return aggregate[0] if isinstance(aggregate, tuple) else aggregate


def period_cost(line: LineItem, period: Period, aggregate: Decimal) -> Decimal:
    """What the invoice will charge for this usage: the billing core's usage charge (the
    minimum only where the line is billable in the period, as the invoice applies it)."""
    spec = _spec(line)
    charge = (usage_charge(spec.pricing, aggregate) if billable_interval(spec, period)
              else price_quantity(spec.pricing, aggregate))
    return quantize_money(charge, line.package.customer.currency)

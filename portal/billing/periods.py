"""Billing periods: calendar steps from an anchor date, at local midnight in the merchant's zone.

Every boundary is computed FROM THE ANCHOR (anchor + index × step), never from the previous
boundary, so month-based cycles clamp without drifting: Jan 31 → Feb 29 → Mar 31 → Apr 30.
Boundaries are local midnights converted to UTC, so daylight saving changes the length of a
period (a day of 23 or 25 hours) but never moves a boundary off midnight (docs/billing-rules.md §5).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from dateutil.relativedelta import relativedelta

from portal.billing.errors import ValidationError
from portal.billing.vocabulary import Paycycle

# One step of each paycycle; a dispatch table rather than a class per cycle.
PAYCYCLES: dict[Paycycle, relativedelta] = {
    Paycycle.DAILY: relativedelta(days=1),
    Paycycle.WEEKLY: relativedelta(weeks=1),
    Paycycle.BIWEEKLY: relativedelta(weeks=2),
    Paycycle.FOUR_WEEKS: relativedelta(weeks=4),
    Paycycle.MONTHLY: relativedelta(months=1),
    Paycycle.TWO_MONTHS: relativedelta(months=2),
    Paycycle.QUARTERLY: relativedelta(months=3),
    Paycycle.SIX_MONTHS: relativedelta(months=6),
    Paycycle.YEARLY: relativedelta(years=1),
    Paycycle.TWO_YEARS: relativedelta(years=2),
    Paycycle.THREE_YEARS: relativedelta(years=3),
}

# Mean Gregorian month (365.2425 / 12 days); only used to guess an index, then corrected.
_AVERAGE_MONTH = timedelta(days=30, hours=10, minutes=29, seconds=6)


@dataclass(frozen=True)
class Period:
    """A billing period, the half-open interval [start, end) of aware UTC instants.

    ``index`` counts steps from the anchor (0 = the period that starts at the anchor).
    """

    start: datetime
    end: datetime
    index: int


def validate_paycycle(code: str, field: str = "paycycle") -> str:
    """Check a paycycle code.

    :param code: one of ``dly 1wk 2wk 4wk mon 2mn qtr six yrl 2yr 3yr``.
    :param field: the field name for the error.
    :returns: the code.
    :raises ValidationError: unknown code; the message lists the valid ones.
    """
    if not isinstance(code, str) or code not in PAYCYCLES:
        raise ValidationError(field, f"must be one of {', '.join(PAYCYCLES)} (got {code!r})")
    return code


def anchor_date(start: datetime, holduntil: datetime | None, tz: tzinfo) -> date:
    """The local calendar date periods are counted from.

    Without a hold: the start's date (a package started at 14:30 has periods from 00:00 of
    that day). With ``holduntil``: the first local midnight at or after it, because no
    invoice may be issued before the hold ends (a hold until 15:00 anchors on the next day).

    :param start: the package start (aware).
    :param holduntil: the package's hold-until instant (aware) or None.
    :param tz: the merchant time zone.
    """
    if holduntil is not None:
        return local_ceil_date(_require_aware(holduntil, "holduntil"), tz)
    return _require_aware(start, "start").astimezone(tz).date()


def hold_period(start: datetime, first_boundary: datetime, until: datetime | None = None
                ) -> Period | None:
    """The time between a package's start and period 0 (a ``holduntil`` hold), as ONE usage
    period with index -1: its usage is billed on the first invoice; nothing is charged in
    advance for it. None when the package starts at (or after) its first boundary.

    :param start: the package start.
    :param first_boundary: the start of period 0.
    :param until: an earlier end (a cancel during the hold), or None.
    """
    end = first_boundary if until is None else min(first_boundary, until)
    return Period(start, end, -1) if start < end else None


# A billing run asks for the same few boundaries of a package many times (the period of
# each instant of its history, its previous and next period): they are computed once.
@lru_cache(maxsize=8192)
def boundary(anchor: date, paycycle: str, index: int, tz: tzinfo) -> datetime:
    """The instant (aware UTC) where period ``index`` starts (pure, hence cached).

    :param anchor: local calendar date of period 0's start.
    :param paycycle: paycycle code.
    :param index: period number; negative indices count back before the anchor.
    :param tz: the merchant time zone.
    """
    if isinstance(anchor, datetime):
        raise TypeError("anchor must be a date, not a datetime")
    step = PAYCYCLES[validate_paycycle(paycycle)]
    return local_midnight(anchor + step * index, tz)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The first instant (aware UTC) of a local calendar day.

    Where local midnight does not exist (a zone whose DST jump is at 00:00, e.g.
    America/Sao_Paulo on 2018-11-04), the day starts at the first instant that exists after
    it, i.e. the transition. Where midnight happens twice, the first occurrence is used.

    :param day: the local date.
    :param tz: the time zone.
    """
    naive = datetime.combine(day, time(0))
    instant = naive.replace(tzinfo=tz).astimezone(timezone.utc)
    if _local_naive(instant, tz) == naive:
        return instant
    return _first_existing_after(naive, tz)


def _local_naive(instant: datetime, tz: tzinfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _first_existing_after(naive: datetime, tz: tzinfo) -> datetime:
    """Smallest UTC instant whose local time is ≥ ``naive`` (which lies in a DST gap).

    Reading the gap time with the offsets before and after the jump brackets the
    transition; a bisection over whole seconds finds it, whatever the gap's size.
    """
    low = naive.replace(tzinfo=tz, fold=1).astimezone(timezone.utc)
    high = naive.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)
    low, high = min(low, high), max(low, high)
    one = timedelta(seconds=1)
    while high - low > one:
        middle = low + (high - low) // 2
        if _local_naive(middle, tz) >= naive:
            high = middle
        else:
            low = middle
    return high


def period_at(anchor: date, paycycle: str, index: int, tz: tzinfo) -> Period:
    """Period number ``index`` of a paycycle.

    :param anchor: local calendar date of period 0's start.
    :param paycycle: paycycle code.
    :param index: period number (may be negative).
    :param tz: the merchant time zone.
    """
    return Period(
        start=boundary(anchor, paycycle, index, tz),
        end=boundary(anchor, paycycle, index + 1, tz),
        index=index,
    )


def _average_step(paycycle: str) -> timedelta:
    step = PAYCYCLES[paycycle]
    return timedelta(days=step.days) + _AVERAGE_MONTH * (step.months + 12 * step.years)


def period_containing(anchor: date, paycycle: str, instant: datetime, tz: tzinfo) -> Period:
    """The period whose [start, end) contains ``instant``.

    An instant before the anchor gets the period with a negative index (no error): callers
    decide whether such an instant is acceptable (e.g. usage before a package started).
    Runs in constant time: the index is estimated from the mean cycle length, then corrected
    by single steps (the estimate is off by at most one or two periods).

    :param anchor: local calendar date of period 0's start.
    :param paycycle: paycycle code.
    :param instant: an aware datetime.
    :param tz: the merchant time zone.
    """
    _require_aware(instant, "instant")
    start0 = boundary(anchor, paycycle, 0, tz)
    index = (instant - start0) // _average_step(paycycle)
    while boundary(anchor, paycycle, index, tz) > instant:
        index -= 1
    while boundary(anchor, paycycle, index + 1, tz) <= instant:
        index += 1
    return period_at(anchor, paycycle, index, tz)


def periods_between(
    anchor: date, paycycle: str, start: datetime, end: datetime, tz: tzinfo
) -> list[Period]:
    """All periods overlapping [start, end), in order (empty when end ≤ start).

    :param anchor: local calendar date of period 0's start.
    :param paycycle: paycycle code.
    :param start: aware start instant (inclusive).
    :param end: aware end instant (exclusive).
    :param tz: the merchant time zone.
    """
    _require_aware(end, "end")
    if end <= start:
        return []
    periods = [period_containing(anchor, paycycle, start, tz)]
    while periods[-1].end < end:
        periods.append(period_at(anchor, paycycle, periods[-1].index + 1, tz))
    return periods


def local_floor_date(instant: datetime, tz: tzinfo) -> date:
    """The local calendar date an instant falls on (the day it starts).

    :param instant: an aware datetime.
    :param tz: the time zone.
    """
    return _require_aware(instant, "instant").astimezone(tz).date()


def local_ceil_date(instant: datetime, tz: tzinfo) -> date:
    """The first local date whose midnight is at or after ``instant`` (a started day counts).

    :param instant: an aware datetime.
    :param tz: the time zone.
    """
    day = local_floor_date(instant, tz)
    return day if local_midnight(day, tz) == instant else day + timedelta(days=1)


def local_day_count(start: datetime, end: datetime, tz: tzinfo) -> int:
    """Number of local calendar days touched by [start, end); a started day counts whole.

    A month of 30 days is 30 even across a DST change (its hours are 719 or 721).

    :param start: aware start instant.
    :param end: aware end instant (exclusive).
    :param tz: the time zone.
    """
    if end <= start:
        return 0
    return (local_ceil_date(end, tz) - local_floor_date(start, tz)).days


def _require_aware(instant: datetime, field: str) -> datetime:
    if not isinstance(instant, datetime) or instant.tzinfo is None or instant.utcoffset() is None:
        raise ValidationError(field, "must be a date and time with a time zone")
    return instant

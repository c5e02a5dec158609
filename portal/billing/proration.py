"""Proration of in-advance charges by local calendar days (docs/billing-rules.md §7).

A line is billable in a period P from max(P.start, subscribe_at, trial_end) to
min(P.end, cancel_at). Charges are prorated by days: fraction = billable local days / local
days of P, where a started day counts whole (so a cancel at 15:00 pays for that day).

Boundary-day rule for quantity changes: each local day is charged at the quantity in effect
at the END of that day — a change during a day applies to the whole day, and of several
changes on one day the last wins. Every billable day therefore belongs to exactly one
quantity segment, the segments' days add up to the billable days, and a full period with
one quantity is charged exactly its unprorated price.

Suspensions (``LineSpec.pauses``) are prorated out like a cancel and a restart: a day is
charged when any part of it is outside every suspension, so a suspension from Mar 10 15:00
to Mar 20 09:00 removes Mar 11 – Mar 19 (9 days) and charges the 10th and the 20th.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, localcontext
from zoneinfo import ZoneInfo

from portal.billing.charges import LineSpec, QuantityChange
from portal.billing.money import EXACT
from portal.billing.periods import Period, local_ceil_date, local_day_count, local_floor_date


@dataclass(frozen=True)
class Proration:
    """How much of a period a line is billable: (quantity, days) segments over period_days."""

    period_days: int
    segments: tuple[tuple[Decimal, int], ...]

    @property
    def active_days(self) -> int:
        """Billable local days in the period."""
        return sum(days for _, days in self.segments)

    @property
    def quantity(self) -> Decimal:
        """The quantity shown on the invoice: the last one in force in the period (0 if none)."""
        return self.segments[-1][0] if self.segments else Decimal(0)

    @property
    def is_full(self) -> bool:
        """True when the whole period is billed at one quantity."""
        return len(self.segments) == 1 and self.active_days == self.period_days


def lifetime_overlaps(line: LineSpec, period: Period) -> bool:
    """Whether the line exists (subscribed, not cancelled; trial included) during the period.

    :param line: the line.
    :param period: the period.
    """
    end = period.end if line.cancel_at is None else min(period.end, line.cancel_at)
    return max(period.start, line.subscribe_at) < end


def billable_start(line: LineSpec) -> datetime:
    """When the line starts being charged: its subscription, or the end of its trial.

    :param line: the line.
    """
    if line.trial_end is None:
        return line.subscribe_at
    return max(line.subscribe_at, line.trial_end)


def billable_interval(line: LineSpec, period: Period) -> tuple[datetime, datetime] | None:
    """The part of the period the line is charged for, or None.

    A period before period 0 (a ``holduntil`` hold, index < 0) is never charged: only its
    usage is billed, without a minimum.

    :param line: the line.
    :param period: the period.
    """
    if period.index < 0:
        return None
    start = max(period.start, billable_start(line))
    end = period.end if line.cancel_at is None else min(period.end, line.cancel_at)
    if start >= end:
        return None
    # Without proration (ChargeOver's subscribe_prorate / cancel_prorate false), a line
    # that starts or ends inside the period is charged the whole period.
    return (start if line.prorate_start else period.start,
            end if line.prorate_end else period.end)


def prorate(line: LineSpec, period: Period, tz: ZoneInfo) -> Proration:
    """Split the line's billable days in a period by quantity (see the module's day rule).

    :param line: the line (its quantity history sorted by effective_at).
    :param period: the advance period.
    :param tz: the merchant time zone (days are local calendar days).
    """
    period_days = local_day_count(period.start, period.end, tz)
    interval = billable_interval(line, period)
    if interval is None:
        return Proration(period_days, ())
    first, stop = local_floor_date(interval[0], tz), local_ceil_date(interval[1], tz)
    charged = _without(first, stop, paused_days(line.pauses, tz))
    segments = []
    for quantity, seg_from, seg_to in _quantity_spans(line.quantities, tz):
        days = sum(_overlap(seg_from, seg_to, a, b) for a, b in charged)
        if days > 0:
            segments.append((quantity, days))
    return Proration(period_days, tuple(segments))


def paused_days(
    pauses: tuple[tuple[datetime, datetime | None], ...], tz: ZoneInfo
) -> list[tuple[date, date]]:
    """The local days each suspension removes, as [first, after last) date ranges: the days
    wholly inside it (a suspension's first and last days are partly active, so charged).

    :param pauses: (start, end) instants; end None = not ended.
    :param tz: the merchant time zone.
    """
    ranges = []
    for start, end in pauses:
        first = local_ceil_date(start, tz)
        after = date.max if end is None else local_floor_date(end, tz)
        if first < after:
            ranges.append((first, after))
    return sorted(ranges)


def _without(first: date, stop: date, holes: list[tuple[date, date]]) -> list[tuple[date, date]]:
    """[first, stop) minus the sorted date ranges `holes`, as a list of ranges."""
    ranges, cursor = [], first
    for hole_from, hole_to in holes:
        if hole_from > cursor:
            ranges.append((cursor, min(hole_from, stop)))
        cursor = max(cursor, hole_to)
        if cursor >= stop:
            break
    if cursor < stop:
        ranges.append((cursor, stop))
    return [(a, b) for a, b in ranges if a < b]


def _overlap(a_from: date, a_to: date, b_from: date, b_to: date) -> int:
    return max(0, (min(a_to, b_to) - max(a_from, b_from)).days)


def _quantity_spans(
    changes: tuple[QuantityChange, ...], tz: ZoneInfo
) -> list[tuple[Decimal, date, date]]:
    """(quantity, first day, day after the last) per change; the first is open at the start."""
    if not changes:
        return [(Decimal(1), date.min, date.max)]
    changes = tuple(sorted(changes, key=lambda change: change.effective_at))
    days = [date.min] + [local_floor_date(c.effective_at, tz) for c in changes[1:]] + [date.max]
    return [(c.quantity, days[i], days[i + 1]) for i, c in enumerate(changes)]


def prorated_charge(proration: Proration, charge_of: Callable[[Decimal], Decimal]) -> Decimal:
    """Exact (unrounded) prorated charge: Σ charge_of(quantity) × days / period_days.

    A full period is its unprorated charge exactly (no division at all).

    :param proration: the line's proration in the period.
    :param charge_of: the full-period charge for a quantity (e.g. base × quantity).
    """
    if proration.is_full:
        return charge_of(proration.segments[0][0])
    if not proration.segments:
        return Decimal(0)
    with localcontext(EXACT):
        # One division at the end: exact whenever the result is a finite decimal.
        weighted = sum((charge_of(q) * days for q, days in proration.segments), Decimal(0))
        return weighted / proration.period_days

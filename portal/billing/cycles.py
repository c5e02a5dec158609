"""Which periods of a line an invoice reconciles, and which history instants touch them.

A line whose item has its own paycycle (docs/billing-rules.md §3) is billed on its own cycle, counted
from the package's anchor: its in-advance charges for an own period are reconciled on every
package invoice whose advance period overlaps it (so first on the package invoice at or
after the own period's start), its usage once the own period has ended (or the line ended).
Reconciling a period again is harmless: the target of a billed period only changes when its
history changes, since the period keeps its price model (see `portal.billing.invoicing`).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from portal.billing.charges import LineSpec
from portal.billing.periods import Period, periods_between


def _own_periods(line: LineSpec, periods: Iterable[Period], tz: ZoneInfo) -> list[Period]:
    anchor, paycycle = line.cycle
    own: dict[datetime, Period] = {}
    for period in periods:
        for mine in periods_between(anchor, paycycle, period.start, period.end, tz):
            own[mine.start] = mine
    return sorted(own.values(), key=lambda p: p.start)


def line_advance_periods(line: LineSpec, periods: Iterable[Period], tz: ZoneInfo) -> list[Period]:
    """The line's periods whose in-advance charges go with these (package) advance periods.

    :param line: the line (``cycle`` set when it has its own paycycle).
    :param periods: the package periods the invoice reconciles in advance.
    :param tz: the merchant time zone.
    """
    if line.cycle is None:
        return sorted(periods, key=lambda p: p.start)
    return _own_periods(line, periods, tz)


def line_usage_periods(line: LineSpec, periods: Iterable[Period], instant: datetime,
                       tz: ZoneInfo) -> list[Period]:
    """The line's periods whose usage goes with these (package) usage periods.

    An own period is billed once it has ended by ``instant``, or once the line has ended.

    :param line: the line.
    :param periods: the package periods whose usage the invoice reconciles.
    :param instant: the invoice's instant.
    :param tz: the merchant time zone.
    """
    if line.cycle is None:
        return sorted(periods, key=lambda p: p.start)
    ended = line.cancel_at is not None and line.cancel_at <= instant
    return [p for p in _own_periods(line, periods, tz)
            if p.start < instant and (ended or p.end <= instant)]


def reconciled_starts(lines: Iterable[LineSpec], advance: Iterable[Period],
                      usage: Iterable[Period], instant: datetime, tz: ZoneInfo) -> set[datetime]:
    """The starts of every period an invoice reconciles a charge of, over all its lines:
    the billed charges of other periods (setup fees aside, which are keyed by line only)
    cannot change it, so the caller need not read them and billing stays flat in history.

    :param lines: the package's lines.
    :param advance: the package periods reconciled in advance.
    :param usage: the package periods whose usage is reconciled.
    :param instant: the invoice's instant.
    :param tz: the merchant time zone.
    """
    advance, usage = list(advance), list(usage)
    starts = set()
    for line in lines:
        starts.update(p.start for p in line_advance_periods(line, advance, tz))
        if line.is_metered:
            starts.update(p.start for p in line_usage_periods(line, usage, instant, tz))
    return starts


def history_instants(line: LineSpec) -> list[datetime]:
    """Every instant at which the line's in-advance charges change: its start, trial end,
    cancel, quantity changes and the package's suspension starts and ends (their periods
    are reconciled again on every invoice).

    :param line: the line.
    """
    instants = [line.subscribe_at, *(change.effective_at for change in line.quantities)]
    pauses = [i for pause in line.pauses for i in pause if i is not None]
    return instants + lifetime_instants(line)[1:] + pauses


def lifetime_instants(line: LineSpec) -> list[datetime]:
    """The instants that change whether usage of the line is billed: start, trial end, cancel.

    :param line: the line.
    """
    return [i for i in (line.subscribe_at, line.trial_end, line.cancel_at) if i is not None]

"""Reading usage rollups: which local days may be read from `usage_day_rollups`.

A day is read from its rollup when it is rolled (before `rolled_before`, in the current
zone) and no late record for it waits in `usage_rollup_dirty`; every other day (today,
days the job has not reached, days with unapplied late usage, and the partial days at the
edges of a window) is read from the raw records. The result equals the raw computation at
every moment, and its cost depends on the number of days, not of records.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, false, func, or_, select

from portal.billing.periods import local_floor_date, local_midnight
from portal.extensions import db
from portal.models import UsageDayRollup, UsageRecord, UsageRollupDirty, UsageRollupState
from portal.services import merchant_tz


@dataclass(frozen=True)
class RolledDays:
    """The days of a window whose rollups are complete."""

    rolled_before: date | None  # days before it are rolled (None: none is)
    dirty: dict[date, set[int]] = field(default_factory=dict)  # day -> lines with late usage

    def clean(self, day: date, line_id: int) -> bool:
        """Whether the line's usage of `day` can be read from its rollup."""
        return (self.rolled_before is not None and day < self.rolled_before
                and line_id not in self.dirty.get(day, ()))

    def clean_end(self, first: date, end: date) -> date:
        """The end of the rolled part of [first, end) (first when nothing is rolled)."""
        if self.rolled_before is None:
            return first
        return max(first, min(end, self.rolled_before))


def rolled_days(first: date, end: date, line_id: int | None = None) -> RolledDays:
    """What is rolled of the local days [first, end), for one line or for all lines."""
    tz = merchant_tz()
    state = db.session.execute(select(UsageRollupState.tz, UsageRollupState.rolled_before)
                               .where(UsageRollupState.id == 1)).first()
    if state is None or state.tz != tz.key or state.rolled_before is None:
        return RolledDays(None)
    stop = min(end, state.rolled_before)
    if stop <= first:
        return RolledDays(state.rolled_before)
    stmt = select(UsageRollupDirty.line_item_id, UsageRollupDirty.at).where(
        UsageRollupDirty.at >= local_midnight(first, tz), UsageRollupDirty.at < local_midnight(stop, tz))
    if line_id is not None:
        stmt = stmt.where(UsageRollupDirty.line_item_id == line_id)
    dirty: dict[date, set[int]] = defaultdict(set)
    for line, at in db.session.execute(stmt):
        dirty[local_floor_date(at, tz)].add(line)
    return RolledDays(state.rolled_before, dict(dirty))


def rollups_of_line(line_id: int, days: list[date]) -> dict[date, UsageDayRollup]:
    """The rollup rows of one line on the given days (a day without usage has none)."""
    if not days:
        return {}
    rows = db.session.scalars(select(UsageDayRollup).where(
        UsageDayRollup.line_item_id == line_id, UsageDayRollup.day >= min(days),
        UsageDayRollup.day <= max(days)).execution_options(populate_existing=True))
    wanted = set(days)
    return {row.day: row for row in rows if row.day in wanted}


def raw_ranges(ranges: list[tuple]) -> object:
    """SQL: `from_at` in one of the [start, end) instant ranges (false when there is none)."""
    if not ranges:
        return false()
    return or_(*(and_(UsageRecord.from_at >= start, UsageRecord.from_at < end) for start, end in ranges))


def rolled_part(rolled: RolledDays, first: date, end: date):
    """SQL on `usage_day_rollups`: the clean rolled days of [first, end) for every line."""
    clean_end = rolled.clean_end(first, end)
    dirty = [~and_(UsageDayRollup.day == day, UsageDayRollup.line_item_id.in_(sorted(lines)))
             for day, lines in rolled.dirty.items()]
    return and_(UsageDayRollup.day >= first, UsageDayRollup.day < clean_end, *dirty)


def raw_part(rolled: RolledDays, first: date, end: date):
    """SQL on `usage_records`: what `rolled_part` leaves out of [first, end) (all lines)."""
    tz, clean_end = merchant_tz(), rolled.clean_end(first, end)
    parts = [and_(UsageRecord.from_at >= local_midnight(clean_end, tz),
                  UsageRecord.from_at < local_midnight(end, tz))] if clean_end < end else []
    for day, lines in rolled.dirty.items():
        parts.append(and_(UsageRecord.from_at >= local_midnight(day, tz),
                          UsageRecord.from_at < local_midnight(day + timedelta(days=1), tz),
                          UsageRecord.line_item_id.in_(sorted(lines))))
    return or_(*parts) if parts else false()


def _clean_indices(line_id: int, days: list, window: tuple, rolled: RolledDays) -> list[int]:
    """The indices of `days` read from rollups: whole local days, rolled, without late
    usage waiting, and not cut by the billing window."""
    if rolled.rolled_before is None:
        return []
    tz, (start, end), clean = merchant_tz(), window, []
    for index, (day, low) in enumerate(days[:-1]):
        high = days[index + 1][1]
        if (rolled.clean(day, line_id) and not low < start < high and not low < end < high
                and low == local_midnight(day, tz) and high == local_midnight(day + timedelta(days=1), tz)):
            clean.append(index)
    return clean


def _ranges(days: list, skip: set[int]) -> list[tuple]:
    """[start, end) instant ranges of the runs of day indices not in `skip`."""
    ranges: list[list] = []
    for index in range(len(days) - 1):
        if index in skip:
            continue
        if ranges and ranges[-1][1] == days[index][1]:
            ranges[-1][1] = days[index + 1][1]
        else:
            ranges.append([days[index][1], days[index + 1][1]])
    return [(low, high) for low, high in ranges]


def line_days(line_id: int, usage_type: str, days: list, window: tuple) -> tuple[list[tuple], list[tuple]]:
    """One line's local days split into rollups and raw ranges.

    :param days: (date, start instant) of each day plus a closing sentinel (`usage_days`).
    :param window: the billing window (start, end): a day inside it is billable.
    :returns: (rows, ranges): (day index, billable, value, records, from_at, id) of the days
        read from rollups (value by `usage_type`; from_at and id for `lat` only), and the
        [start, end) instant ranges to read from the raw records.
    """
    rolled = rolled_days(days[0][0], days[-1][0] + timedelta(days=1), line_id)
    clean = _clean_indices(line_id, days, window, rolled)
    index_of = {days[index][0]: index for index in clean}
    start, end = window
    rows = []
    for day, rollup in rollups_of_line(line_id, list(index_of)).items():
        index = index_of[day]
        billable = int(start < end and start <= days[index][1] and days[index + 1][1] <= end)
        if usage_type == "lat":
            rows.append((index, billable, rollup.latest_value, rollup.records, rollup.latest_from,
                         rollup.latest_id))
        else:
            value = rollup.total if usage_type == "add" else rollup.peak
            rows.append((index, billable, value, rollup.records, None, None))
    return rows, _ranges(days, set(clean))


def rollup_status() -> dict:
    """For /health: the last rolled local day (None: none) and the late records waiting."""
    rolled = db.session.scalar(select(UsageRollupState.rolled_before).where(UsageRollupState.id == 1))
    waiting = db.session.scalar(select(func.count()).select_from(UsageRollupDirty))
    last = None if rolled is None else (rolled - timedelta(days=1)).isoformat()
    return {"rolled_through": last, "late_waiting": int(waiting or 0)}

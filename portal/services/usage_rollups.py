"""Keeping usage rollups (`portal.models.usage_rollups`): one row per (line, closed local day).

The scheduler's rollup job (`portal.jobs.rollups`, which owns the transactions) calls:
1. `start_logging(state, today)`: late usage for days before today is logged from now on.
   On PostgreSQL it first takes a SHARE lock on `usage_records` (waiting for the inserts in
   flight, blocking new ones for milliseconds, once a day): an insert either committed
   before, and is seen when the days are rolled, or runs after, and its trigger logs it.
2. `roll_days(first, end)`: the rollups of [first, end) from the raw rows, ONE grouped
   query (+ a join for the latest record), served by the (line, from) index.
3. `apply_late_usage(state)`: the days named in `usage_rollup_dirty` are recomputed from
   their raw rows (runs of consecutive days of a line, 200 runs per query, each range served
   by the (line, from) index): proportional to what changed, never a scan of history.
A change of the merchant zone (`TIMEZONE`) empties the rollups; they are rebuilt from history.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import and_, delete, func, insert, or_, select, text

from portal.billing.periods import local_floor_date, local_midnight
from portal.extensions import db
from portal.models import UsageDayRollup, UsageRecord, UsageRollupDirty, UsageRollupState
from portal.services import merchant_tz
from portal.services.usage_days import day_index_expression, day_starts

CHUNK_DAYS = 31  # days rolled per transaction (a fresh build of a long history commits as it goes)
LATE_BATCH = 200  # runs of (line, days) recomputed by one query
LOCK_TIMEOUT_MS = 2000  # how long the start of logging waits for inserts in flight


def tz_name() -> str:
    """The key of the merchant zone the rollups are computed in."""
    return merchant_tz().key


def locked_state() -> UsageRollupState:
    """The state row, locked for this transaction (one rollup job at a time); created or
    reset (rollups emptied) when missing or computed in another zone."""
    state = db.session.scalars(select(UsageRollupState).where(UsageRollupState.id == 1)
                               .with_for_update()).first()
    if state is None:
        state = UsageRollupState(id=1, tz=tz_name())
        db.session.add(state)
    elif state.tz != tz_name():
        db.session.execute(delete(UsageDayRollup))
        db.session.execute(delete(UsageRollupDirty))
        state.tz, state.rolled_before, state.log_before = tz_name(), None, None
    db.session.flush()
    return state


def start_logging(state: UsageRollupState, today: date) -> bool:
    """Log late usage for every day before `today`; False when nothing changed."""
    target = local_midnight(today, merchant_tz())
    if state.log_before is not None and state.log_before >= target:
        return False
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"SET LOCAL lock_timeout = {int(LOCK_TIMEOUT_MS)}"))
        db.session.execute(text("LOCK TABLE usage_records IN SHARE MODE"))
    state.log_before = target
    db.session.flush()
    return True


def first_usage_day() -> date | None:
    """The local day of the earliest usage record (None: no usage at all)."""
    first = db.session.scalar(select(func.min(UsageRecord.from_at)))
    return None if first is None else local_floor_date(first, merchant_tz())


def _day_rows(days: list[tuple[date, datetime]], *where) -> list[dict]:
    """The rollup rows of the given days from the raw records (lines chosen by `where`)."""
    inner = select(UsageRecord.line_item_id.label("line"), day_index_expression(days).label("day"),
                   UsageRecord.usage_value.label("value"), UsageRecord.from_at) \
        .where(UsageRecord.from_at >= days[0][1], UsageRecord.from_at < days[-1][1], *where).subquery()
    grouped = select(inner.c.line, inner.c.day, func.count().label("records"),
                     func.sum(inner.c.value).label("total"), func.max(inner.c.value).label("peak"),
                     func.max(inner.c.from_at).label("last_from")) \
        .group_by(inner.c.line, inner.c.day).subquery()
    # The latest record of each day: the records at its greatest `from`, then the greatest id.
    rows = db.session.execute(
        select(grouped, UsageRecord.id, UsageRecord.usage_value)
        .join(UsageRecord, and_(UsageRecord.line_item_id == grouped.c.line,
                                UsageRecord.from_at == grouped.c.last_from)))
    out: dict[tuple[int, int], dict] = {}
    for line, day, records, total, peak, last_from, record_id, value in rows:
        known = out.get((line, day))
        if known is None or record_id > known["latest_id"]:
            out[(line, day)] = dict(line_item_id=line, day=days[day][0], records=records, total=total,
                                    peak=peak, latest_value=value, latest_from=last_from,
                                    latest_id=record_id)
    return list(out.values())


def roll_days(first: date, end: date) -> int:
    """Write the rollups of the local days [first, end) of every line; returns the rows."""
    rows = _day_rows(day_starts(first, end, merchant_tz()))
    db.session.execute(delete(UsageDayRollup).where(UsageDayRollup.day >= first, UsageDayRollup.day < end))
    if rows:
        db.session.execute(insert(UsageDayRollup), rows)
    db.session.flush()
    return len(rows)


def _runs_of_days(days: set[date]) -> list[tuple[date, date]]:
    """Consecutive days as [first, end) runs."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1][1] = day + timedelta(days=1)
        else:
            runs.append([day, day + timedelta(days=1)])
    return [(first, end) for first, end in runs]


def _recompute(runs: list[tuple[int, date, date]]) -> None:
    """Rewrite the rollups of (line, [first, end)) runs of days: ONE grouped query."""
    tz = merchant_tz()
    days = day_starts(min(run[1] for run in runs), max(run[2] for run in runs), tz)
    ranges = [and_(UsageRecord.line_item_id == line_id, UsageRecord.from_at >= local_midnight(first, tz),
                   UsageRecord.from_at < local_midnight(end, tz)) for line_id, first, end in runs]
    rows = _day_rows(days, or_(*ranges))
    db.session.execute(delete(UsageDayRollup).where(or_(*(
        and_(UsageDayRollup.line_item_id == line_id, UsageDayRollup.day >= first, UsageDayRollup.day < end)
        for line_id, first, end in runs))))
    if rows:
        db.session.execute(insert(UsageDayRollup), rows)


def apply_late_usage(state: UsageRollupState) -> int:
    """Recompute the rolled days that received usage since they were rolled; returns how
    many (line, day) were recomputed. Log rows of days not rolled yet stay."""
    if state.rolled_before is None:
        return 0
    tz = merchant_tz()
    logged = db.session.execute(
        delete(UsageRollupDirty).where(UsageRollupDirty.at < local_midnight(state.rolled_before, tz))
        .returning(UsageRollupDirty.line_item_id, UsageRollupDirty.at)
        .execution_options(synchronize_session=False)).all()
    by_line: dict[int, set[date]] = defaultdict(set)
    for line_id, at in logged:
        by_line[line_id].add(local_floor_date(at, tz))
    runs = [(line_id, first, end) for line_id, days in by_line.items() for first, end in _runs_of_days(days)]
    for index in range(0, len(runs), LATE_BATCH):
        _recompute(runs[index:index + LATE_BATCH])
    db.session.flush()
    return sum(len(days) for days in by_line.values())

"""The rollup job's transactions (see `portal.services.usage_rollups` for what each step does).

One run: start logging late usage for the days before today (its own short commit), roll
the days not rolled yet in chunks of `CHUNK_DAYS` (one commit each, so a fresh build of a
long history is resumable), then recompute the rolled days that received late usage.
The state row is locked in each transaction: two scheduler processes never roll at once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError

from portal.billing.periods import local_floor_date
from portal.extensions import db
from portal.services import merchant_tz
from portal.services.usage_rollups import (
    CHUNK_DAYS, apply_late_usage, first_usage_day, locked_state, roll_days, start_logging,
)

log = logging.getLogger("meterbill.jobs")


@dataclass(frozen=True)
class RollupRun:
    """What one run did."""

    days: int  # local days rolled
    rows: int  # rollup rows written by the rolling
    late: int  # (line, day) recomputed for late usage
    waiting: bool  # inserts in flight kept the logging from starting: the next run tries again


def roll_usage(now: datetime) -> RollupRun:
    """Bring the rollups up to the local day of `now` (exclusive) and apply late usage."""
    today = local_floor_date(now, merchant_tz())
    try:
        start_logging(locked_state(), today)
        db.session.commit()
    except OperationalError:  # lock_timeout: a long import holds usage_records
        db.session.rollback()
        log.warning("Rollup job: inserts in flight, logging of late usage starts next run")
        return RollupRun(0, 0, 0, True)
    days = rows = 0
    while True:
        state = locked_state()
        if state.log_before is None:  # the zone changed since the logging started
            db.session.commit()
            return RollupRun(days, rows, 0, True)
        first = state.rolled_before or first_usage_day() or today
        end = min(first + timedelta(days=CHUNK_DAYS), today)
        if first >= end:
            break
        rows += roll_days(first, end)
        state.rolled_before, days = end, days + (end - first).days
        db.session.commit()
    if state.rolled_before is None:  # no usage before today: everything before it is rolled
        state.rolled_before = today
    late = apply_late_usage(state)
    db.session.commit()
    return RollupRun(days, rows, late, False)

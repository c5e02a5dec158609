"""A new usage record in ONE statement: the common case of the single-record channels.

A plainly valid record (`usage_input.parse_fields`, `plain_line`) is inserted by one
`INSERT ... SELECT` that also checks its line (`portal.usage_sql.insert_checked`);
anything else — an invalid record, a line that fails a check, a key already taken —
stores nothing here and is left to `portal.services.usage.record_usage`'s full way, which
names the error or answers the retry.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from portal.db_types import utcnow
from portal.services.usage_input import UsageInput, parse_fields, plain_line
from portal.usage_sql import insert_checked, insert_checked_dbapi


class StoredUsage(NamedTuple):
    """A stored usage record's columns (read-only; not an ORM object: no identity map)."""

    id: int
    line_item_id: int
    usage_value: Decimal
    from_at: datetime
    to_at: datetime
    usage_type: str | None
    external_key: str | None
    source: str
    created_at: datetime


@dataclass(frozen=True)
class UsageResult:
    """The stored (or previously stored) record and whether this call created it."""

    record: StoredUsage
    created: bool


def persistent(new_id: int, line_id: int, usage: UsageInput, source: str,
               now: datetime) -> StoredUsage:
    """The inserted row as the caller sees it, without reading it back."""
    return StoredUsage(new_id, line_id, usage.value, usage.from_at, usage.to_at,
                       usage.usage_type, usage.external_key, source, now)


def record_new(connection, raw: dict, source: str, tz) -> UsageResult | None:
    """The record stored by ONE statement on `connection` (SQLAlchemy), or None when it is
    not a plainly valid new record on a line that passes the checks (nothing stored).

    :param connection: the session's connection (its transaction, or autocommit).
    :param raw: the record as received (a dict).
    :param source: the channel stored on the row.
    :param tz: the merchant time zone, for naive date-times.
    """
    new = plain_new(raw, tz)
    stored = insert_checked(connection, new.usage, new.line, source, new.now) if new is not None else None
    if stored is None:
        return None
    new_id, line_id = stored
    return UsageResult(persistent(new_id, line_id, new.usage, source, new.now), created=True)


class PlainNew(NamedTuple):
    """A plainly valid new record, typed (`plain_new`), ready for `record_new_dbapi`."""

    usage: UsageInput
    line: int | str
    now: datetime


def plain_new(raw: dict, tz) -> PlainNew | None:
    """`raw` typed as `record_new` types it, or None when it is not plainly valid.

    :param raw: the record as received (a dict).
    :param tz: the merchant time zone, for naive date-times.
    """
    now = utcnow()
    line = plain_line(raw)
    usage = parse_fields(raw, tz, now) if line is not None else None
    return None if usage is None else PlainNew(usage, line, now)


def record_new_dbapi(cursor, dialect, new: PlainNew, source: str) -> int | None:
    """`record_new` through a DB-API cursor in autocommit (the API's fast path): the new
    record's id, or None (nothing stored: a line check failed or the key is taken).

    :param cursor: a cursor of a DB-API connection in autocommit.
    :param dialect: the engine's dialect.
    :param new: the typed record (`plain_new`).
    :param source: the channel stored on the row.
    """
    stored = insert_checked_dbapi(cursor, dialect, new.usage, new.line, source, new.now)
    return None if stored is None else stored[0]

"""Usage ingestion: the one path by which usage enters Meterbill (API, URL, CSV, portal).

Rules (DESIGN.md §6): a record belongs to the period containing its `from`; a missing
`from` is now and a missing `to` is `from`; `external_key` makes a record idempotent —
a retry with the same key and content returns the original, the same key with other
content is a conflict. A retry that omits `from` is compared on value and type only,
since its `from` was assigned by the server.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.billing.errors import ValidationError
from portal.billing.money import parse_usage_value
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import LineItem, UsageRecord
from portal.services import merchant_tz
from portal.timeutil import parse_datetime


class UsageConflict(Exception):
    """The external_key was already used for a record with different content."""

    def __init__(self, existing: UsageRecord):
        super().__init__(f"external_key '{existing.external_key}' was already used "
                         f"for usage record {existing.id} with different content")
        self.existing = existing


@dataclass(frozen=True)
class UsageInput:
    """A validated usage record, ready to store."""

    line: LineItem
    value: Decimal
    from_at: datetime
    to_at: datetime
    usage_type: str | None
    external_key: str | None
    from_given: bool


@dataclass(frozen=True)
class UsageResult:
    """The stored (or previously stored) record and whether this call created it."""

    record: UsageRecord
    created: bool


def find_line(raw: dict) -> LineItem:
    """The line item named by `line_item_id` or `line_item_external_key`."""
    if raw.get("line_item_id") not in (None, ""):
        line_id = raw["line_item_id"]
        if isinstance(line_id, bool) or not str(line_id).strip().isdigit():
            raise ValidationError("line_item_id", "must be a positive integer")
        line = db.session.get(LineItem, int(str(line_id).strip()))
        if line is None:
            raise ValidationError("line_item_id", f"no line item {line_id}")
        return line
    key = raw.get("line_item_external_key")
    if key in (None, ""):
        raise ValidationError("line_item_id", "line_item_id or line_item_external_key is required")
    line = db.session.scalar(select(LineItem).where(LineItem.external_key == str(key)))
    if line is None:
        raise ValidationError("line_item_external_key", f"no line item with external key '{key}'")
    return line


def validate_usage(raw: dict, line: LineItem | None = None) -> UsageInput:
    """Check one raw record (API JSON, URL query or CSV row) and return it typed.

    :param raw: field -> value as received.
    :param line: the line item, when the caller already resolved it.
    """
    line = line or find_line(raw)
    if not line.item.is_metered:
        raise ValidationError("line_item_id", f"line item {line.id} is not metered")
    value = parse_usage_value(raw.get("usage_value"), "usage_value")
    tz = merchant_tz()
    from_given = raw.get("from") not in (None, "")
    from_at = parse_datetime(raw["from"], "from", tz) if from_given else utcnow()
    to_at = parse_datetime(raw["to"], "to", tz) if raw.get("to") not in (None, "") else from_at
    if to_at < from_at:
        raise ValidationError("to", "must not be before from")
    if line.cancel_at is not None and from_at >= line.cancel_at:
        raise ValidationError("line_item_id", f"line item {line.id} was cancelled")
    usage_type = raw.get("type") or None
    if usage_type is not None and usage_type != line.item.usage_type:
        raise ValidationError("type", f"must be '{line.item.usage_type}' for this item")
    key = raw.get("external_key")
    key = None if key in (None, "") else str(key)
    if key is not None and len(key) > 255:
        raise ValidationError("external_key", "must be at most 255 characters")
    return UsageInput(line, value, from_at, to_at, usage_type, key, from_given)


def same_content(existing: UsageRecord, usage: UsageInput) -> bool:
    """Whether a retry carries the content of the record stored under its key."""
    if existing.usage_value != usage.value:
        return False
    if usage.usage_type is not None and existing.usage_type != usage.usage_type:
        return False
    if usage.from_given:
        return existing.from_at == usage.from_at and existing.to_at == usage.to_at
    return True


def store_usage(usage: UsageInput, source: str = "api") -> UsageResult:
    """Insert one validated record, idempotently by (line, external_key); flushes.

    :param usage: a record from `validate_usage`.
    :param source: the channel: api, bulk, csv, url or portal.
    """
    if usage.external_key is not None:
        existing = _by_key(usage.line.id, usage.external_key)
        if existing is not None:
            return _replayed(existing, usage)
    record = UsageRecord(
        line_item_id=usage.line.id, usage_value=usage.value, from_at=usage.from_at,
        to_at=usage.to_at, usage_type=usage.usage_type, external_key=usage.external_key,
        source=source,
    )
    try:
        with db.session.begin_nested():  # a concurrent twin may win the unique key
            db.session.add(record)
    except IntegrityError:
        existing = _by_key(usage.line.id, usage.external_key)
        if existing is None:
            raise
        return _replayed(existing, usage)
    return UsageResult(record, created=True)


def record_usage(raw: dict, source: str = "api") -> UsageResult:
    """Validate and store one raw usage record (the single-record channels)."""
    return store_usage(validate_usage(raw), source)


def _by_key(line_id: int, key: str | None) -> UsageRecord | None:
    return db.session.scalar(
        select(UsageRecord).where(UsageRecord.line_item_id == line_id,
                                  UsageRecord.external_key == key)
    )


def _replayed(existing: UsageRecord, usage: UsageInput) -> UsageResult:
    if not same_content(existing, usage):
        raise UsageConflict(existing)
    return UsageResult(existing, created=False)

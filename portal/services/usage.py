"""Usage ingestion: the one path by which usage enters Meterbill (API, URL, CSV, portal).

Rules (DESIGN.md §6): a record belongs to the period containing its `from`; a missing
`from` is now and a missing `to` is `from`; `external_key` makes a record idempotent —
a retry with the same key and content returns the original, the same key with other
content is a conflict. A retry that omits `from` is compared on value and type only,
since its `from` was assigned by the server.

Two entry points share every rule: `record_usage` (one record) and `ingest_batch` (the
bulk and CSV channels: lines resolved, keys checked and rows inserted in one query each).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.billing.errors import ValidationError
from portal.billing.money import MAX_USAGE_VALUE, parse_usage_value
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import LineItem, UsageRecord
from portal.services import merchant_tz
from portal.timeutil import parse_datetime

MAX_LINE_ID = 2**31 - 1  # line_items.id is a 32-bit column: larger ids cannot exist
_WHOLE_NUMBER = re.compile(r"[0-9]{1,13}")


class UsageConflict(Exception):
    """The external_key was already used for a record with different content."""

    def __init__(self, existing):
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


@dataclass(frozen=True)
class Outcome:
    """What became of one record of a batch, as an HTTP status: 201 stored, 200 already
    stored (same id), 400 invalid, 409 key used with other content. `id` is None on a dry run."""

    code: int
    id: int | None = None
    message: str = ""
    details: dict = field(default_factory=dict)


class Stored(NamedTuple):
    """The fields of a stored record that idempotency compares."""

    id: int | None
    external_key: str | None
    usage_value: Decimal
    usage_type: str | None
    from_at: datetime
    to_at: datetime


def text_field(value, name: str, max_length: int = 255) -> str | None:
    """A key-like field (a string or an integer) as text; None when absent or empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(name, "must be a string")
    text = str(value)
    if len(text) > max_length:
        raise ValidationError(name, f"must be at most {max_length} characters")
    # PostgreSQL text cannot hold NUL, nor can UTF-8 hold a lone surrogate from JSON "\ud800".
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(name, "must be valid Unicode text") from None
    if "\x00" in text:
        raise ValidationError(name, "must not contain NUL characters")
    return text


def _line_ref(raw: dict) -> tuple[str, int | str]:
    """("id", N) or ("key", external key): how the record names its line."""
    line_id = raw.get("line_item_id")
    if line_id not in (None, ""):
        text = line_id.strip() if isinstance(line_id, str) else line_id
        if type(text) is not int and not (isinstance(text, str) and text.isascii() and text.isdigit()):
            raise ValidationError("line_item_id", "must be a positive integer")
        return "id", int(text)
    key = text_field(raw.get("line_item_external_key"), "line_item_external_key")
    if key is None:
        raise ValidationError("line_item_id", "line_item_id or line_item_external_key is required")
    return "key", key


class LineLookup:
    """The line items named by a batch of raw records, loaded in at most two queries."""

    def __init__(self, raws: list):
        ids, keys = set(), set()
        for raw in raws:
            try:
                kind, value = _line_ref(raw)
            except (ValidationError, AttributeError):
                continue  # reported by `find` (or as a non-object) when the record is checked
            (ids if kind == "id" else keys).add(value)
        ids = {i for i in ids if 0 < i <= MAX_LINE_ID}
        self.by_id = {line.id: line for line in _load_lines(LineItem.id.in_(ids))} if ids else {}
        self.by_key = ({line.external_key: line for line in _load_lines(LineItem.external_key.in_(keys))}
                       if keys else {})

    def find(self, raw: dict) -> LineItem:
        """The line of `raw`, or the same errors as the single-record channel."""
        kind, value = _line_ref(raw)
        if kind == "id":
            if value not in self.by_id:
                raise ValidationError("line_item_id", f"no line item {value}")
            return self.by_id[value]
        if value not in self.by_key:
            raise ValidationError("line_item_external_key", f"no line item with external key '{value}'")
        return self.by_key[value]


def _load_lines(condition) -> list[LineItem]:
    stmt = (select(LineItem).where(condition)
            .options(joinedload(LineItem.item), joinedload(LineItem.package)))
    return list(db.session.scalars(stmt))


def find_line(raw: dict) -> LineItem:
    """The line item named by `line_item_id` or `line_item_external_key`."""
    return LineLookup([raw]).find(raw)


def usage_value(value) -> Decimal:
    """`usage_value` as an exact Decimal (whole numbers skip the general parser: hot path)."""
    if type(value) is int and 0 <= value <= MAX_USAGE_VALUE:
        return Decimal(value)
    if type(value) is str and _WHOLE_NUMBER.fullmatch(value):
        number = Decimal(value)
        if number <= MAX_USAGE_VALUE:
            return number
    return parse_usage_value(value, "usage_value")


def instant(value, name: str, tz) -> datetime:
    """An API date-time as aware UTC; repeated texts (common in files) are parsed once."""
    if isinstance(value, str):
        return _cached_instant(value, name, tz)
    return parse_datetime(value, name, tz)


@lru_cache(maxsize=4096)
def _cached_instant(value: str, name: str, tz) -> datetime:
    try:
        return parse_datetime(value, name, tz)
    except OverflowError:  # year 1 or 9999 shifted out of range by the time zone
        raise ValidationError(name, f"'{value}' is out of range") from None


def check_usage(raw: dict, line: LineItem, tz, now: datetime) -> UsageInput:
    """Check one raw record against its already resolved line (no query).

    :param raw: field -> value as received (JSON object, URL query or CSV row).
    :param line: the record's line item, with its item and package loaded.
    :param tz: the merchant time zone, for naive date-times.
    :param now: the instant used when `from` is missing.
    """
    if not line.item.is_metered:
        raise ValidationError("line_item_id", f"line item {line.id} is not metered")
    value = usage_value(raw.get("usage_value"))
    from_given = raw.get("from") not in (None, "")
    from_at = instant(raw["from"], "from", tz) if from_given else now
    to_at = instant(raw["to"], "to", tz) if raw.get("to") not in (None, "") else from_at
    if to_at < from_at:
        raise ValidationError("to", "must not be before from")
    cancel_at = line.cancel_at or line.package.cancel_at
    if cancel_at is not None and from_at >= cancel_at:
        raise ValidationError("line_item_id", f"line item {line.id} was cancelled")
    usage_type = raw.get("type")
    usage_type = None if usage_type in (None, "") else usage_type
    if usage_type is not None and usage_type != line.item.usage_type:
        raise ValidationError("type", f"must be '{line.item.usage_type}' for this item")
    key = text_field(raw.get("external_key"), "external_key")
    return UsageInput(line, value, from_at, to_at, usage_type, key, from_given)


def validate_usage(raw: dict, line: LineItem | None = None) -> UsageInput:
    """Check one raw record (API JSON, URL query or CSV row) and return it typed.

    :param raw: field -> value as received.
    :param line: the line item, when the caller already resolved it.
    """
    if not isinstance(raw, dict):
        raise ValidationError("usage", "a usage record must be a JSON object")
    line = line or find_line(raw)
    return check_usage(raw, line, merchant_tz(), utcnow())


def same_content(existing, usage: UsageInput) -> bool:
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


def ingest_batch(raws: list, source: str = "bulk", dry_run: bool = False) -> list[Outcome]:
    """Validate and store many raw records with the single channel's rules; flushes.

    One query resolves the lines, one finds the keys already stored, one executemany
    inserts the new rows. A key repeated within the batch is stored once: later copies
    with the same content answer 200 with its id, others 409.
    :param raws: the records, each as `validate_usage` takes it.
    :param source: the channel: bulk, csv, ...
    :param dry_run: validate and sort out duplicates, store nothing (new ids are None).
    :returns: one outcome per record, in order.
    """
    outcomes: list = [None] * len(raws)
    valid = _validate_all(raws, outcomes)
    known = _stored_by_key(valid)
    new, repeats, claimed = [], [], set()
    for index, usage in valid:
        key = (usage.line.id, usage.external_key)
        if usage.external_key is not None and (key in known or key in claimed):
            repeats.append((index, usage))
        else:
            claimed.add(key)
            new.append((index, usage))
    _store_new(new, source, dry_run, outcomes, known)
    for index, usage in repeats:  # after the inserts, so in-batch twins see their first copy
        outcomes[index] = _replay(known.get((usage.line.id, usage.external_key)), usage)
    return outcomes


def _validate_all(raws: list, outcomes: list) -> list[tuple[int, UsageInput]]:
    lines, tz, now = LineLookup(raws), merchant_tz(), utcnow()
    valid = []
    for index, raw in enumerate(raws):
        try:
            if not isinstance(raw, dict):
                raise ValidationError("usage", "a usage record must be a JSON object")
            valid.append((index, check_usage(raw, lines.find(raw), tz, now)))
        except ValidationError as error:
            outcomes[index] = Outcome(400, message=str(error), details={"field": error.field})
    return valid


def _stored_by_key(valid: list) -> dict:
    """(line id, external_key) -> the stored record, for the keys of the batch."""
    keyed = [usage for _, usage in valid if usage.external_key is not None]
    if not keyed:
        return {}
    columns = [getattr(UsageRecord, name) for name in Stored._fields]
    stmt = select(UsageRecord.line_item_id, *columns).where(
        UsageRecord.line_item_id.in_({u.line.id for u in keyed}),
        UsageRecord.external_key.in_({u.external_key for u in keyed}))
    return {(row[0], row.external_key): Stored(*row[1:]) for row in db.session.execute(stmt)}


def _store_new(new: list, source: str, dry_run: bool, outcomes: list, known: dict) -> None:
    ids = [None] * len(new) if dry_run else _insert_rows([u for _, u in new], source)
    if ids is None:
        return _store_one_by_one(new, source, outcomes, known)
    for (index, usage), new_id in zip(new, ids):
        outcomes[index] = Outcome(201, new_id)
        if usage.external_key is not None:
            known[(usage.line.id, usage.external_key)] = Stored(
                new_id, usage.external_key, usage.value, usage.usage_type, usage.from_at, usage.to_at)
    return None


def _insert_rows(usages: list[UsageInput], source: str) -> list[int] | None:
    """The new ids, in order; None when a concurrent request stored one of the keys first."""
    if not usages:
        return []
    now = utcnow()
    rows = [{"line_item_id": u.line.id, "usage_value": u.value, "from_at": u.from_at,
             "to_at": u.to_at, "usage_type": u.usage_type, "external_key": u.external_key,
             "source": source, "created_at": now} for u in usages]
    stmt = insert(UsageRecord).returning(UsageRecord.id, sort_by_parameter_order=True)
    try:
        with db.session.begin_nested():
            return list(db.session.scalars(stmt, rows))
    except IntegrityError:
        return None


def _store_one_by_one(new: list, source: str, outcomes: list, known: dict) -> None:
    """The slow, safe path after a unique violation: each record in its own savepoint."""
    for index, usage in new:
        try:
            result = store_usage(usage, source)
        except UsageConflict as conflict:
            outcomes[index] = _replay(conflict.existing, usage)
            continue
        except IntegrityError:  # e.g. the line was deleted meanwhile
            outcomes[index] = Outcome(409, message="The record conflicts with existing data.")
            continue
        outcomes[index] = Outcome(201 if result.created else 200, result.record.id)
        if usage.external_key is not None:
            known[(usage.line.id, usage.external_key)] = result.record


def _replay(stored, usage: UsageInput) -> Outcome:
    if stored is None:  # its first copy failed in the database
        return Outcome(409, message=f"external_key '{usage.external_key}' could not be stored",
                       details={"field": "external_key"})
    if same_content(stored, usage):
        return Outcome(200, stored.id)
    return Outcome(409, message=str(UsageConflict(stored)),
                   details={"field": "external_key", "id": stored.id})

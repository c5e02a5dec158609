"""Usage ingestion: the one path by which usage enters Meterbill (API, URL, CSV, portal).

Rules (docs/billing-rules.md §6): a record belongs to the period containing its `from` (one before its
line's start is refused, naming `from`: no period would ever bill it); a missing
`from` is now and a missing `to` is `from`; `external_key` makes a record idempotent —
a retry with the same key and content returns the original, the same key with other
content is a conflict. A retry that omits `from` is compared on value and type only,
since its `from` was assigned by the server.

Two entry points share every rule: `record_usage` (one record) and `ingest_batch` (the
bulk and CSV channels: a query resolves all the lines, one statement inserts all the
rows). Both insert with `ON CONFLICT DO NOTHING` on the (line, external_key) unique
constraint, so the database settles races between concurrent retries.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Integer, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from portal.billing.errors import ValidationError
from portal.billing.money import MAX_USAGE_VALUE, MICRO, parse_usage_value
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Item, LineItem, Package, UsageRecord
from portal.services import merchant_tz
from portal.timeutil import format_datetime, parse_datetime

MAX_LINE_ID = 2**31 - 1  # line_items.id is a 32-bit column: larger ids cannot exist
_PLAIN_VALUE = re.compile(r"[0-9]{1,13}(?:\.[0-9]{1,6})?")


class UsageConflict(Exception):
    """The external_key was already used for a record with different content."""

    def __init__(self, existing):
        super().__init__(f"external_key '{existing.external_key}' was already used "
                         f"for usage record {existing.id} with different content")
        self.existing = existing


class UsageInput(NamedTuple):
    """A validated usage record, ready to store (a tuple: batches make thousands)."""

    line: LineRef
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


class Outcome(NamedTuple):
    """What became of one record of a batch, as an HTTP status: 201 stored, 200 already
    stored (same id), 400 invalid, 409 key used with other content. `id` is None on a dry
    run; `details` names the field of an error."""

    code: int
    id: int | None = None
    message: str = ""
    details: dict | None = None


class Stored(NamedTuple):
    """The fields of a stored record that idempotency compares."""

    id: int | None
    external_key: str | None
    usage_value: Decimal
    usage_type: str | None
    from_at: datetime
    to_at: datetime


class LineRef(NamedTuple):
    """What validation needs of a line item: read by a light query, no ORM objects."""

    id: int
    external_key: str | None
    is_metered: bool
    usage_type: str
    cancel_at: datetime | None  # the earlier of the line's and its package's
    subscribe_at: datetime  # usage before it belongs to no billable period: refused

    @classmethod
    def of(cls, line: LineItem) -> LineRef:
        """The reference of an already loaded line item."""
        return cls(line.id, line.external_key, line.item.is_metered, line.item.usage_type,
                   _earliest(line.cancel_at, line.package.cancel_at), line.subscribe_at)


def _earliest(*instants):
    return min((i for i in instants if i is not None), default=None)


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
        digits = isinstance(text, str) and text.isascii() and text.isdigit()
        if type(text) is not int and not digits:
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
        by_id = _load_lines(LineItem.id.in_(ids)) if ids else []
        by_key = _load_lines(LineItem.external_key.in_(keys)) if keys else []
        self.by_id = {line.id: line for line in by_id}
        self.by_key = {line.external_key: line for line in by_key}

    def find(self, raw: dict) -> LineRef:
        """The line of `raw`, or the same errors as the single-record channel."""
        kind, value = _line_ref(raw)
        if kind == "id":
            if value not in self.by_id:
                raise ValidationError("line_item_id", f"no line item {value}")
            return self.by_id[value]
        if value not in self.by_key:
            raise ValidationError("line_item_external_key",
                                  f"no line item with external key '{value}'")
        return self.by_key[value]


def _load_lines(condition) -> list[LineRef]:
    stmt = (select(LineItem.id, LineItem.external_key, Item.is_metered, Item.usage_type,
                   LineItem.cancel_at, Package.cancel_at, LineItem.subscribe_at)
            .join(Item, Item.id == LineItem.item_id)
            .join(Package, Package.id == LineItem.package_id).where(condition))
    return [LineRef(*row[:4], _earliest(*row[4:6]), row[6]) for row in db.session.execute(stmt)]


def find_line(raw: dict) -> LineRef:
    """The line item named by `line_item_id` or `line_item_external_key`."""
    return LineLookup([raw]).find(raw)


def usage_value(value) -> Decimal:
    """`usage_value` as an exact Decimal; plain texts like "12.5" skip the general parser
    (the hot path of files), which decides everything else the same way."""
    if type(value) is int and 0 <= value <= MAX_USAGE_VALUE:
        return Decimal(value)
    if type(value) is str and _PLAIN_VALUE.fullmatch(value):
        number = Decimal(value)
        if number <= MAX_USAGE_VALUE:
            return number
    return parse_usage_value(value, "usage_value")


def instant(value, name: str, tz) -> datetime:
    """An API date-time as aware UTC; repeated texts (common in files) are parsed once."""
    if not isinstance(value, str):
        return parse_datetime(value, name, tz)
    try:
        return _cached_instant(value, tz)
    except ValidationError as error:
        raise ValidationError(name, error.message) from None


@lru_cache(maxsize=4096)
def _cached_instant(value: str, tz) -> datetime:
    try:
        return parse_datetime(value, "datetime", tz)
    except OverflowError:  # year 1 or 9999 shifted out of range by the time zone
        raise ValidationError("datetime", f"'{value}' is out of range") from None


def check_usage(raw: dict, line: LineRef, tz, now: datetime) -> UsageInput:
    """Check one raw record against its already resolved line (no query).

    :param raw: field -> value as received (JSON object, URL query or CSV row).
    :param line: the record's line item.
    :param tz: the merchant time zone, for naive date-times.
    :param now: the instant used when `from` is missing.
    """
    if not line.is_metered:
        raise ValidationError("line_item_id", f"line item {line.id} is not metered")
    value = usage_value(raw.get("usage_value"))
    from_given = raw.get("from") not in (None, "")
    from_at = instant(raw["from"], "from", tz) if from_given else now
    to_at = instant(raw["to"], "to", tz) if raw.get("to") not in (None, "") else from_at
    if to_at < from_at:
        raise ValidationError("to", "must not be before from")
    if line.cancel_at is not None and from_at >= line.cancel_at:
        raise ValidationError("line_item_id", f"line item {line.id} was cancelled")
    if from_at < line.subscribe_at:
        # Before its line started, usage belongs to no billable period: it would never be billed.
        raise ValidationError("from", f"must not be before the start of line item {line.id} "
                                      f"({format_datetime(line.subscribe_at, tz)})")
    usage_type = raw.get("type")
    usage_type = None if usage_type in (None, "") else usage_type
    if usage_type is not None and usage_type != line.usage_type:
        raise ValidationError("type", f"must be '{line.usage_type}' for this item")
    key = text_field(raw.get("external_key"), "external_key")
    return UsageInput(line, value, from_at, to_at, usage_type, key, from_given)


def validate_usage(raw: dict, line: LineItem | LineRef | None = None) -> UsageInput:
    """Check one raw record (API JSON, URL query or CSV row) and return it typed.

    :param raw: field -> value as received.
    :param line: the line item, when the caller already resolved it.
    """
    if not isinstance(raw, dict):
        raise ValidationError("usage", "a usage record must be a JSON object")
    line = LineRef.of(line) if isinstance(line, LineItem) else (line or find_line(raw))
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

    One `INSERT ... ON CONFLICT DO NOTHING` (no savepoint, no prior lookup): a retry or a
    concurrent twin finds the key taken and is answered from the stored record.
    :param usage: a record from `validate_usage`.
    :param source: the channel: api, bulk, csv, url or portal.
    :raises UsageConflict: the key is stored with other content.
    """
    now = utcnow()
    (new_id,) = insert_usages([usage], source, now)
    if new_id is not None:
        return UsageResult(_persistent(new_id, usage, source, now), created=True)
    return _replayed(_by_key(usage.line.id, usage.external_key), usage)


def record_usage(raw: dict, source: str = "api") -> UsageResult:
    """Validate and store one raw usage record (the single-record channels)."""
    return store_usage(validate_usage(raw), source)


def _persistent(new_id: int, usage: UsageInput, source: str, now: datetime) -> UsageRecord:
    """The inserted row as a persistent ORM object, without reading it back."""
    record = UsageRecord(id=new_id, line_item_id=usage.line.id, usage_value=usage.value,
                         from_at=usage.from_at, to_at=usage.to_at, usage_type=usage.usage_type,
                         external_key=usage.external_key, source=source, created_at=now)
    make_transient_to_detached(record)
    db.session.add(record)
    return record


def _by_key(line_id: int, key: str | None) -> UsageRecord | None:
    return db.session.scalar(
        select(UsageRecord).where(UsageRecord.line_item_id == line_id,
                                  UsageRecord.external_key == key)
    )


def _replayed(existing: UsageRecord, usage: UsageInput) -> UsageResult:
    if not same_content(existing, usage):
        raise UsageConflict(existing)
    return UsageResult(existing, created=False)


def insert_usages(usages: list[UsageInput], source: str, now: datetime) -> list[int | None]:
    """Insert records in one statement; the new id of each, None where its key was taken.

    PostgreSQL gets the rows as one JSON parameter unpacked by the server (a fixed, short
    statement; the C json encoder beats binding thousands of values); SQLite one multi-row
    VALUES. `ON CONFLICT DO NOTHING` skips keys already stored (waiting, on PostgreSQL,
    for a concurrent twin to commit). Rows are numbered in parameter order on both (the
    SELECT is ORDER BY its ordinality; SQLite gives max(rowid) + 1 under its write lock),
    so the ascending ids returned map back to the rows, as in SQLAlchemy's insertmanyvalues.
    :param usages: validated records (no two with the same line and key).
    :param source: the channel, stored on every row.
    :param now: their `created_at`.
    """
    if not usages:
        return []
    connection = db.session.connection()
    stored = _datetime_converter(connection.dialect)
    # Micro-units as MicroUnits stores them; exact: a valid value has at most 19 digits.
    rows = [(u.line.id, int(u.value * MICRO), stored(u.from_at), stored(u.to_at),
             u.usage_type, u.external_key) for u in usages]
    many = _insert_json if connection.dialect.name == "postgresql" else _insert_values
    returned = many(connection, rows, (source, stored(now)))
    taken = {(line, key) for _, line, key in returned if key is not None}
    ids = iter(sorted(new_id for new_id, _, _ in returned))
    return [next(ids) if u.external_key is None or (u.line.id, u.external_key) in taken else None
            for u in usages]


@lru_cache(maxsize=4)
def _datetime_converter(dialect):
    """UTCDateTime's own bind processing (naive UTC; SQLite: its text form)."""
    column = UsageRecord.__table__.c.from_at
    return column.type.dialect_impl(dialect).bind_processor(dialect)


_INSERT = ("INSERT INTO usage_records (line_item_id, usage_value, from_at, to_at, usage_type, "
           "external_key, source, created_at) ")
_ON_CONFLICT = (" ON CONFLICT (line_item_id, external_key) DO NOTHING "
                "RETURNING id, line_item_id, external_key")


def _insert_json(connection, rows: list, constants: tuple) -> list:
    data = [[line, value, start.isoformat(), end.isoformat(), kind, key]
            for line, value, start, end, kind, key in rows]
    sql = (_INSERT + "SELECT (r->>0)::integer, (r->>1)::bigint, (r->>2)::timestamp, "
           "(r->>3)::timestamp, r->>4, r->>5, %(source)s, %(now)s "
           "FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS u(r, n) ORDER BY n"
           + _ON_CONFLICT)
    params = {"rows": json.dumps(data), "source": constants[0], "now": constants[1]}
    return connection.exec_driver_sql(sql, params).all()


def _insert_values(connection, rows: list, constants: tuple) -> list:
    # At most 8 x 1000 parameters: SQLite allows 32766.
    sql = (_INSERT + "VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows))
           + _ON_CONFLICT)
    params = tuple(value for row in rows for value in (*row, *constants))
    return connection.exec_driver_sql(sql, params).all()


def ingest_batch(raws: list, source: str = "bulk", dry_run: bool = False) -> list[Outcome]:
    """Validate and store many raw records with the single channel's rules; flushes.

    One query resolves all the lines, one statement inserts the new rows, one query reads
    back the records of keys already taken. A key repeated within the batch is stored
    once: later copies with the same content answer 200 with its id, others 409.
    :param raws: the records, each as `validate_usage` takes it.
    :param source: the channel: bulk, csv, ...
    :param dry_run: validate and sort out duplicates, store nothing (ids are None).
    :returns: one outcome per record, in order.
    """
    outcomes: list = [None] * len(raws)
    firsts, repeats, seen = [], [], set()
    for index, usage in _validate_all(raws, outcomes):
        keyed = usage.external_key is not None
        (repeats if keyed and _key(usage) in seen else firsts).append((index, usage))
        seen.add(_key(usage))
    known = _stored_by_key([u for _, u in firsts]) if dry_run else {}
    ids = ([None if _key(u) in known else 0 for _, u in firsts] if dry_run
           else _insert_or_one_by_one(firsts, source, outcomes))
    for (index, usage), new_id in zip(firsts, ids, strict=True):
        if outcomes[index] is not None:
            continue  # refused by the database
        if new_id is None:
            repeats.append((index, usage))  # key stored before: answered as a retry
            continue
        new_id = None if dry_run else new_id
        outcomes[index] = Outcome(201, new_id)
        known[_key(usage)] = Stored(new_id, usage.external_key, usage.value,
                                    usage.usage_type, usage.from_at, usage.to_at)
    known.update(_stored_by_key([u for _, u in repeats if _key(u) not in known]))
    for index, usage in repeats:
        outcomes[index] = _replay(known.get(_key(usage)), usage)
    return outcomes


def _validate_all(raws: list, outcomes: list) -> list[tuple[int, UsageInput]]:
    """(index, record) of the valid records; a 400 outcome for each other one."""
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


def _key(usage: UsageInput) -> tuple:
    return (usage.line.id, usage.external_key)


def _insert_or_one_by_one(firsts: list, source: str, outcomes: list) -> list[int | None]:
    """Ids from one insert in a savepoint; after an integrity error other than a taken
    key (a line deleted meanwhile), each record in its own savepoint: only the culprit fails."""
    try:
        with db.session.begin_nested():
            return insert_usages([u for _, u in firsts], source, utcnow())
    except IntegrityError:
        pass
    ids = []
    for index, usage in firsts:
        try:
            with db.session.begin_nested():
                ids.extend(insert_usages([usage], source, utcnow()))
        except IntegrityError:
            outcomes[index] = Outcome(409, message="The record conflicts with existing data.")
            ids.append(None)
    return ids


def _stored_by_key(usages: list[UsageInput]) -> dict:
    """(line id, external_key) -> the stored record, for these records' keys."""
    keyed = [usage for usage in usages if usage.external_key is not None]
    if not keyed:
        return {}
    columns = [getattr(UsageRecord, name) for name in Stored._fields]
    stmt = select(UsageRecord.line_item_id, *columns).where(
        _among(UsageRecord.line_item_id, {u.line.id for u in keyed}, Integer),
        _among(UsageRecord.external_key, {u.external_key for u in keyed}, String))
    return {(row[0], row.external_key): Stored(*row[1:]) for row in db.session.execute(stmt)}


def _among(column, values: set, kind):
    """`column IN values`; on PostgreSQL `= ANY(array)`: one parameter, not a thousand,
    keeps the statement short and its plan on the unique (line, key) index."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(kind)))
    return column.in_(values)


def _replay(stored, usage: UsageInput) -> Outcome:
    if stored is None:  # its first copy failed in the database
        return Outcome(409, message=f"external_key '{usage.external_key}' could not be stored",
                       details={"field": "external_key"})
    if same_content(stored, usage):
        return Outcome(200, stored.id)
    return Outcome(409, message=str(UsageConflict(stored)),
                   details={"field": "external_key", "id": stored.id})

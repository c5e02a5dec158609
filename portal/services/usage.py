"""Usage ingestion: the one path by which usage enters Meterbill (API, URL, CSV, portal).

`external_key` makes a record idempotent — a retry with the same key and content is
answered with the original (REPLAYED), the same key with other content is a `Conflict`.
A retry that omits `from` is compared on value and type only, since its `from` was
assigned by the server. Checking a raw record is `usage_input`'s job; the per-database
insert is `portal.usage_sql`'s.

Two entry points share every rule: `record_usage` (one record; its common case is
`usage_new.record_new`, one statement) and `ingest_batch` (the
bulk and CSV channels: a query resolves all the lines, one statement inserts all the
rows). Both insert with `ON CONFLICT DO NOTHING` on the (line, external_key) unique
constraint, so the database settles races between concurrent retries. Results are domain
words (created, replayed, invalid, conflict); each face maps them to its own answer.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import Integer, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from portal.billing.errors import Conflict, DomainError, ValidationError
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import UsageRecord
from portal.services import merchant_tz
from portal.services.usage_input import (  # noqa: F401  (the usage API of services)
    LineLookup, LineRef, UsageInput, check_line, check_usage, find_line, instant, parse_fields, plain_line,
    text_field, validate_usage)
from portal.services.usage_new import StoredUsage, UsageResult, persistent, record_new
from portal.usage_sql import insert_usages as _insert_rows


class Result(StrEnum):
    """What became of one record."""

    CREATED = "created"  # stored now
    REPLAYED = "replayed"  # already stored under its key with the same content: same id
    INVALID = "invalid"  # refused (`error` is a ValidationError naming the field)
    CONFLICT = "conflict"  # its key holds other content, or the database refused it


class Outcome(NamedTuple):
    """What became of one record of a batch; `id` is None on a dry run or a refusal;
    `error` (INVALID, CONFLICT) names the field."""

    result: Result
    id: int | None = None
    error: DomainError | None = None


class Stored(NamedTuple):
    """The fields of a stored record that idempotency compares."""

    id: int | None
    external_key: str | None
    usage_value: Decimal
    usage_type: str | None
    from_at: datetime
    to_at: datetime


def key_conflict(existing) -> Conflict:
    """The key of `existing` was sent again with other content."""
    return Conflict("external_key", f"external_key '{existing.external_key}' was already used "
                    f"for usage record {existing.id} with different content", existing.id)


def same_content(existing, usage: UsageInput) -> bool:
    """Whether a retry carries the content of the record stored under its key."""
    if existing.usage_value != usage.value:
        return False
    if usage.usage_type is not None and existing.usage_type != usage.usage_type:
        return False
    if usage.from_given:
        return existing.from_at == usage.from_at and existing.to_at == usage.to_at
    return True


def insert_usages(usages: list[UsageInput], source: str, now: datetime) -> list[int | None]:
    """Insert records in the session's transaction; the new id of each, None where its key
    was taken (see `portal.usage_sql`)."""
    return _insert_rows(db.session.connection(), usages, source, now)


def store_usage(usage: UsageInput, source: str = "api") -> UsageResult:
    """Insert one validated record, idempotently by (line, external_key); flushes.

    One `INSERT ... ON CONFLICT DO NOTHING` (no savepoint, no prior lookup): a retry or a
    concurrent twin finds the key taken and is answered from the stored record.
    :param usage: a record from `validate_usage`.
    :param source: the channel: api, bulk, csv, url or portal.
    :raises Conflict: the key is stored with other content.
    """
    now = utcnow()
    (new_id,) = insert_usages([usage], source, now)
    if new_id is not None:
        return UsageResult(persistent(new_id, usage.line.id, usage, source, now), created=True)
    return _replayed(_by_key(usage.line.id, usage.external_key), usage)


def record_usage(raw: dict, source: str = "api") -> UsageResult:
    """Validate and store one raw usage record (the single-record channels); flushes.

    The common case — a valid new record — takes ONE statement that checks the line and
    inserts; anything else (an invalid record, a retried key) goes the full way, which
    names the error or answers the retry.
    """
    checked = _record_checked(raw, source) if isinstance(raw, dict) else None
    return checked or store_usage(validate_usage(raw), source)


def _record_checked(raw: dict, source: str) -> UsageResult | None:
    db.session.flush()  # the check reads the lines as this session changed them
    return record_new(db.session.connection(), raw, source, merchant_tz())


def _by_key(line_id: int, key: str | None) -> UsageRecord | None:
    return db.session.scalar(
        select(UsageRecord).where(UsageRecord.line_item_id == line_id,
                                  UsageRecord.external_key == key)
    )


def _replayed(existing: UsageRecord, usage: UsageInput) -> UsageResult:
    if not same_content(existing, usage):
        raise key_conflict(existing)
    return UsageResult(StoredUsage(*(getattr(existing, name) for name in StoredUsage._fields)),
                       created=False)


def ingest_batch(raws: list, source: str = "bulk", dry_run: bool = False,
                 parsed: list | None = None) -> list[Outcome]:
    """Validate and store many raw records with the single channel's rules; flushes.

    One query resolves all the lines, one statement inserts the new rows, one query reads
    back the records of keys already taken. A key repeated within the batch is stored
    once: later copies with the same content are REPLAYED with its id, others CONFLICT.
    :param raws: the records, each as `validate_usage` takes it.
    :param source: the channel: bulk, csv, ...
    :param dry_run: validate and sort out duplicates, store nothing (ids are None).
    :param parsed: per record, `parse_fields` of it done ahead (e.g. by a reading thread),
        or None where it was not plainly valid (then checked in full).
    :returns: one outcome per record, in order.
    """
    outcomes: list = [None] * len(raws)
    firsts, repeats, seen = [], [], set()
    for index, usage in _validate_all(raws, outcomes, parsed or [None] * len(raws)):
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
        outcomes[index] = Outcome(Result.CREATED, new_id)
        known[_key(usage)] = Stored(new_id, usage.external_key, usage.value,
                                    usage.usage_type, usage.from_at, usage.to_at)
    known.update(_stored_by_key([u for _, u in repeats if _key(u) not in known]))
    for index, usage in repeats:
        outcomes[index] = _replay(known.get(_key(usage)), usage)
    return outcomes


def _validate_all(raws: list, outcomes: list, parsed: list) -> list[tuple[int, UsageInput]]:
    """(index, record) of the valid records; an INVALID outcome for each other one."""
    lines, tz, now = LineLookup(raws), merchant_tz(), utcnow()
    valid = []
    for index, (raw, fields) in enumerate(zip(raws, parsed, strict=True)):
        try:
            if not isinstance(raw, dict):
                raise ValidationError("usage", "a usage record must be a JSON object")
            line = lines.find(raw)
            valid.append((index, check_usage(raw, line, tz, now) if fields is None
                          else check_line(fields, line, tz)))
        except ValidationError as error:
            outcomes[index] = Outcome(Result.INVALID, error=error)
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
            outcomes[index] = Outcome(Result.CONFLICT, error=Conflict(
                None, "The record conflicts with existing data."))
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
        return Outcome(Result.CONFLICT, error=Conflict(
            "external_key", f"external_key '{usage.external_key}' could not be stored"))
    if same_content(stored, usage):
        return Outcome(Result.REPLAYED, stored.id)
    return Outcome(Result.CONFLICT, error=key_conflict(stored))

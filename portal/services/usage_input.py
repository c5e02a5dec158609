"""Usage records as received (API JSON, URL query, CSV row) checked and typed.

Rules (docs/billing-rules.md §6): a record belongs to the period containing its `from` (one
before its line's start is refused, naming `from`: no period would ever bill it); a missing
`from` is now and a missing `to` is `from`. Nothing here writes: `portal.services.usage`
stores what `check_usage` / `validate_usage` return.
"""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import NamedTuple

from sqlalchemy import bindparam, select

from portal.billing.errors import ValidationError
from portal.billing.money import MAX_USAGE_VALUE, parse_usage_value
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Item, LineItem, Package
from portal.models.catalog import USAGE_TYPES
from portal.services import merchant_tz
from portal.timeutil import format_datetime, parse_datetime

MAX_LINE_ID = 2**31 - 1  # line_items.id is a 32-bit column: larger ids cannot exist
_PLAIN_VALUE = re.compile(r"[0-9]{1,13}(?:\.[0-9]{1,6})?")


class UsageInput(NamedTuple):
    """A validated usage record, ready to store (a tuple: batches make thousands)."""

    line: LineRef | None  # None: parsed by `parse_fields`, its line not checked yet
    value: Decimal
    from_at: datetime
    to_at: datetime
    usage_type: str | None
    external_key: str | None
    from_given: bool


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
        # At most 18 digits: int() of a very long string raises (Python's digit limit).
        digits = isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 18
        if type(text) is not int and not digits:
            raise ValidationError("line_item_id", "must be a positive integer (at most 18 digits)")
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
        by_id = _load_lines(_lines_query("id"), ids) if ids else []
        by_key = _load_lines(_lines_query("external_key"), keys) if keys else []
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


@cache
def _lines_query(column: str):
    """The lines whose `column` is in the list `refs`; built once (a batch's lookup then
    costs its execution only, not building and hashing a new statement)."""
    return (select(LineItem.id, LineItem.external_key, Item.is_metered, Item.usage_type,
                   LineItem.cancel_at, Package.cancel_at, LineItem.subscribe_at)
            .join(Item, Item.id == LineItem.item_id)
            .join(Package, Package.id == LineItem.package_id)
            .where(getattr(LineItem, column).in_(bindparam("refs", expanding=True))))


def _load_lines(stmt, refs: set) -> list[LineRef]:
    rows = db.session.execute(stmt, {"refs": list(refs)})
    return [LineRef(*row[:4], _earliest(*row[4:6]), row[6]) for row in rows]


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
    _check_metered(line)
    value = usage_value(raw.get("usage_value"))
    from_given = raw.get("from") not in (None, "")
    from_at = instant(raw["from"], "from", tz) if from_given else now
    to_at = instant(raw["to"], "to", tz) if raw.get("to") not in (None, "") else from_at
    if to_at < from_at:
        raise ValidationError("to", "must not be before from")
    usage_type = raw.get("type")
    usage_type = None if usage_type in (None, "") else usage_type
    _check_period_and_type(line, from_at, usage_type, tz)
    key = text_field(raw.get("external_key"), "external_key")
    return UsageInput(line, value, from_at, to_at, usage_type, key, from_given)


def check_line(usage: UsageInput, line: LineRef, tz) -> UsageInput:
    """`check_usage` for a record whose own fields `parse_fields` already typed (they are
    valid, so only the line's rules remain, checked in the same order)."""
    _check_metered(line)
    _check_period_and_type(line, usage.from_at, usage.usage_type, tz)
    return usage._replace(line=line)


def _check_metered(line: LineRef) -> None:
    if not line.is_metered:
        raise ValidationError("line_item_id", f"line item {line.id} is not metered")


def _check_period_and_type(line: LineRef, from_at: datetime, usage_type, tz) -> None:
    if line.cancel_at is not None and from_at >= line.cancel_at:
        raise ValidationError("line_item_id", f"line item {line.id} was cancelled")
    if from_at < line.subscribe_at:
        # Before its line started, usage belongs to no billable period: it would never be billed.
        raise ValidationError("from", f"must not be before the start of line item {line.id} "
                                      f"({format_datetime(line.subscribe_at, tz)})")
    if usage_type is not None and usage_type != line.usage_type:
        raise ValidationError("type", f"must be '{line.usage_type}' for this item")


def parse_fields(raw: dict, tz, now: datetime) -> UsageInput | None:
    """The record's own fields typed, its line not looked at (`line` is None); None when
    any is not plainly valid (the caller then takes `validate_usage`, which names the
    error in the order the rules check them)."""
    try:
        value = usage_value(raw.get("usage_value"))
        from_given = raw.get("from") not in (None, "")
        from_at = instant(raw["from"], "from", tz) if from_given else now
        to_at = instant(raw["to"], "to", tz) if raw.get("to") not in (None, "") else from_at
        key = text_field(raw.get("external_key"), "external_key")
    except ValidationError:
        return None
    usage_type = raw.get("type")
    usage_type = None if usage_type in (None, "") else usage_type
    if to_at < from_at or (usage_type is not None and usage_type not in USAGE_TYPES):
        return None
    return UsageInput(None, value, from_at, to_at, usage_type, key, from_given)


def plain_line(raw: dict) -> int | str | None:
    """The id or external key naming the record's line, None when it is not plainly valid."""
    try:
        kind, line = _line_ref(raw)
    except ValidationError:
        return None
    return None if kind == "id" and not 0 < line <= MAX_LINE_ID else line


def validate_usage(raw: dict, line: LineItem | LineRef | None = None) -> UsageInput:
    """Check one raw record (API JSON, URL query or CSV row) and return it typed.

    :param raw: field -> value as received.
    :param line: the line item, when the caller already resolved it.
    """
    if not isinstance(raw, dict):
        raise ValidationError("usage", "a usage record must be a JSON object")
    line = LineRef.of(line) if isinstance(line, LineItem) else (line or find_line(raw))
    return check_usage(raw, line, merchant_tz(), utcnow())

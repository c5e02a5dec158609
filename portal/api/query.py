"""ChargeOver list queries: `where=field:OP:value,...`, `order=field:ASC`, `offset`, `limit`."""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

from flask import request
from sqlalchemy import BigInteger, Integer, Select, String, cast, func

from portal.api.envelope import ApiError
from portal.billing.errors import ValidationError
from portal.extensions import db
from portal.services import merchant_tz
from portal.timeutil import parse_datetime

DEFAULT_LIMIT = 10
MAX_LIMIT = 500
MAX_ID = 2**63 - 1  # the largest BIGINT; integers beyond it cannot match any row
MAX_INT32 = 2**31 - 1  # the largest INTEGER: PostgreSQL refuses a wider parameter for it
_INTEGER = re.compile(r"-?[0-9]+")  # ASCII digits: str.isdigit() also admits "²", which int() refuses


def integer_limit(column) -> int:
    """The largest value an integer column holds on every database (BIGINT or INTEGER)."""
    return MAX_ID if isinstance(getattr(column, "type", None), BigInteger) else MAX_INT32


def get_by_id(model, object_id: int):
    """The row of `model` with this id; None also for ids its column cannot hold (asking
    PostgreSQL for an INTEGER beyond 32 bits is an error, not an empty result)."""
    if not 0 < object_id <= integer_limit(model.id):
        return None
    return db.session.get(model, object_id)


@dataclass(frozen=True)
class Field:
    """A queryable field: its column and how to read a `where` value for it."""

    column: Any
    parse: Callable[[str, str], Any]


def as_text(value: str, field: str) -> str:
    return value


def as_int(value: str, field: str) -> int:
    if not _INTEGER.fullmatch(value.strip()):
        raise ValidationError(field, f"'{value}' is not an integer")
    number = int(value)
    if abs(number) > MAX_ID:
        raise ValidationError(field, f"{value} is out of range")
    return number


def as_datetime(value: str, field: str):
    try:
        return parse_datetime(value, field, merchant_tz())
    except OverflowError:  # year 1 or 9999 shifted out of range by a time zone
        raise ValidationError(field, f"'{value}' is out of range") from None


def as_bool(value: str, field: str) -> bool:
    if value.lower() in {"1", "true"}:
        return True
    if value.lower() in {"0", "false"}:
        return False
    raise ValidationError(field, f"'{value}' is not true/false (1/0)")


def _contains(column, value):
    return func.lower(column).contains(str(value).lower(), autoescape=True)


OPERATORS: dict[str, Callable] = {
    "EQUALS": operator.eq, "NOTEQUALS": operator.ne, "GT": operator.gt, "LT": operator.lt,
    "GTE": operator.ge, "LTE": operator.le, "CONTAINS": _contains,
}


def split_conditions(where: str) -> list[str]:
    """Split on commas, except those escaped as `\\,` (which become plain commas)."""
    parts, current, chars = [], [], iter(where)
    for char in chars:
        if char == "\\":
            current.append(next(chars, "\\"))
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p]


def condition(text: str, fields: dict[str, Field]):
    """One `field:OP:value` (or `field:IS:NULL`, `field:ISNOT:NULL`) as a SQL clause."""
    pieces = text.split(":", 2)
    if len(pieces) != 3:
        raise ApiError(400, f"where: '{text}' is not field:OPERATOR:value", {"field": "where"})
    name, op, value = pieces
    if "\x00" in value:  # PostgreSQL text cannot hold NUL: refuse it instead of failing
        raise ApiError(400, "where: values must not contain NUL characters", {"field": "where"})
    if name not in fields:
        raise ApiError(400, f"where: unknown field '{name}' (fields: {', '.join(sorted(fields))})",
                       {"field": "where"})
    column = fields[name].column
    if op in ("IS", "ISNOT") and value.upper() == "NULL":
        return column.is_(None) if op == "IS" else column.isnot(None)
    if op not in OPERATORS:
        raise ApiError(400, f"where: unknown operator '{op}' (operators: "
                       f"{', '.join(OPERATORS)}, IS:NULL, ISNOT:NULL)", {"field": "where"})
    if op == "CONTAINS":
        return OPERATORS[op](column.cast(String) if not _is_text(column) else column, value)
    try:
        typed = fields[name].parse(value, name)
    except ValidationError as exc:
        raise ApiError(400, f"where: {exc}", {"field": "where"}) from None
    if isinstance(typed, bool) and op not in ("EQUALS", "NOTEQUALS"):
        raise ApiError(400, f"where: {name} is true or false: use EQUALS or NOTEQUALS",
                       {"field": "where"})
    if (isinstance(typed, int) and isinstance(getattr(column, "type", None), Integer)
            and abs(typed) > integer_limit(column)):
        column = cast(column, BigInteger)  # compare as 64 bits (only for such values: no index)
    return OPERATORS[op](column, typed)


def _is_text(column) -> bool:
    return isinstance(getattr(column, "type", None), String)


def ordering(text: str, fields: dict[str, Field]) -> list:
    """`field:ASC,field2:DESC` as ORDER BY clauses."""
    clauses = []
    for part in split_conditions(text):
        name, _, direction = part.partition(":")
        direction = (direction or "ASC").upper()
        if name not in fields:
            raise ApiError(400, f"order: unknown field '{name}'", {"field": "order"})
        if direction not in ("ASC", "DESC"):
            raise ApiError(400, f"order: direction must be ASC or DESC, not '{direction}'",
                           {"field": "order"})
        column = fields[name].column
        clauses.append(column.asc() if direction == "ASC" else column.desc())
    return clauses


def _int_arg(name: str, default: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise ApiError(400, f"{name}: must be a non-negative integer", {"field": name})
    value = int(raw)
    if maximum is not None and value > maximum:
        raise ApiError(400, f"{name}: must be at most {maximum}", {"field": name})
    return value


def filtered(stmt: Select, fields: dict[str, Field]) -> Select:
    """`stmt` with the request's `where` conditions (used by lists and _count)."""
    for text in split_conditions(request.args.get("where", "")):
        stmt = stmt.where(condition(text, fields))
    return stmt


def paged(stmt: Select, fields: dict[str, Field], default_order) -> Select:
    """`stmt` with the request's `order`, `offset` and `limit` (default 10, at most 500)."""
    order = ordering(request.args.get("order", ""), fields) or [default_order]
    limit = _int_arg("limit", DEFAULT_LIMIT, MAX_LIMIT)
    return stmt.order_by(*order).offset(_int_arg("offset", 0, MAX_ID)).limit(limit)

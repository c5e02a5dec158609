"""Numbers in URLs: ASCII digits only, and never beyond what the database stores.

Werkzeug's `int` converter and `request.args.get(..., type=int)` accept any Unicode digit
("٣" is 3) and any size (an id of 2^63 fails in SQLite, 2^31 in PostgreSQL INTEGER). One
mechanism covers every view: the `int` converter is replaced (out of range = no such
page, 404) and so is the query-string dict (`type=int` out of range = 400).
"""
from __future__ import annotations

import re

from flask import Flask
from flask.wrappers import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")


class AsciiIdConverter(IntegerConverter):
    """`<int:...>` of ASCII digits, at most 2^31-1 (every id column of the portals)."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_INT32, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)
        if signed:
            self.regex = r"-?[0-9]+"

    def to_python(self, value: str):
        if len(value) > 20:  # far beyond any bound: no need to build the number
            from werkzeug.routing import ValidationError

            raise ValidationError()
        return super().to_python(value)


class BigIdConverter(AsciiIdConverter):
    """`<bigid:...>`: ASCII digits up to 2^63-1 (the API checks each column's own range)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_INT64, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def bounded_int(value: str) -> int:
    """`value` as an int of ASCII digits within ±(2^31-1).

    ValueError for text that is no number at all (Flask then uses the default, as before);
    BadRequest (400) for a number refused: non-ASCII digits or out of range.
    """
    text = value.strip()
    if not _ASCII_INTEGER.fullmatch(text):
        if text and all(ch.isdigit() or ch in "+-" for ch in text):
            raise BadRequest(f"'{value}' must be written with the digits 0-9")
        raise ValueError(value)
    if len(text) > 12 or abs(int(text)) > MAX_INT32:
        raise BadRequest(f"{text} is out of range (at most {MAX_INT32})")
    return int(text)


class BoundedArgs(ImmutableMultiDict):
    """Query arguments whose `get(name, type=int)` is ASCII-only and range-checked."""

    def get(self, key, default=None, type=None):  # noqa: A002 (werkzeug's signature)
        if type is int:
            type = bounded_int
        return super().get(key, default, type)


def install_number_parsing(app: Flask) -> None:
    """Register the converters on `app` (before any route is added)."""
    app.url_map.converters["int"] = AsciiIdConverter
    app.url_map.converters["bigid"] = BigIdConverter


def install_bounded_args(app: Flask) -> None:
    """Make `app`'s request class (whatever extensions made it, e.g. htmx's) parse the query
    string into BoundedArgs; call after the extensions are bound."""
    base: type[Request] = app.request_class
    app.request_class = type("BoundedRequest", (base,), {"parameter_storage_class": BoundedArgs,
                                                         "__doc__": base.__doc__})

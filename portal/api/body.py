"""Reading request bodies: JSON with exact decimals, and typed field access."""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

from flask import request

from portal.api.envelope import ApiError
from portal.billing.money import parse_money
from portal.services import merchant_tz
from portal.timeutil import parse_datetime

MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_AMOUNT = Decimal(10**12)  # in minor units of any currency this fits a BIGINT
_INTEGER = re.compile(r"-?[0-9]+")  # ASCII digits: str.isdigit() also admits "²", which int() refuses
# What can put a NUL or a lone surrogate into decoded JSON: a \u escape, a UTF-8-encoded
# surrogate (json decodes with "surrogatepass"), or a NUL byte (UTF-16/32 bodies). A body
# without any is clean and skips the walk over every string.
_MAYBE_UNSTORABLE = re.compile(rb"\\u|\xed[\xa0-\xbf]|\x00")


def json_body(expect: type = dict, required: bool = False):
    """The request's JSON body; numbers with a fraction or an exponent become Decimal.

    :param expect: dict (an object) or list (an array); an empty body is an empty object.
    :param required: refuse an empty body (400), as the OpenAPI document says (PUT).
    """
    if request.max_content_length is None or request.max_content_length > MAX_JSON_BYTES:
        request.max_content_length = MAX_JSON_BYTES  # a view's larger limit is for files
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BYTES:
        raise ApiError(413, f"The JSON body is larger than {MAX_JSON_BYTES} bytes.")
    if not raw.strip():
        if required:
            raise ApiError(400, "body: a JSON object is required (the fields to change)",
                           {"field": "body"})
        return {} if expect is dict else []
    try:
        data = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"Malformed JSON body: {exc}") from None
    except RecursionError:
        raise ApiError(400, "Malformed JSON body: nested too deeply") from None
    except ArithmeticError:  # Decimal's InvalidOperation: an exponent such as 1e9999999999999999999
        raise ApiError(400, "Malformed JSON body: a number is out of range") from None
    if _MAYBE_UNSTORABLE.search(raw):
        _check_text(data)
    if expect is dict and data == []:
        return {}  # ChargeOver's PHP client sends [] for an empty payload
    if not isinstance(data, expect):
        kind = "a JSON object" if expect is dict else "a JSON array"
        raise ApiError(400, f"The request body must be {kind}.")
    return data


def plain_json(raw: bytes):
    """`raw` decoded as `json_body` decodes it, or None when it is not JSON or may hold a
    string `json_body` would refuse (its caller then lets `json_body` answer)."""
    if _MAYBE_UNSTORABLE.search(raw):
        return None
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError, ArithmeticError):
        return None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number")


def _check_text(data) -> None:
    """Refuse strings no database stores: NUL characters (PostgreSQL text) and lone
    surrogates from JSON escapes like "\\ud800" (not UTF-8); a 400 naming where."""
    pending = [("", data)]
    while pending:  # iterative: the body may nest as deep as the JSON parser allowed
        path, value = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                _check_string(key, path or "body")
                pending.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, str):
            _check_string(value, path or "body")


def _check_string(text: str, field: str) -> None:
    if "\x00" in text:
        raise ApiError(400, f"{field}: must not contain NUL characters", {"field": field})
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, f"{field}: must be valid Unicode text (a lone surrogate)",
                       {"field": field}) from None


def get_str(data: dict, field: str, *, required: bool = False, max_length: int = 255):
    """A string field (numbers are accepted and turned into text); None when absent."""
    value = data.get(field)
    if value is None or value == "":
        if required:
            raise ApiError(400, f"{field}: is required", {"field": field})
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ApiError(400, f"{field}: must be a string", {"field": field})
    text = str(value).strip()
    if len(text) > max_length:
        raise ApiError(400, f"{field}: must be at most {max_length} characters", {"field": field})
    return text


def get_int(data: dict, field: str, *, required: bool = False):
    """An integer field (an integer or a string of digits); None when absent."""
    value = data.get(field)
    if value is None or value == "":
        if required:
            raise ApiError(400, f"{field}: is required", {"field": field})
        return None
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"{field}: must be an integer", {"field": field})
    return value


def get_amount(data: dict, field: str, name: str | None = None) -> Decimal | None:
    """A money amount (a number or a decimal string, 0 to 10^12); None when absent.

    The bound keeps amounts within what minor units can store (a larger one would fail
    in the database, or already when rounded to the currency, instead of being a 400).
    :param name: the field's name in errors (e.g. "applied_to[0].amount"); `field` if None.
    """
    value, name = data.get(field), name or field
    if value is None or value == "":
        return None
    amount = parse_money(value, name)
    if amount > MAX_AMOUNT:
        raise ApiError(400, f"{name}: must be at most {MAX_AMOUNT}", {"field": name})
    return amount


def get_local_date(data: dict, *fields: str) -> date | None:
    """The merchant-time-zone date of the first of `fields` given (a date, a date-time, or
    ISO 8601 with an offset); None when none is."""
    for field in fields:
        value = data.get(field)
        if value is None or value == "":
            continue
        try:
            return parse_datetime(value, field, merchant_tz()).astimezone(merchant_tz()).date()
        except OverflowError:  # year 1 or 9999 shifted out of range by a time zone
            raise ApiError(400, f"{field}: '{value}' is out of range", {"field": field}) from None
    return None


def get_bool(data: dict, field: str, default: bool | None = None):
    """A boolean field: true/false, 1/0, "1"/"0", "true"/"false"."""
    value = data.get(field)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in {"1", "true", "yes"}:
        return True
    if str(value).strip().lower() in {"0", "false", "no"}:
        return False
    raise ApiError(400, f"{field}: must be true or false", {"field": field})


def column_length(model, name: str, default: int = 255) -> int:
    """The declared length of a string column (what PostgreSQL would enforce)."""
    length = getattr(getattr(model, name).type, "length", None)
    return length or default

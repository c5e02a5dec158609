"""Reading request bodies: JSON with exact decimals, and typed field access."""
from __future__ import annotations

import json
from decimal import Decimal

from flask import request

from portal.api.envelope import ApiError

MAX_JSON_BYTES = 16 * 1024 * 1024


def json_body(expect: type = dict):
    """The request's JSON body; numbers with a fraction become Decimal, never float.

    :param expect: dict (an object) or list (an array); an empty body is an empty object.
    """
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BYTES:
        raise ApiError(413, f"The JSON body is larger than {MAX_JSON_BYTES} bytes.")
    if not raw.strip():
        return {} if expect is dict else []
    try:
        data = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"Malformed JSON body: {exc}") from None
    if expect is dict and data == []:
        return {}  # ChargeOver's PHP client sends [] for an empty payload
    if not isinstance(data, expect):
        kind = "a JSON object" if expect is dict else "a JSON array"
        raise ApiError(400, f"The request body must be {kind}.")
    return data


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number")


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
    if isinstance(value, bool):
        raise ApiError(400, f"{field}: must be an integer", {"field": field})
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ApiError(400, f"{field}: must be an integer", {"field": field})


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

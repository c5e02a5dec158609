"""JSON for the whole app: Decimal is written as an exact JSON number and read back as Decimal.

Python's json module can only write a Decimal as a string (or lose it through float);
simplejson's `use_decimal` writes `28.05` exactly, as ChargeOver's API does.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import simplejson
from flask.json.provider import JSONProvider


def _default(value: Any):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class ExactJSONProvider(JSONProvider):
    """Flask JSON provider backed by simplejson with exact decimals."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return simplejson.dumps(obj, use_decimal=True, default=_default, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return simplejson.loads(s, use_decimal=True, **kwargs)

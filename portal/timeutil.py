"""Parsing and formatting of API datetimes in the merchant's time zone.

The API speaks `"YYYY-MM-DD HH:MM:SS"` in the merchant time zone (as ChargeOver does);
ISO 8601 with an offset is accepted too. Internally every instant is aware UTC.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from portal.billing.errors import ValidationError

API_FORMAT = "%Y-%m-%d %H:%M:%S"


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach the merchant zone to a naive wall-clock time and return it in UTC."""
    return naive.replace(tzinfo=tz).astimezone(timezone.utc)


def parse_datetime(value, field: str, tz: ZoneInfo) -> datetime:
    """Parse an API datetime into aware UTC.

    :param value: "YYYY-MM-DD HH:MM:SS", "YYYY-MM-DD", or ISO 8601 with or without offset.
    :param field: the field name reported in the error message.
    :param tz: the merchant time zone for naive values.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a date-time string like '2015-09-15 00:00:00'")
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            field, f"'{value}' is not a date-time like '2015-09-15 00:00:00'"
        ) from None
    if parsed.tzinfo is None:
        return localize(parsed, tz)
    return parsed.astimezone(timezone.utc)


def format_datetime(instant: datetime | None, tz: ZoneInfo) -> str | None:
    """An aware instant as "YYYY-MM-DD HH:MM:SS" in the merchant zone (None stays None)."""
    if instant is None:
        return None
    return instant.astimezone(tz).strftime(API_FORMAT)


def format_date(day: date | None) -> str | None:
    """A date as "YYYY-MM-DD" (None stays None)."""
    return None if day is None else day.isoformat()

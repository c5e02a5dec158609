"""Formatting of values in API responses (ChargeOver's conventions)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from portal.billing.money import from_minor
from portal.services import merchant_tz
from portal.timeutil import format_date, format_datetime


def dt(instant: datetime | None) -> str | None:
    """"YYYY-MM-DD HH:MM:SS" in the merchant time zone."""
    return format_datetime(instant, merchant_tz())


def day(value: date | None) -> str | None:
    """"YYYY-MM-DD"."""
    return format_date(value)


def money(minor: int, currency: str) -> Decimal:
    """An amount in minor units as an exact decimal of the currency (a JSON number)."""
    return from_minor(minor, currency)

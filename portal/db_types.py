"""Exact column types: no float ever reaches the database, on SQLite as on PostgreSQL.

- `MicroUnits`: a Decimal quantity stored as an integer of millionths (docs/billing-rules.md §2).
- `MicroTotal`: a Decimal sum of micro-units: NUMERIC(38) on PostgreSQL (a sum may pass
  64 bits), BIGINT on SQLite (whose own SUM stops at 64 bits anyway).
- `DecimalText`: a rate or catalog price stored as canonical decimal text.
- `UTCDateTime`: an aware datetime stored as naive UTC, returned aware (SQLite keeps no zone).
Money on invoices and payments is stored as integers of the currency's minor unit in
plain BigInteger columns named `*_minor`; `portal.billing.money` converts.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Integer, Numeric, String
from sqlalchemy.types import TypeDecorator

from portal.billing.money import from_micro, to_micro

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids where volume is high.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class MicroUnits(TypeDecorator):
    """Decimal with at most 6 decimals <-> BIGINT of micro-units."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else to_micro(Decimal(value))

    def process_result_value(self, value, dialect):
        return None if value is None else from_micro(int(value))


class MicroTotal(TypeDecorator):
    """Decimal sum with at most 6 decimals <-> an integer of micro-units, exact on both databases."""

    impl = Numeric(38, 0)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(BigInteger() if dialect.name == "sqlite" else Numeric(38, 0))

    def process_bind_param(self, value, dialect):
        return None if value is None else to_micro(Decimal(value))

    def process_result_value(self, value, dialect):
        return None if value is None else from_micro(int(value))


class DecimalText(TypeDecorator):
    """Decimal <-> its canonical text (no exponent), exact on every database."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return format(Decimal(value), "f")

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


class UTCDateTime(TypeDecorator):
    """Aware datetime <-> naive UTC column; naive input is refused (it would be ambiguous)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(timezone.utc)

"""Use cases shared by the API, the portals, the CLI and the scheduler.

Services validate, change the session and flush; the caller commits once.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app


def merchant_tz() -> ZoneInfo:
    """The merchant time zone (TIMEZONE setting) in which periods and API dates are read."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def ensure_unique(model, column: str, value, exclude_id: int | None = None,
                  field: str | None = None) -> None:
    """Refuse a duplicate before the database does, with a message naming the field.

    The unique constraint stays the guarantee under concurrency; this gives the clear error.
    :param model: the mapped class.
    :param column: the unique attribute (e.g. "external_key").
    :param value: the proposed value (None is never a duplicate).
    :param exclude_id: the id of the object being updated.
    """
    from sqlalchemy import select

    from portal.billing.errors import ValidationError
    from portal.extensions import db

    if value is None:
        return
    stmt = select(model.id).where(getattr(model, column) == value)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    other = db.session.scalar(stmt.limit(1))
    if other is not None:
        raise ValidationError(field or column, f"'{value}' is already used by {model.__tablename__[:-1]} {other}")

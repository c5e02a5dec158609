"""The billing run: which packages are due (the invoicing itself arrives with issue 4)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Package


def count_due(now: datetime) -> int:
    """How many packages have an invoice due at or before `now`.

    :param now: the instant of the run (aware).
    """
    return db.session.scalar(
        select(func.count()).select_from(Package).where(Package.next_invoice_at <= now)
    )

"""Writes to the billing change log (`portal.models.billing_changes`) that come from the
package's own history rather than from usage or voids.

A withdrawn or moved scheduled cancel or suspension takes its instant out of the lines'
history, so nothing would send the next invoice back to the period it had prorated: the
old instant is logged instead, and that invoice reconciles the period (billing what the
cancel or suspension had left out).
"""
from __future__ import annotations

from datetime import datetime

from portal.extensions import db
from portal.models import BillingChange, Package


def log_history_change(package: Package, *instants: datetime | None) -> None:
    """Name instants whose periods the package's next invoice must reconcile again.

    :param package: the package whose history changed.
    :param instants: the instants that left its history (None ones are skipped).
    """
    db.session.add_all(BillingChange(package_id=package.id, line_item_id=None, at=instant)
                       for instant in instants if instant is not None)

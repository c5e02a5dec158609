"""The dunning pass of the background process: overdue invoices, then reminders.

A transaction owner: one commit per invoice, so a crash or a concurrent worker costs at
most that invoice's work, and the database's keys (one overdue row per invoice, one
reminder per invoice and step) make a second worker's attempt fail and roll back.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Invoice
from portal.services.dunning import (
    active_schedule, mark_overdue, newly_overdue_ids, queue_reminder, reminder_candidate_ids,
    stop_settled_reminders,
)
from portal.services.reports import local_today

log = logging.getLogger("meterbill.dunning")


def run_dunning(now: datetime | None = None) -> dict[str, int]:
    """Mark overdue invoices, queue the reminders due, stop those of settled invoices.

    :param now: the instant (tests pass one); the merchant's local date decides "past due".
    :returns: counts: overdue, reminded, stopped.
    """
    now = now or utcnow()
    today = local_today(now)
    counts = {"overdue": 0, "reminded": 0, "stopped": stop_settled_reminders()}
    db.session.commit()
    for invoice_id in newly_overdue_ids(today):
        counts["overdue"] += _one(invoice_id, lambda invoice: mark_overdue(invoice, now))
    schedule = active_schedule()
    db.session.commit()
    for invoice_id in reminder_candidate_ids(today, schedule):
        counts["reminded"] += _one(invoice_id, lambda invoice: queue_reminder(invoice, schedule, today))
    return counts


def _one(invoice_id: int, action) -> int:
    """Run `action` on the invoice in its own transaction; 1 when it wrote something."""
    try:
        done = action(db.session.get(Invoice, invoice_id)) is not None
        db.session.commit()
        return int(done)
    except IntegrityError:  # another worker did it first
        db.session.rollback()
        return 0


def dunning_job(app) -> dict[str, int]:
    """The scheduler's dunning job: one pass in an app context, logged when it did something."""
    with app.app_context():
        try:
            counts = run_dunning()
        finally:
            db.session.remove()
    if any(counts.values()):
        log.info("Dunning: %s", ", ".join(f"{n} {what}" for what, n in counts.items()))
    return counts

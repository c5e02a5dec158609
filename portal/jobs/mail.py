"""The mail job: sends queued deliveries through SMTP or to an outbox; owns its commits.

Never twice: a delivery is *claimed* (a conditional UPDATE that only one process can win)
and committed before it is sent, and marked sent right after. If a process dies between the
send and the mark, the claim expires and the message is sent again with the same Message-ID,
which lets the receiving side recognise the duplicate. Failures are retried with exponential
backoff (1, 2, 4, 8 minutes ...) up to MAX_ATTEMPTS, then the delivery is `failed`.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from portal.db_types import utcnow
from portal.extensions import db
from portal.models import EmailDelivery
from portal.services.mail import build_message, transport

log = logging.getLogger("meterbill.mail")
MAX_ATTEMPTS = 6
CLAIM_SECONDS = 300


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take a due delivery for CLAIM_SECONDS; only one process can win it."""
    result = db.session.execute(
        update(EmailDelivery)
        .where(EmailDelivery.id == delivery_id, EmailDelivery.status == "pending",
               EmailDelivery.next_attempt_at <= now)
        .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
                attempts=EmailDelivery.attempts + 1)
    )
    db.session.commit()
    return result.rowcount == 1


def send_delivery(delivery_id: int, now: datetime) -> str | None:
    """Claim, send and record one delivery; returns its new status (None if not claimed)."""
    if not _claim(delivery_id, now):
        return None
    delivery = db.session.get(EmailDelivery, delivery_id)
    try:
        transport(build_message(delivery))
    except Exception as exc:  # SMTP, network or rendering failure: retry later
        db.session.rollback()
        delivery = db.session.get(EmailDelivery, delivery_id)
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        delivery.status = "failed" if delivery.attempts >= MAX_ATTEMPTS else "pending"
        delivery.next_attempt_at = now + timedelta(minutes=2 ** (delivery.attempts - 1))
        log.warning("Delivery %s to %s failed (attempt %s): %s", delivery.id,
                    delivery.to_address, delivery.attempts, delivery.last_error)
    else:
        delivery.status, delivery.sent_at, delivery.last_error = "sent", utcnow(), None
    db.session.commit()
    return delivery.status


def send_due_deliveries(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Send every pending delivery that is due (the mail job); returns counts by status."""
    now = now or utcnow()
    ids = list(db.session.scalars(
        select(EmailDelivery.id).where(EmailDelivery.status == "pending",
                                       EmailDelivery.next_attempt_at <= now)
        .order_by(EmailDelivery.id).limit(limit)))
    db.session.rollback()
    counts: dict[str, int] = {}
    for delivery_id in ids:
        status = send_delivery(delivery_id, now)
        if status is not None:
            counts[status] = counts.get(status, 0) + 1
    return counts

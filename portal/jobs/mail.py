"""The mail job: sends queued deliveries through SMTP or to an outbox; owns its commits.

Never twice: a delivery is *claimed* (a conditional UPDATE that only one process can win)
and committed before it is sent, and marked sent right after. If a process dies between the
send and the mark, the claim expires and the message is sent again with the same Message-ID,
which lets the receiving side recognise the duplicate. Failures are retried with exponential
backoff (1, 2, 4, 8 minutes ...) up to MAX_ATTEMPTS, then the delivery is `failed`.
"""
from __future__ import annotations

import logging
from concurrent.futures import Future
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from portal.billing.vocabulary import DeliveryStatus
from portal.db_types import utcnow
from portal.extensions import db
from portal.jobs.mail_sender import MailSender
from portal.jobs.pdf_pool import POOL_THRESHOLD, PdfBatch, shared_pool
from portal.models import EmailDelivery, Invoice
from portal.services.mail import build_message, transport
from portal.services.settings import ensure_settings

log = logging.getLogger("meterbill.mail")
MAX_ATTEMPTS = 6
CLAIM_SECONDS = 300
# Deliveries claimed at once: sent well within CLAIM_SECONDS at any rate of 60/min or more.
BATCH = 100


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take a due delivery for CLAIM_SECONDS; only one process can win it."""
    result = db.session.execute(
        update(EmailDelivery)
        .where(EmailDelivery.id == delivery_id, EmailDelivery.status == DeliveryStatus.PENDING,
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
        _record_failure(db.session.get(EmailDelivery, delivery_id), exc, now)
    else:
        delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, utcnow(), None
    db.session.commit()
    return delivery.status


def _record_failure(delivery: EmailDelivery, exc: BaseException, now: datetime) -> None:
    """Retry later with exponential backoff, or give up after MAX_ATTEMPTS."""
    delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    delivery.status = DeliveryStatus.FAILED if delivery.attempts >= MAX_ATTEMPTS else DeliveryStatus.PENDING
    delivery.next_attempt_at = now + timedelta(minutes=2 ** (delivery.attempts - 1))
    log.warning("Delivery %s to %s failed (attempt %s): %s", delivery.id,
                delivery.to_address, delivery.attempts, delivery.last_error)


def _claim_batch(now: datetime, size: int) -> list[int]:
    """Claim up to `size` due deliveries for CLAIM_SECONDS (committed before any is sent);
    a delivery another process claimed first is skipped."""
    ids = list(db.session.scalars(
        select(EmailDelivery.id).where(EmailDelivery.status == DeliveryStatus.PENDING,
                                       EmailDelivery.next_attempt_at <= now)
        .order_by(EmailDelivery.id).limit(size)))
    if not ids:
        db.session.rollback()
        return []
    claimed = db.session.scalars(
        update(EmailDelivery)
        .where(EmailDelivery.id.in_(ids), EmailDelivery.status == DeliveryStatus.PENDING,
               EmailDelivery.next_attempt_at <= now)
        .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
                attempts=EmailDelivery.attempts + 1)
        .returning(EmailDelivery.id).execution_options(synchronize_session=False))
    claimed = sorted(claimed)
    db.session.commit()
    return claimed


def mail_rate() -> int:
    """E-mails per minute at most: the merchant's setting, else MAIL_RATE_PER_MINUTE."""
    return ensure_settings().mail_rate_per_minute or current_app.config["MAIL_RATE_PER_MINUTE"]


def send_due_deliveries(now: datetime | None = None, limit: int | None = None) -> dict[str, int]:
    """Send the pending deliveries that are due (the mail job), BATCH at a time: each batch
    is claimed (committed), its PDFs rendered in parallel processes, its messages sent over
    MAIL_CONNECTIONS connections at the merchant's rate, and the outcomes committed.

    :param now: the instant deliveries are due by (default: now).
    :param limit: at most this many (default: every due one).
    :returns: counts by new status ("sent", "pending" for a retry, "failed").
    """
    now = now or utcnow()
    counts: dict[str, int] = {}
    sender = None
    try:
        while limit is None or limit > 0:
            ids = _claim_batch(now, BATCH if limit is None else min(BATCH, limit))
            if not ids:
                break
            limit = None if limit is None else limit - len(ids)
            if sender is None:
                config = current_app.config
                sender = MailSender({k: v for k, v in config.items() if k.startswith(("MAIL_", "OUTBOX_"))},
                                    mail_rate(), config["MAIL_CONNECTIONS"])
            for status in _send_batch(ids, now, sender):
                counts[status] = counts.get(status, 0) + 1
    finally:
        if sender is not None:
            sender.close()
    return counts


def _send_batch(ids: list[int], now: datetime, sender: MailSender) -> list[str]:
    """Build and send the claimed deliveries `ids`; record and commit each outcome."""
    deliveries = list(db.session.scalars(select(EmailDelivery).where(EmailDelivery.id.in_(ids))
                                         .order_by(EmailDelivery.id)))
    invoice_ids = [d.invoice_id for d in deliveries if d.kind == "invoice"]
    pdfs = PdfBatch(shared_pool() if len(invoice_ids) >= POOL_THRESHOLD else None)
    errors: dict[int, BaseException] = {}
    for delivery in deliveries:
        if delivery.kind == "invoice":
            try:
                pdfs.add(db.session.get(Invoice, delivery.invoice_id))
            except Exception as exc:  # rendering the HTML failed: retried later
                errors[delivery.id] = exc
    sending: dict[int, Future] = {}
    for delivery in deliveries:
        if delivery.id in errors:
            continue
        try:
            pdf = pdfs.pdf(delivery.invoice_id) if delivery.kind == "invoice" else None
            sending[delivery.id] = sender.submit(build_message(delivery, pdf=pdf))
        except Exception as exc:  # rendering failed: retried later
            errors[delivery.id] = exc
    for delivery_id, future in sending.items():
        if future.exception() is not None:
            errors[delivery_id] = future.exception()
    sent_at = utcnow()
    for delivery in deliveries:
        if delivery.id in errors:
            _record_failure(delivery, errors[delivery.id], now)
        else:
            delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, sent_at, None
    db.session.commit()
    return [delivery.status for delivery in deliveries]

"""The webhook delivery job: one attempt of one delivery, in its own transactions.

Never run in a web request or a billing transaction (`record_event` only writes the
outbox). No transaction stays open while the receiver answers; a worker killed between the
POST and the commit of its result leaves the job running with a stale heartbeat, and
another worker takes it over and posts again (at least once, the same event id).
"""
from __future__ import annotations

import time

from portal.extensions import db
from portal.jobs.runner import JobContext
from portal.models import WebhookDelivery
from portal.services.webhooks import body_of, headers_of, post, record, setting


def deliver_job(context: JobContext) -> None:
    """Job handler: make attempt `attempt` of one delivery, record it, schedule the next."""
    delivery_id, attempt = context.payload["delivery_id"], context.payload["attempt"]
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != "pending" or delivery.attempts >= attempt:
        return  # gone, finished, or this attempt was recorded already
    if not delivery.endpoint.enabled:
        delivery.status, delivery.error, delivery.next_attempt_at = "failed", "The endpoint is disabled.", None
        db.session.commit()
        return
    url, body, stamp = delivery.endpoint.url, body_of(delivery), int(time.time())
    headers = headers_of(delivery, body, stamp)
    db.session.rollback()  # no transaction stays open while the receiver answers
    answer = post(url, body, headers, setting("WEBHOOK_TIMEOUT_SECONDS"))
    context.renew()  # still ours? (LeaseLost: the new owner posts again; nothing recorded)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is not None:  # None: its endpoint was removed meanwhile
        record(delivery, attempt, answer)
    db.session.commit()


def delivery_job_failed(job_payload: dict, error: str) -> None:
    """The queue gave the job up (its workers kept dying): the delivery failed too."""
    delivery = db.session.get(WebhookDelivery, job_payload.get("delivery_id"))
    if delivery is not None and delivery.status == "pending":
        delivery.status, delivery.error, delivery.next_attempt_at = "failed", error[:2000], None

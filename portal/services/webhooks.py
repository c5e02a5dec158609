"""Webhook delivery: one signed POST per attempt, made by the background worker.

The job (`portal.jobs.webhooks`, kind `webhook`, payload `{"delivery_id", "attempt"}`) owns
its transactions; what is here signs, posts and records (flushes only). `record_event`
only writes the outbox. Each attempt posts the same body with the same event id
(`X-Meterbill-Event-Id`); a failed attempt schedules the next one as a new job, after an
exponential backoff capped at WEBHOOK_RETRY_CAP_SECONDS, until WEBHOOK_MAX_ATTEMPTS. A
worker killed between the POST and the commit of its result leaves the job running with
a stale heartbeat: another worker takes it over and posts again (at least once).

Headers: `X-Meterbill-Security-Token` (the endpoint's secret, as ChargeOver's
`security_token`), `X-Meterbill-Timestamp` (Unix seconds) and `X-Meterbill-Signature`
(`v1=` + hex HMAC-SHA256 of `<timestamp>.<body>` keyed by the secret).
"""
from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from portal.db_types import utcnow
from portal.extensions import db
from portal.services.job_queue import enqueue
from portal.models import WebhookDelivery
from portal.services.events import JOB_KIND, dumps
from portal.services.outbound import opener

TOKEN_HEADER = "X-Meterbill-Security-Token"
TIMESTAMP_HEADER = "X-Meterbill-Timestamp"
SIGNATURE_HEADER = "X-Meterbill-Signature"
EVENT_ID_HEADER = "X-Meterbill-Event-Id"
EXCERPT_CHARS = 2000
DEFAULTS = {"WEBHOOK_TIMEOUT_SECONDS": 10, "WEBHOOK_MAX_ATTEMPTS": 8,
            "WEBHOOK_RETRY_BASE_SECONDS": 30, "WEBHOOK_RETRY_CAP_SECONDS": 6 * 3600}


def setting(name: str) -> float:
    """A webhook setting from the app's config, else its default."""
    value = current_app.config.get(name)
    return DEFAULTS[name] if value is None else value


def payload(delivery: WebhookDelivery) -> dict:
    """ChargeOver's webhook body: context_str, context_id, event, data, security_token."""
    event = delivery.event
    return {"context_str": event.context, "context_id": event.context_id, "event": event.event,
            "data": event.data, "security_token": delivery.endpoint.secret,
            "event_id": event.uuid, "created": event.created_at.isoformat()}


def body_of(delivery: WebhookDelivery) -> bytes:
    """The exact bytes posted on every attempt."""
    return dumps(payload(delivery)).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, tolerance: int = 300,
           now: float | None = None) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def headers_of(delivery: WebhookDelivery, body: bytes, timestamp: int) -> dict[str, str]:
    """The request headers of one attempt."""
    secret = delivery.endpoint.secret
    return {"Content-Type": "application/json", "User-Agent": "Meterbill-Webhooks/1",
            TOKEN_HEADER: secret, TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body), EVENT_ID_HEADER: delivery.event.uuid}


@dataclass(frozen=True)
class Answer:
    """What one attempt got: the status code and a body excerpt, or the error."""

    code: int | None
    excerpt: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer, not followed
        return None


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST once; every failure (refused, timeout, 5xx) is an Answer, never an exception."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener(_NoRedirect()).open(request, timeout=timeout) as response:
            return Answer(response.status, _excerpt(response), None)
    except urllib.error.HTTPError as error:
        return Answer(error.code, _excerpt(error), f"HTTP {error.code}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return Answer(None, None, f"{type(reason).__name__}: {reason}"[:500])


def _excerpt(response) -> str:
    try:
        return response.read(EXCERPT_CHARS).decode("utf-8", "replace")
    except OSError:
        return ""


def backoff(attempt: int) -> timedelta:
    """The wait after failed attempt `attempt` (1-based): base × 2^(n-1), capped."""
    base, cap = setting("WEBHOOK_RETRY_BASE_SECONDS"), setting("WEBHOOK_RETRY_CAP_SECONDS")
    return timedelta(seconds=min(cap, base * 2 ** (attempt - 1)))


def record(delivery: WebhookDelivery, attempt: int, answer: Answer) -> None:
    """Store one attempt's outcome; on failure schedule the next attempt or give up."""
    now = utcnow()
    delivery.attempts, delivery.last_attempt_at = attempt, now
    delivery.response_code, delivery.response_excerpt = answer.code, answer.excerpt
    delivery.error = None if answer.ok else answer.error
    if answer.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
    elif attempt >= setting("WEBHOOK_MAX_ATTEMPTS"):
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = now + backoff(attempt)
        enqueue(JOB_KIND, {"delivery_id": delivery.id, "attempt": attempt + 1},
                run_after=delivery.next_attempt_at)
    db.session.flush()


def resend(delivery: WebhookDelivery) -> WebhookDelivery:
    """Post a delivered or failed event again (same event id, next attempt number); flushes."""
    from portal.billing.errors import ValidationError

    if delivery.status == "pending":
        raise ValidationError("delivery", "This delivery is still being attempted.")
    delivery.status, delivery.error, delivery.next_attempt_at = "pending", None, utcnow()
    enqueue(JOB_KIND, {"delivery_id": delivery.id, "attempt": delivery.attempts + 1})
    db.session.flush()
    return delivery

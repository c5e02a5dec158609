"""Webhook delivery by the job runner to a real HTTP server on loopback: signed, retried
with backoff after failures and timeouts, the same event id on every attempt."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from support.factories import make_customer
from portal.db_types import utcnow
from portal.jobs import run_pending
from portal.models import Job, WebhookDelivery, WebhookEndpoint, WebhookEvent
from portal.services import webhooks
from support.http_receiver import start_receiver, stop_receiver


@pytest.fixture
def receiver_for(app):
    started = []

    def start(script):
        started.append(start_receiver(script))
        return started[-1]

    yield start
    for receiver in started:
        stop_receiver(receiver)


def customer_event(db, url, events=("customer.insert",)):
    db.session.add(WebhookEndpoint(url=url, events=list(events), secret="whsec_test", enabled=True))
    customer = make_customer(company="Hooked Ltd")  # the service records customer.insert
    db.session.commit()
    return db.session.scalars(select(WebhookEvent)).one().uuid, customer.id


def delivery(db) -> WebhookDelivery:
    db.session.rollback()
    return db.session.scalars(select(WebhookDelivery)).one()


def make_due(db):
    db.session.execute(update(Job).where(Job.status == "waiting")
                       .values(run_after=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_delivery_is_signed_and_shaped_as_chargeover(app, db, receiver_for):
    receiver = receiver_for([200])
    event_id, customer_id = customer_event(db, receiver.url)
    assert receiver.received == []  # nothing is sent in the transaction of the change
    assert run_pending(app, "w1") == {"done": 1}
    [request] = receiver.received
    headers = request.headers
    assert headers["X-Meterbill-Event-Id"] == event_id
    assert headers["X-Meterbill-Security-Token"] == "whsec_test"
    assert webhooks.verify("whsec_test", headers["X-Meterbill-Timestamp"], request.body,
                           headers["X-Meterbill-Signature"])
    assert not webhooks.verify("other", headers["X-Meterbill-Timestamp"], request.body,
                               headers["X-Meterbill-Signature"])
    assert not webhooks.verify("whsec_test", headers["X-Meterbill-Timestamp"], request.body + b" ",
                               headers["X-Meterbill-Signature"])
    body = json.loads(request.body)
    assert (body["context_str"], body["context_id"], body["event"]) == ("customer", customer_id, "insert")
    assert body["data"]["customer"]["company"] == "Hooked Ltd"
    assert (body["security_token"], body["event_id"]) == ("whsec_test", event_id)
    stored = delivery(db)
    assert (stored.status, stored.attempts, stored.response_code) == ("delivered", 1, 200)
    assert stored.response_excerpt == '{"ok": true}' and stored.next_attempt_at is None


def test_a_replayed_timestamp_is_refused_by_verify():
    body = b'{"event": "insert"}'
    signature = webhooks.sign("k", 1_000_000, body)
    assert webhooks.verify("k", "1000000", body, signature, now=1_000_100)
    assert not webhooks.verify("k", "1000000", body, signature, now=1_000_000 + 301)


def test_a_failing_receiver_is_retried_with_backoff_until_it_recovers(app, db, receiver_for):
    receiver = receiver_for([500, 503, 200])
    event_id, _ = customer_event(db, receiver.url)
    before = utcnow()
    assert run_pending(app, "w1") == {"done": 1}
    first = delivery(db)
    assert (first.status, first.attempts, first.response_code) == ("pending", 1, 500)
    assert first.response_excerpt == "receiver is down" and first.error == "HTTP 500"
    wait = first.next_attempt_at - before
    assert timedelta(seconds=29) < wait <= timedelta(seconds=31)  # base 30 s
    assert run_pending(app, "w1") == {}  # not due yet
    make_due(db)
    assert run_pending(app, "w1") == {"done": 1}
    second = delivery(db)
    assert (second.attempts, second.response_code) == (2, 503)
    assert timedelta(seconds=59) < second.next_attempt_at - second.last_attempt_at <= timedelta(seconds=61)
    make_due(db)
    assert run_pending(app, "w1") == {"done": 1}
    third = delivery(db)
    assert (third.status, third.attempts, third.response_code, third.error) == ("delivered", 3, 200, None)
    assert [r.headers["X-Meterbill-Event-Id"] for r in receiver.received] == [event_id] * 3
    assert len({r.body for r in receiver.received}) == 1  # the same body every time


def test_a_receiver_that_times_out_is_retried(app, db, receiver_for, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.5)
    receiver = receiver_for([("sleep", 5, 200), 200])
    event_id, _ = customer_event(db, receiver.url)
    started = time.monotonic()
    assert run_pending(app, "w1") == {"done": 1}
    assert time.monotonic() - started < 5  # bounded by the timeout, not the receiver
    first = delivery(db)
    assert (first.status, first.attempts, first.response_code) == ("pending", 1, None)
    assert "timed out" in first.error
    make_due(db)
    assert run_pending(app, "w1") == {"done": 1}
    assert delivery(db).status == "delivered"
    assert [r.headers["X-Meterbill-Event-Id"] for r in receiver.received] == [event_id] * 2


def test_after_the_last_attempt_it_fails_and_resend_delivers_it(app, db, receiver_for, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_ATTEMPTS", 2)
    receiver = receiver_for([500, 500, 200])
    event_id, _ = customer_event(db, receiver.url)
    run_pending(app, "w1")
    make_due(db)
    run_pending(app, "w1")
    failed = delivery(db)
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 2, None)
    make_due(db)
    assert run_pending(app, "w1") == {}  # no further attempt
    webhooks.resend(failed)
    db.session.commit()
    assert run_pending(app, "w1") == {"done": 1}
    resent = delivery(db)
    assert (resent.status, resent.attempts, resent.response_code) == ("delivered", 3, 200)
    assert [r.headers["X-Meterbill-Event-Id"] for r in receiver.received] == [event_id] * 3


def test_backoff_doubles_and_is_capped(app):
    with app.app_context():
        assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
        assert webhooks.backoff(30).total_seconds() == 21600

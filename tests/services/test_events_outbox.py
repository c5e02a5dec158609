"""The events outbox: rows written in the change's transaction, one delivery per subscriber."""
from __future__ import annotations

from sqlalchemy import func, select

from support.factories import make_customer
from portal.models import Job, WebhookDelivery, WebhookEndpoint, WebhookEvent
from portal.services.events import record_event, subscribed


def endpoint(db, events, enabled=True, url="http://127.0.0.1:9/hook"):
    row = WebhookEndpoint(url=url, events=events, enabled=enabled, secret="s3cret")
    db.session.add(row)
    db.session.flush()
    return row


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_patterns_cover_one_event_a_context_or_all():
    assert subscribed(["invoice.paid"], "invoice.paid")
    assert subscribed(["invoice.*"], "invoice.overdue")
    assert subscribed(["*"], "customer.delete")
    assert not subscribed(["invoice.paid"], "invoice.voided")
    assert not subscribed([], "invoice.paid")


def test_an_event_fans_out_to_each_enabled_subscribed_endpoint(app, db):
    customer = make_customer(company="Outbox Ltd")
    first = endpoint(db, ["customer.insert"])
    second = endpoint(db, ["customer.*"])
    endpoint(db, ["invoice.paid"])
    endpoint(db, ["*"], enabled=False)
    event = record_event(db.session, context="customer", context_id=customer.id, event="insert")
    db.session.commit()
    assert (event.context, event.context_id, event.event) == ("customer", customer.id, "insert")
    assert len(event.uuid) == 36
    assert event.data["customer"]["company"] == "Outbox Ltd"
    assert event.data["customer"]["customer_id"] == customer.id
    deliveries = list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
    assert [(d.endpoint_id, d.status, d.attempts) for d in deliveries] == [
        (first.id, "pending", 0), (second.id, "pending", 0)]
    jobs = list(db.session.scalars(select(Job).order_by(Job.id)))
    assert [(j.kind, j.payload) for j in jobs] == [
        ("webhook", {"delivery_id": deliveries[0].id, "attempt": 1}),
        ("webhook", {"delivery_id": deliveries[1].id, "attempt": 1})]


def test_no_subscriber_writes_nothing(app, db):
    endpoint(db, ["invoice.paid"])
    customer = make_customer()
    assert record_event(db.session, context="customer", context_id=customer.id, event="update") is None
    db.session.commit()
    assert (count(db, WebhookEvent), count(db, WebhookDelivery), count(db, Job)) == (0, 0, 0)


def test_a_rolled_back_change_leaves_no_event(app, db):
    endpoint(db, ["*"])
    db.session.commit()
    customer = make_customer()
    record_event(db.session, context="customer", context_id=customer.id, event="insert",
                 data={"customer": {"customer_id": customer.id}})
    db.session.rollback()
    assert (count(db, WebhookEvent), count(db, WebhookDelivery), count(db, Job)) == (0, 0, 0)

"""The events outbox: what happened, written in the transaction of the change.

`record_event(session, context=..., context_id=..., event=...)` is called by the service
that makes a change, before the caller commits. It finds the enabled webhook endpoints
subscribed to `<context>.<event>` and, when there are any, writes one `WebhookEvent` (the
object as the API shows it, and a fresh event id) and one pending `WebhookDelivery` plus a
`webhook` job per endpoint — all flushed only, so the event exists exactly when the change
commits and vanishes with its rollback. Nothing is sent here: the background worker
delivers (`services/webhooks.py`). With no subscribed endpoint it costs one small query.
A transaction that records the same event of the same object twice (an upgrade touching
several lines) keeps one event, whose `data` is the object's state at the last call.

The object's shape comes from the face that owns it: the API registers one snapshot
function per context (`register_snapshot`), so services never import the API.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from collections.abc import Callable

import simplejson
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, scoped_session

from portal.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

JOB_KIND = "webhook"

# The events a merchant can subscribe to (ChargeOver's context_str.event names).
EVENTS: dict[str, tuple[str, ...]] = {
    "customer": ("insert", "update", "delete"),
    "user": ("insert", "update", "delete"),
    "package": ("insert", "update", "cancel", "suspend", "unsuspend"),
    "invoice": ("insert", "paid", "voided", "overdue"),
    "creditnote": ("insert", "voided"),
    "transaction": ("insert",),
    "usage_alert": ("crossed",),
}
EVENT_NAMES: tuple[str, ...] = tuple(f"{c}.{e}" for c, events in EVENTS.items() for e in events)

# context -> fn(session, id) -> the object as the API returns it (None when it is gone).
_SNAPSHOTS: dict[str, Callable[[Session, int], dict | None]] = {}


def register_snapshot(context: str, snapshot: Callable[[Session, int], dict | None]) -> None:
    """Say how the object of `context` is shown in an event's `data` (the API's shape)."""
    _SNAPSHOTS[context] = snapshot


def subscribed(patterns: list, name: str) -> bool:
    """Whether an endpoint's `events` ("invoice.paid", "invoice.*", "*") cover `name`."""
    context = name.split(".", 1)[0]
    return any(p in ("*", name, f"{context}.*") for p in patterns or ())


def subscribers(session: Session, name: str) -> list[WebhookEndpoint]:
    """The enabled endpoints subscribed to the event `name`."""
    endpoints = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
                                .order_by(WebhookEndpoint.id))
    return [e for e in endpoints if subscribed(e.events, name)]


def snapshot(session: Session, context: str, context_id: int) -> dict:
    """ChargeOver's `data`: the object under its context name, with its customer when it
    belongs to one (`data.package` and `data.customer`, as ChargeOver's examples read)."""
    shown = _SNAPSHOTS.get(context)
    obj = shown(session, context_id) if shown else None
    data = {context: obj if obj is not None else {"id": context_id}}
    customer_id = (obj or {}).get("customer_id")
    if context != "customer" and customer_id and "customer" in _SNAPSHOTS:
        data["customer"] = _SNAPSHOTS["customer"](session, int(customer_id))
    return data


def _recorded(session: Session) -> dict:
    """The events recorded in the session's current transaction, by (context, id, event)."""
    if isinstance(session, scoped_session):
        session = session()
    transaction = session.get_transaction()
    kept = session.info.get("webhook_events")
    if kept is None or kept[0] is not transaction:
        kept = session.info["webhook_events"] = (transaction, {})
    return kept[1]


def dumps(value) -> str:
    """Exact JSON text (Decimal as an exact number, dates in ISO form)."""
    return simplejson.dumps(value, use_decimal=True, default=_iso)


def _iso(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def record_event(session: Session, *, context: str, context_id: int, event: str,
                 data: dict | None = None) -> WebhookEvent | None:
    """Write the outbox rows of one event in the caller's transaction; flushes only.

    :param context: ChargeOver's `context_str` ("customer", "package", "invoice", ...).
    :param context_id: the object's id.
    :param event: what happened ("insert", "update", "paid", "overdue", ...).
    :param data: the payload's `data`; default the object as the API returns it now.
    :returns: the event, or None when no enabled endpoint subscribes to it.
    """
    from portal.services.job_queue import enqueue

    endpoints = subscribers(session, f"{context}.{event}")
    if not endpoints:
        return None
    session.flush()  # the snapshot reads the change itself
    data = data if data is not None else snapshot(session, context, context_id)
    earlier = _recorded(session).get((context, context_id, event))
    if earlier is not None and inspect(earlier).persistent:  # (not undone by a savepoint)
        # One event per object and transaction: the same transaction changed it again.
        earlier.data_json = dumps(data)
        session.flush()
        return earlier
    row = WebhookEvent(uuid=str(uuid.uuid4()), context=context, context_id=context_id,
                       event=event, data_json=dumps(data))
    session.add(row)
    session.flush()
    _recorded(session)[(context, context_id, event)] = row
    for endpoint in endpoints:
        delivery = WebhookDelivery(event_id=row.id, endpoint_id=endpoint.id, status="pending",
                                   attempts=0, next_attempt_at=row.created_at)
        session.add(delivery)
        session.flush()
        enqueue(JOB_KIND, {"delivery_id": delivery.id, "attempt": 1})
    return row

"""Webhooks: the merchant's endpoints, the events outbox and one delivery per endpoint."""
from __future__ import annotations

from datetime import datetime

import simplejson
from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer,
                        String, Text, UniqueConstraint, true)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db_types import BigId, UTCDateTime, utcnow
from portal.extensions import db
from portal.models.catalog import in_list

DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookEndpoint(db.Model):
    """A URL that receives the events it subscribes to (`events`: "customer.insert", ...,
    "customer.*" or "*"), signed with its own `secret`; created in the portal or as a
    ChargeOver Rest Hook through the API."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    secret: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookEvent(db.Model):
    """One thing that happened (the outbox): written in the transaction of the change,
    with the object as the API showed it then (`data`). `uuid` is the id receivers de-duplicate on."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("uuid"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    context: Mapped[str] = mapped_column(String(40))
    context_id: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(40))
    # The payload's `data` as exact JSON text (money stays exact: simplejson, decimals).
    data_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def data(self) -> dict:
        """The payload's `data` (decimals read back exact)."""
        return simplejson.loads(self.data_json, use_decimal=True)


class WebhookDelivery(db.Model):
    """An event on its way to one endpoint: attempts, the last answer, the next try."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(in_list("status", DELIVERY_STATUSES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_endpoint_id", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_code: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    event: Mapped[WebhookEvent] = relationship(lazy="joined")
    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined")

"""Webhook endpoints: the merchant's receivers (portal) and ChargeOver Rest Hooks (API)."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from sqlalchemy import func, select

from portal.billing.errors import ValidationError
from portal.extensions import db
from portal.models import WebhookDelivery, WebhookEndpoint
from portal.services.events import EVENT_NAMES, EVENTS
from portal.services.outbound import check_saved_host

MAX_URL = 2000


def new_secret() -> str:
    """A fresh signing secret (the receiver's security token)."""
    return "whsec_" + secrets.token_urlsafe(24)


def check_url(url: str | None, field: str = "url") -> str:
    """An absolute http(s) URL, at most 2000 characters, to a public host (`outbound`)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(field, "must be an http:// or https:// URL")
    if len(url) > MAX_URL:
        raise ValidationError(field, f"must be at most {MAX_URL} characters")
    check_saved_host(url, field)
    return url


def check_events(events, field: str = "events") -> list[str]:
    """Event names ("invoice.paid"), whole contexts ("invoice.*") or "*"; at least one."""
    names = [e.strip() for e in (events or []) if isinstance(e, str) and e.strip()]
    if not names or len(names) != len(events or []):
        raise ValidationError(field, "must name at least one event, e.g. invoice.paid")
    allowed = {"*", *EVENT_NAMES, *(f"{context}.*" for context in EVENTS)}
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValidationError(field, f"unknown event '{unknown[0]}' (known: {', '.join(EVENT_NAMES)})")
    return list(dict.fromkeys(names))


def create_endpoint(*, url: str, events, enabled: bool = True, description: str | None = None,
                    url_field: str = "url", events_field: str = "events") -> WebhookEndpoint:
    """Add an endpoint with a new secret; flushes."""
    endpoint = WebhookEndpoint(url=check_url(url, url_field), events=check_events(events, events_field),
                               enabled=bool(enabled), secret=new_secret(),
                               description=(description or "").strip()[:255] or None)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def update_endpoint(endpoint: WebhookEndpoint, *, url_field: str = "url",
                    events_field: str = "events", **fields) -> WebhookEndpoint:
    """Change url, events, enabled or description (those given); flushes."""
    unknown = set(fields) - {"url", "events", "enabled", "description"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a webhook endpoint field")
    if "url" in fields:
        endpoint.url = check_url(fields["url"], url_field)
    if "events" in fields:
        endpoint.events = check_events(fields["events"], events_field)
    if "enabled" in fields:
        endpoint.enabled = bool(fields["enabled"])
    if "description" in fields:
        endpoint.description = (fields["description"] or "").strip()[:255] or None
    db.session.flush()
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret (the old one stops verifying at once); flushes."""
    endpoint.secret = new_secret()
    db.session.flush()
    return endpoint.secret


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint and its delivery log (pending deliveries are dropped)."""
    db.session.delete(endpoint)
    db.session.flush()


def all_endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def delivery_counts() -> dict[int, dict[str, int]]:
    """Per endpoint: how many deliveries are pending, delivered and failed."""
    rows = db.session.execute(select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
                              .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status))
    counts: dict[int, dict[str, int]] = {}
    for endpoint_id, status, n in rows:
        counts.setdefault(endpoint_id, {"pending": 0, "delivered": 0, "failed": 0})[status] = n
    return counts


def recent_deliveries(endpoint_id: int | None = None, status: str | None = None,
                      limit: int = 100) -> list[WebhookDelivery]:
    """The delivery log, newest first (optionally one endpoint's, one status)."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    return list(db.session.scalars(query))

"""`_resthook`: ChargeOver's Rest Hooks — subscribe a target URL to an event, unsubscribe.

POST /api/v3/_resthook {"target_url": "...", "event": "invoice.paid"} subscribes (201 with
the id); DELETE /api/v3/_resthook/N unsubscribes. A hook is a webhook endpoint like those
of the merchant portal: same events, payload, signature and delivery log.
"""
from __future__ import annotations

from portal.api.body import get_bool, get_str
from portal.api.envelope import ApiError
from portal.api.format import dt
from portal.api.query import Field, as_int, as_text
from portal.api.registry import Resource, register
from portal.models import WebhookEndpoint
from portal.services.webhook_endpoints import create_endpoint, delete_endpoint, update_endpoint

FIELDS = {
    "resthook_id": Field(WebhookEndpoint.id, as_int),
    "target_url": Field(WebhookEndpoint.url, as_text),
}


def serialize(endpoint: WebhookEndpoint) -> dict:
    """A webhook endpoint as a Rest Hook (with its secret: the payload's security_token)."""
    return {
        "resthook_id": endpoint.id, "target_url": endpoint.url,
        "event": ",".join(endpoint.events), "events": list(endpoint.events),
        "enabled": endpoint.enabled, "description": endpoint.description,
        "security_token": endpoint.secret, "write_datetime": dt(endpoint.created_at),
    }


def _events(data: dict, required: bool) -> list[str] | None:
    """`events` (a list) or ChargeOver's `event` ("invoice.paid", or several, comma-separated)."""
    if "events" in data:
        events = data["events"]
        if not isinstance(events, list):
            raise ApiError(400, "events: must be a list of event names", {"field": "events"})
        return events
    event = get_str(data, "event", required=required, max_length=2000)
    return None if event is None else [e.strip() for e in event.split(",")]


def _fields(data: dict, required: bool) -> dict:
    fields = {}
    url = get_str(data, "target_url", required=required, max_length=2000)
    if url is not None:
        fields["url"] = url
    events = _events(data, required)
    if events is not None:
        fields["events"] = events
    if get_bool(data, "enabled") is not None:
        fields["enabled"] = get_bool(data, "enabled")
    if "description" in data:
        fields["description"] = get_str(data, "description")
    return fields


def create(data: dict) -> WebhookEndpoint:
    """POST /_resthook: subscribe `target_url` to `event`."""
    field = "events" if "events" in data else "event"
    return create_endpoint(**_fields(data, required=True), url_field="target_url", events_field=field)


def update(endpoint: WebhookEndpoint, data: dict) -> None:
    """PUT /_resthook/N: change the target, events or enabled."""
    field = "events" if "events" in data else "event"
    update_endpoint(endpoint, **_fields(data, required=False), url_field="target_url", events_field=field)


register(Resource(
    name="_resthook", model=WebhookEndpoint, id_field="resthook_id", fields=FIELDS,
    serialize=serialize, create=create, update=update, delete=delete_endpoint,
))

"""The API's objects as data: one `Resource` per ChargeOver object, looked up by name."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any
from collections.abc import Callable

from sqlalchemy import Select, select

from portal.services.events import EVENTS, register_snapshot

from portal.api.query import Field


@dataclass(frozen=True)
class Resource:
    """How the generic routes list, read, create, update, delete and act on one object.

    `create(data)` returns the new model; `update(obj, data)` changes it; `delete(obj)`
    removes it or raises; each action `fn(obj, data)` returns the envelope's `response`.
    Collection actions (`/usage/_action/bulk`) take `(data)` only.
    """

    name: str
    model: type
    id_field: str
    fields: dict[str, Field]
    serialize: Callable[[Any], dict]
    create: Callable[[dict], Any] | None = None
    update: Callable[[Any, dict], Any] | None = None
    delete: Callable[[Any], None] | None = None
    actions: dict[str, Callable[[Any, dict], Any]] = field(default_factory=dict)
    collection_actions: dict[str, Callable[[], Any]] = field(default_factory=dict)
    query: Callable[[], Select] | None = None
    by_token: Callable[[str], Any] | None = None

    def base_query(self) -> Select:
        """SELECT of the model (with the resource's eager loads, if any)."""
        return self.query() if self.query else select(self.model)


RESOURCES: dict[str, Resource] = {}


def register(resource: Resource) -> Resource:
    """Add `resource` to the API under its name."""
    RESOURCES[resource.name] = resource
    if resource.name in EVENTS:  # webhook events show the object as the API does
        register_snapshot(resource.name, partial(_snapshot, resource))
    return resource


def _snapshot(resource: Resource, session, object_id: int) -> dict | None:
    """The object as GET /<obj>/<id> returns it (None when it does not exist)."""
    found = session.scalar(resource.base_query().where(resource.model.id == object_id))
    return None if found is None else resource.serialize(found)

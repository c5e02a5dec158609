"""Generic routes of /api/v3: every object is served by its `Resource`."""
from __future__ import annotations

from flask import request
from sqlalchemy import func, select

from portal.api import bp
from portal.api.body import json_body
from portal.api.envelope import ApiError, accepted, created, respond
from portal.api.query import filtered, integer_limit, paged
from portal.api.registry import RESOURCES, Resource
from portal.api.unsupported import refuse_unsupported
from portal.extensions import db
from portal.web import body_limit


def resource_for(obj: str) -> Resource:
    """The resource named in the URL, or a 400 (ChargeOver's answer to unknown endpoints)."""
    if obj not in RESOURCES:
        refuse_unsupported(obj)
        raise ApiError(400, f"Unknown object '{obj}'.", {"object": obj})
    return RESOURCES[obj]


def load(resource: Resource, object_id: int):
    """The object with this id, or a 404 phrased as ChargeOver's."""
    column = resource.model.id
    # Ids beyond the column's integer type exist nowhere; asking the database would fail.
    in_range = 0 < object_id <= integer_limit(column)
    found = db.session.scalar(resource.base_query().where(column == object_id)) if in_range else None
    if found is None:
        raise ApiError(404, f"This {resource.name} does not exist.")
    return found


@bp.get("/<obj>")
def list_objects(obj: str):
    """List objects, filtered by `where`, sorted by `order`, paged by `offset`/`limit`."""
    resource = resource_for(obj)
    stmt = filtered(resource.base_query(), resource.fields)
    stmt = paged(stmt, resource.fields, resource.model.id.asc())
    return respond(200, [resource.serialize(o) for o in db.session.scalars(stmt).unique()])


@bp.get("/<obj>/_count")
def count_objects(obj: str):
    """How many objects match `where`."""
    resource = resource_for(obj)
    stmt = select(func.count()).select_from(resource.model)
    scope = resource.base_query().whereclause  # e.g. invoices without credit notes
    if scope is not None:
        stmt = stmt.where(scope)
    return respond(200, db.session.scalar(filtered(stmt, resource.fields)))


@bp.get("/<obj>/token:<token>")
def get_by_token(obj: str, token: str):
    """One object by its token (ChargeOver's findByToken)."""
    resource = resource_for(obj)
    if resource.by_token is None:
        raise ApiError(400, f"A {obj} has no token to look it up by.", {"field": "token"})
    found = resource.by_token(token)
    if found is None:
        raise ApiError(404, f"This {resource.name} does not exist.")
    return respond(200, resource.serialize(found))


@bp.get("/<obj>/<bigid:object_id>")
def get_object(obj: str, object_id: int):
    """One object by id."""
    resource = resource_for(obj)
    return respond(200, resource.serialize(load(resource, object_id)))


@bp.post("/<obj>")
def create_object(obj: str):
    """Create an object: 201 {"id": N} with its Location."""
    resource = resource_for(obj)
    if request.args.get("action"):  # ChargeOver's POST /<obj>?action=<name> (no id)
        return collection_action(obj, request.args["action"])
    if resource.create is None:
        raise ApiError(400, f"A {obj} cannot be created through the API.")
    new = resource.create(json_body())
    db.session.commit()
    return created(obj, new.id)


@bp.put("/<obj>/<bigid:object_id>")
def update_object(obj: str, object_id: int):
    """Update an object: 202 {"id": N}."""
    resource = resource_for(obj)
    if resource.update is None:
        raise ApiError(400, f"A {obj} cannot be updated through the API.")
    resource.update(load(resource, object_id), json_body(required=True))
    db.session.commit()
    return accepted(obj, object_id)


@bp.delete("/<obj>/<bigid:object_id>")
def delete_object(obj: str, object_id: int):
    """Delete an object (refused with the reason when it is in use)."""
    resource = resource_for(obj)
    if resource.delete is None:
        raise ApiError(400, f"A {obj} cannot be deleted.")
    resource.delete(load(resource, object_id))
    db.session.commit()
    return respond(200, True)


@bp.post("/<obj>/<bigid:object_id>")
def legacy_action(obj: str, object_id: int):
    """ChargeOver's older action form: POST /<obj>/<id>?action=<name>."""
    name = request.args.get("action")
    if not name:
        raise ApiError(400, "action: the ?action= parameter is required", {"field": "action"})
    return run_action(obj, object_id, name)


@bp.post("/<obj>/<bigid:object_id>/_action/<name>")
def object_action(obj: str, object_id: int, name: str):
    """Run an action on one object."""
    return run_action(obj, object_id, name)


@bp.post("/<obj>/_action/<name>")
@body_limit("CSV_MAX_CONTENT_LENGTH")  # the CSV import streams; JSON bodies stay capped (json_body)
def collection_action(obj: str, name: str):
    """Run an action on a whole collection (e.g. usage bulk and CSV import)."""
    resource = resource_for(obj)
    if name not in resource.collection_actions:
        raise ApiError(400, f"action: unknown action '{name}' for {obj}", {"field": "action"})
    return resource.collection_actions[name]()


def run_action(obj: str, object_id: int, name: str):
    """Dispatch `name` through the resource's action table; commits once."""
    resource = resource_for(obj)
    if name not in resource.actions:
        known = ", ".join(sorted(resource.actions)) or "none"
        raise ApiError(400, f"action: unknown action '{name}' for {obj} (actions: {known})",
                       {"field": "action"})
    result = resource.actions[name](load(resource, object_id), json_body())
    db.session.commit()
    return respond(200, result)


from portal.api import bulk  # noqa: E402,F401  (registers POST /_bulk)

"""`GET /api/v3/openapi.json`: the OpenAPI 3.1 document of the API (public, no key).

Paths are generated from the Resource registry and the URL map: every object gets its
list, _count, get, create, update and delete operations (those it does not support are
listed too, answering 400 as ChargeOver does), one operation per action in both forms, and its collection
actions; `where`/`order` name the object's queryable fields. Object and body schemas are
the hand-written ones of `openapi_schemas`; an object or action without one is described
generically, so nothing registered is ever missing.
"""
from __future__ import annotations

import sys

from flask import current_app, jsonify
from werkzeug.exceptions import HTTPException

from portal.api import bp
from portal.api import bulk as bulk_module
from portal.api.exports import export_path
from portal.api.openapi_schemas import (
    ACTION_SCHEMAS, COLLECTION_SCHEMAS, CREATE_REPLAYS, OBJECT_SCHEMAS, obj, ref, schemas,
)
from portal.api.query import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT, OPERATORS
from portal.api.registry import RESOURCES, Resource

PREFIX = "/api/v3"
API_VERSION = "3.0"
JSON = "application/json"
ERRORS = {
    400: ("BadRequest", "Bad input: malformed JSON, a missing field, a wrong type or value, "
                        "a ChargeOver field Meterbill does not store (`details.field` names the "
                        "field); also an unknown endpoint, method or action, and an object "
                        "Meterbill does not have (`details.object`), as ChargeOver documents."),
    401: ("Unauthorized", "Missing, unknown or revoked API key (HTTP Basic: public key as the "
                          "user name, private key as the password; or ChargeOver's signature "
                          "mode), with a `WWW-Authenticate: Basic` challenge."),
    404: ("NotFound", "No object with this id (`response` is null)."),
    409: ("Conflict", "The change conflicts with existing data: a duplicate external_key, a "
                      "usage external_key reused with other content, a record in use."),
    413: ("PayloadTooLarge", "The body is too large."),
    415: ("UnsupportedMediaType", "The body's Content-Type is not accepted here."),
    429: ("TooManyRequests", "Rate limit exceeded; retry later."),
}
READ_ERRORS, WRITE_ERRORS = (401, 429), (400, 401, 409, 413, 429)
ENVELOPE_FIELDS = ("code", "status", "message", "details", "response")


def envelope_schema(code: int, response: dict, details: dict | None = None) -> dict:
    """The envelope of a success with HTTP status `code` and this `response`."""
    return obj({"code": {"type": "integer", "const": code}, "status": {"const": "OK"},
                "message": {"type": "string"}, "details": details or {"type": "object"},
                "response": response}, ENVELOPE_FIELDS)


def success(code: int, response: dict, description: str, location: bool = False,
            details: dict | None = None) -> dict:
    answer = {"description": description,
              "content": {JSON: {"schema": envelope_schema(code, response, details)}}}
    if location:
        answer["headers"] = {"Location": {"description": "URL of the object",
                                          "schema": {"type": "string"}}}
    return answer


def with_errors(responses: dict, codes) -> dict:
    return {**responses, **{str(c): {"$ref": f"#/components/responses/{ERRORS[c][0]}"}
                            for c in codes}}


def doc(fn) -> str:
    """The first paragraph of a function's docstring (the code's own description)."""
    text = (getattr(fn, "__doc__", None) or "").strip()
    return " ".join(text.split("\n\n")[0].split())


def tag_description(resource: Resource) -> str:
    module = sys.modules.get(resource.serialize.__module__)
    return doc(module) if module else ""


def endpoint_for(path: str, method: str) -> str | None:
    """The endpoint that serves `method path` (None when nothing does)."""
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(path, method=method)
    except HTTPException:
        return None
    return endpoint


def id_parameter(resource: Resource) -> dict:
    return {"name": resource.id_field, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID, "format": "int64"},
            "description": f"The {resource.name}'s id.", "example": 1}


def list_parameters(resource: Resource) -> list[dict]:
    names = ", ".join(resource.fields)
    first = next(iter(resource.fields))
    return [
        {"name": "where", "in": "query", "required": False, "schema": {"type": "string"},
         "description": f"Conditions `field:OPERATOR:value`, comma-separated (AND; `\\,` is a "
                        f"literal comma). Operators: {', '.join(OPERATORS)}, plus `field:IS:NULL`"
                        f" and `field:ISNOT:NULL`. Fields: {names}.",
         "example": f"{first}:GT:0", "x-fields": list(resource.fields)},
        {"name": "order", "in": "query", "required": False, "schema": {"type": "string"},
         "description": f"`field:ASC` or `field:DESC`, comma-separated. Fields: {names}.",
         "example": f"{first}:DESC"},
        {"name": "offset", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID, "default": 0}},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
    ]


def unsupported(resource: Resource, what: str, with_id: bool) -> dict:
    """An operation the object does not support: it answers 400, as ChargeOver does."""
    operation = {"summary": f"Not supported: a {resource.name} cannot be {what} (400)",
                 "x-unsupported": True, "responses": with_errors({}, (400, 401, 429))}
    if with_id:
        operation["parameters"] = [id_parameter(resource)]
        operation["responses"] = with_errors({}, (400, 401, 404, 429))  # 404: not an id
    return operation


def body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {JSON: {"schema": schema}}}


def object_paths(resource: Resource, names: tuple) -> dict:
    """List, _count, get, create, update and delete of one object."""
    name, (shown, create, update) = resource.name, names
    item = ref(shown) if shown else {"type": "object"}
    base, one = f"/{name}", f"/{name}/{{{resource.id_field}}}"
    paths = {base: {"get": {
        "operationId": f"list_{name}", "summary": f"List {name} objects",
        "parameters": list_parameters(resource),
        "responses": with_errors({"200": success(200, {"type": "array", "items": item},
                                                 "The matching objects, in order")},
                                 (400, *READ_ERRORS))}}}
    paths[f"{base}/_count"] = {"get": {
        "operationId": f"count_{name}", "summary": f"Count {name} objects matching `where`",
        "parameters": list_parameters(resource)[:1],
        "responses": with_errors({"200": success(200, {"type": "integer", "minimum": 0},
                                                 "The number of matching objects")},
                                 (400, *READ_ERRORS))}}
    paths[one] = {"get": {
        "operationId": f"get_{name}", "summary": f"Get one {name}",
        "parameters": [id_parameter(resource)],
        "responses": with_errors({"200": success(200, item, f"The {name}")}, (404, *READ_ERRORS))}}
    creator = endpoint_for(f"{PREFIX}{base}", "POST")
    if resource.create is None and creator in (None, "api.create_object"):
        paths[base]["post"] = unsupported(resource, "created", False)
    else:
        view = current_app.view_functions.get(creator) if creator != "api.create_object" else None
        created = {"201": success(201, ref("Id"), "Created", location=True)}
        if name in CREATE_REPLAYS:  # an idempotent retry answers 200 with the original id
            created["200"] = success(200, ref("Id"), CREATE_REPLAYS[name], location=True)
        paths[base]["post"] = {
            "operationId": f"create_{name}", "summary": f"Create a {name}",
            "description": doc(view or resource.create),
            "requestBody": body(ref(create) if create else {"type": "object"}),
            "responses": with_errors(created, WRITE_ERRORS)}
    if resource.update is None:
        paths[one]["put"] = unsupported(resource, "updated", True)
    else:
        paths[one]["put"] = {
            "operationId": f"update_{name}", "summary": f"Update a {name} (the fields given)",
            "description": doc(resource.update), "parameters": [id_parameter(resource)],
            "requestBody": body(ref(update) if update else {"type": "object"}),
            "responses": with_errors({"202": success(202, ref("Id"), "Updated", location=True)},
                                     (404, *WRITE_ERRORS))}
    if resource.delete is None:
        paths[one]["delete"] = unsupported(resource, "deleted", True)
    else:
        paths[one]["delete"] = {
            "operationId": f"delete_{name}", "summary": f"Delete a {name}",
            "description": doc(resource.delete), "parameters": [id_parameter(resource)],
            "responses": with_errors({"200": success(200, {"const": True}, "Deleted")},
                                     (400, 404, 409, *READ_ERRORS))}
    return paths


def action_spec(resource: Resource, action: str) -> tuple[dict, dict, str]:
    """(payload schema, response schema, description) of an object action."""
    payload, answer, text = ACTION_SCHEMAS.get(
        (resource.name, action), (None, {}, doc(resource.actions[action])))
    return (ref(payload) if payload else {"type": "object"}), answer, text


def action_paths(resource: Resource) -> dict:
    """`/<obj>/{id}/_action/<name>` per action, and the older `POST /<obj>/{id}?action=`."""
    if not resource.actions:
        return {}
    name, paths = resource.name, {}
    specs = {action: action_spec(resource, action) for action in resource.actions}
    for action, (payload, answer, text) in specs.items():
        paths[f"/{name}/{{{resource.id_field}}}/_action/{action}"] = {"post": {
            "operationId": f"{name}_{action}", "summary": f"Action {action}: {text}",
            "parameters": [id_parameter(resource)], "requestBody": body(payload, required=False),
            "responses": with_errors({"200": success(200, answer, "Done")}, (404, *WRITE_ERRORS))}}
    payloads = list({str(p): p for p, _, _ in specs.values()}.values())
    answers = list({str(a): a for _, a, _ in specs.values()}.values())
    legacy = {"operationId": f"{name}_action", "summary": "Run an action (ChargeOver's older "
              f"form of /{name}/{{id}}/_action/<name>)",
              "parameters": [id_parameter(resource), {
                  "name": "action", "in": "query", "required": True,
                  "schema": {"type": "string", "enum": list(resource.actions)}}],
              "requestBody": body({"anyOf": payloads} if len(payloads) > 1 else payloads[0],
                                  required=False),
              # An id beyond any column's range matches no route: 400, as ChargeOver answers.
              "responses": with_errors({"200": success(200, {"anyOf": answers} if len(answers) > 1
                                                       else answers[0], "Done")},
                                       (404, *WRITE_ERRORS))}
    return {**paths, f"/{name}/{{{resource.id_field}}}": {"post": legacy}}


def collection_paths(resource: Resource) -> dict:
    paths = {}
    for action, fn in resource.collection_actions.items():
        spec = COLLECTION_SCHEMAS.get((resource.name, action), {
            "summary": doc(fn), "content": {JSON: {"schema": {}}}, "parameters": [],
            "response": {}, "details": {"type": "object"}})
        errors = (*WRITE_ERRORS, 415) if any(m != JSON for m in spec["content"]) else WRITE_ERRORS
        code = spec.get("code", 200)
        paths[f"/{resource.name}/_action/{action}"] = {"post": {
            "operationId": f"{resource.name}_{action}", "summary": spec["summary"],
            "description": doc(fn), "parameters": spec["parameters"],
            "requestBody": {"required": True, "content": spec["content"]},
            "responses": with_errors({str(code): success(
                code, spec["response"], "Done" if code == 200 else "Accepted",
                location=code == 202, details=spec["details"])},
                errors)}}
    return paths


def bulk_path() -> dict:
    """`POST /_bulk`, described from its view (nothing when the route is absent)."""
    view = current_app.view_functions.get(endpoint_for(f"{PREFIX}/_bulk", "POST"))
    if view is None:
        return {}
    limit = getattr(bulk_module, "MAX_REQUESTS", 100)
    result = obj({"code": {"type": "integer"}, "status": {"enum": ["OK", "Error"]},
                  "message": {"type": "string"}, "details": {"type": "object"}, "response": {}},
                 ["code", "status", "message", "response"])
    return {"/_bulk": {"post": {
        "operationId": "bulk", "tags": ["_bulk"],
        "summary": f"Run up to {limit} API requests in one call, answered in order",
        "description": doc(view) + " Each entry runs as a request of its own (authenticated "
                                   "with the caller's key); the batch is not atomic.",
        "requestBody": body({"type": "array", "minItems": 1, "maxItems": limit,
                             "items": ref("BulkRequest")}),
        "responses": with_errors({"200": success(200, obj(
            {"_bulk": {"type": "array", "items": result}}, ["_bulk"]),
            "Every entry's own envelope, at response._bulk")}, (400, 401, 413, 429))}}}


def error_components() -> dict:
    error = obj({"code": {"type": "integer"}, "status": {"const": "Error"},
                 "message": {"type": "string"},
                 "details": obj({"field": {"type": "string"}}),
                 "response": {"enum": [False, None]}}, ENVELOPE_FIELDS)
    responses = {name: {"description": text, "content": {JSON: {"schema": ref("Error")}}}
                 for name, text in ERRORS.values()}
    return error, responses


def build_document() -> dict:
    """The whole document, from the registry as it is now."""
    paths: dict = {}
    tags = []
    for name, resource in RESOURCES.items():
        names = OBJECT_SCHEMAS.get(name, (None, None, None))
        for group in (object_paths(resource, names), action_paths(resource),
                      collection_paths(resource)):
            for path, operations in group.items():
                for operation in operations.values():
                    operation.setdefault("tags", [name])
                paths.setdefault(path, {}).update(operations)
        tags.append({"name": name, "description": tag_description(resource)})
    paths.update(bulk_path())
    paths.update(export_path())
    paths["/openapi.json"] = {"get": {
        "operationId": "openapi_document", "tags": ["meta"], "security": [],
        "summary": "This document (public)",
        "responses": {"200": {"description": "The OpenAPI document",
                              "content": {JSON: {"schema": {"type": "object"}}}}}}}
    error, responses = error_components()
    return {
        "openapi": "3.1.0",
        "info": {"title": "Meterbill API (ChargeOver-compatible)", "version": API_VERSION,
                 "description": DESCRIPTION},
        "servers": [{"url": PREFIX}],
        "security": [{"basicAuth": []}],
        "tags": [*tags, {"name": "_bulk", "description": "Several requests in one call."},
                 {"name": "meta", "description": "This document."}],
        "paths": paths,
        "components": {
            "schemas": {**schemas(), "Error": error},
            "responses": responses,
            "securitySchemes": {"basicAuth": {
                "type": "http", "scheme": "basic",
                "description": "User name = the API key's public key, password = its private "
                               "key (made in the merchant portal or with `flask apikeys "
                               "create NAME`)."}},
        },
    }


DESCRIPTION = (
    "ChargeOver's REST API v3, served by Meterbill. Every answer is JSON in the envelope "
    "`{\"code\", \"status\", \"message\", \"details\", \"response\"}`: `code` is the HTTP "
    "status, `status` is \"OK\" or \"Error\". Errors carry a human message, `details.field` "
    "for bad input and `response` false (null for a 404). Money and quantities are exact "
    "JSON numbers; inputs also take decimal strings. Date-times are \"YYYY-MM-DD HH:MM:SS\" "
    "in the merchant's time zone. Unknown fields are ignored; wrong types are 400."
)


@bp.get("/openapi.json", endpoint="openapi_document")
def openapi_document():
    """The OpenAPI document (public: listed in auth.PUBLIC_ENDPOINTS)."""
    return jsonify(build_document())

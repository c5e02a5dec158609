"""`GET /api/docs`: the API reference as a plain HTML page, rendered from the OpenAPI document.

Everything about objects, routes and fields is read from `openapi.build_document()`, so
the page and `/api/v3/openapi.json` never disagree; only the walkthrough is written here.
"""
from __future__ import annotations

import json
import re

from flask import Blueprint, render_template
from markupsafe import Markup, escape

from portal.api import openapi  # noqa: F401  (also registers GET /api/v3/openapi.json)
from portal.api.query import DEFAULT_LIMIT, MAX_LIMIT, OPERATORS

bp = Blueprint("api_docs", __name__)

METHODS = ("get", "post", "put", "delete")
OPERATOR_MEANINGS = {
    "EQUALS": "equal to", "NOTEQUALS": "not equal to", "GT": "greater than",
    "LT": "less than", "GTE": "greater than or equal to", "LTE": "less than or equal to",
    "CONTAINS": "contains the text (case-insensitive)",
}

# ChargeOver's VoIP example: $10 a month plus $0.05 a minute, billed in arrears.
WALKTHROUGH = [
    ("Create the metered item", "POST", "/api/v3/item",
     {"name": "VoIP minutes", "external_key": "voip-minutes", "is_metered": True,
      "units": "minute", "pricemodel": {"pricemodel": "uni", "base": "10.00", "paycycle": "mon",
                                        "tiers": [{"unit_from": 0, "amount": "0.05"}]}},
     '201 {"code": 201, "status": "OK", "message": "", "details": {}, "response": {"id": 1}}'),
    ("Create the customer", "POST", "/api/v3/customer",
     {"company": "Acme Telephony", "external_key": "acme", "superuser_email": "jane@acme.example",
      "superuser_first_name": "Jane", "superuser_last_name": "Doe"},
     '201 {"response": {"id": 1}, ...}'),
    ("Subscribe it: a package with one line", "POST", "/api/v3/package",
     {"customer_id": 1, "paycycle": "mon", "start_datetime": "2015-09-01",
      "line_items": [{"item_id": 1, "external_key": "acme-voip"}]},
     '201 {"response": {"id": 1}, ...}  (GET /api/v3/package/1 shows line_item_id)'),
    ("Post usage (idempotent with external_key)", "POST", "/api/v3/usage",
     {"line_item_id": 1, "usage_value": 42, "from": "2015-09-15 00:00:00",
      "to": "2015-09-15 23:59:59", "external_key": "call-0001"},
     '201 {"response": {"id": 1}, ...}; the same retry answers 200 with the same id'),
    ("Or many at once", "POST", "/api/v3/usage/_action/bulk",
     [{"line_item_external_key": "acme-voip", "usage_value": "12.5", "from": "2015-09-16"},
      {"line_item_id": 1, "usage_value": 3, "from": "2015-09-17 08:00:00"}],
     '200 {"response": [{"code": 201, "id": 2, ...}, {"code": 201, "id": 3, ...}], '
     '"details": {"stored": 2, "duplicates": 0, "errors": 0}}'),
    ("Bill what is due now (every billing date since the start, each invoice once)", "POST",
     "/api/v3/package/1/_action/invoice", {},
     '200 {"response": {"id": 1, "invoice_ids": [1, 2, ...]}, ...}'),
    ("Read October's invoice: the month's $10 and September's 57.5 minutes", "GET",
     "/api/v3/invoice/2", None,
     '200 {"response": {"invoice_id": 2, "date": "2015-10-01", "sum_base": 10.00, '
     '"sum_usage": 2.88, "total": 12.88, "line_items": [...], ...}, ...}'),
]


def inline_code(text: str) -> Markup:
    """Escaped text with its `backquoted` parts as <code> (the document's only markdown)."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text or ""))))


def type_label(schema: dict) -> str:
    """A short readable type: "string", "integer or null", "Tierset[]", "add | max | lat"."""
    if not isinstance(schema, dict) or not schema:
        return "any"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        plain = all(isinstance(v, str) for v in schema["enum"])
        return " | ".join(v if plain else json.dumps(v) for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(dict.fromkeys(type_label(s) for s in schema[key]))
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "array" in kinds and "items" in schema:
        kinds = [f"{type_label(schema['items'])}[]" if k == "array" else k for k in kinds]
    return " or ".join(kinds)


def _ref_name(schema: dict) -> str:
    """The component a schema (or its items) refers to, or ""."""
    target = schema.get("$ref") or schema.get("items", {}).get("$ref", "")
    return target.rsplit("/", 1)[-1]


def fields(schema: dict, components: dict) -> list[dict]:
    """The properties of an object schema as rows: name, type, required, description."""
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[1], {})
    required = set(schema.get("required", ()))
    return [{"name": name, "type": type_label(prop), "required": name in required,
             "description": prop.get("description", ""),
             "link": _ref_name(prop)}
            for name, prop in schema.get("properties", {}).items()]


def operations(document: dict) -> dict[str, list[dict]]:
    """Operations grouped by tag, in document order."""
    groups: dict[str, list[dict]] = {}
    components = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            request = op.get("requestBody", {}).get("content", {})
            media, content = next(iter(request.items()), (None, {}))
            answer = next((r for code, r in op["responses"].items() if code.startswith("2")), {})
            answer_schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            groups.setdefault(op.get("tags", ["other"])[0], []).append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "unsupported": op.get("x-unsupported"),
                "parameters": op.get("parameters", []), "media": media,
                "body": type_label(content.get("schema", {})) if media else None,
                "body_link": _ref_name(content.get("schema", {})),
                "body_fields": fields(content.get("schema", {}), components) if media else [],
                "codes": sorted(op["responses"]),
                "answer": type_label(answer_schema.get("properties", {}).get("response", {})),
            })
    return groups


@bp.get("/api/docs")
def page():
    """The API reference (public)."""
    document = openapi.build_document()
    components = document["components"]["schemas"]
    objects = [{"name": tag["name"], "description": tag["description"],
                "operations": operations(document).get(tag["name"], [])}
               for tag in document["tags"]]
    schema_names = [n for n in components if n != "Error"]
    return render_template(
        "api_docs.html", document=document, objects=objects,
        schemas=[{"name": n, "description": components[n].get("description", ""),
                  "type": type_label(components[n]) if "properties" not in components[n] else "object",
                  "fields": fields(components[n], components)} for n in schema_names],
        errors=[(code, name, text) for code, (name, text) in openapi.ERRORS.items()],
        operators=[(op, OPERATOR_MEANINGS.get(op, "")) for op in OPERATORS],
        walkthrough=[(title, method, url, json.dumps(data, indent=2) if data is not None else None,
                      answer) for title, method, url, data, answer in WALKTHROUGH],
        default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT, md=inline_code)

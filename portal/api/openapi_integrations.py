"""JSON Schemas of the integration objects: Rest Hooks (webhooks) and usage alerts.

Merged into the document by `openapi_schemas` (kept apart so that file stays small).
"""
from __future__ import annotations

from portal.services.events import EVENT_NAMES, EVENTS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _null(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _obj(properties: dict, required=(), **extra) -> dict:
    schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    return schema


INT, BOOL, STR = {"type": "integer"}, {"type": "boolean"}, {"type": "string"}
EVENT_PATTERN = {"type": "string", "enum": ["*", *EVENT_NAMES, *(f"{c}.*" for c in EVENTS)]}
URL = {"type": "string", "maxLength": 2000, "examples": ["https://example.com/hooks/meterbill"]}

OBJECTS = {
    "Resthook": _obj({
        "resthook_id": INT, "target_url": STR,
        "event": {"type": "string", "description": "The events, comma-separated."},
        "events": {"type": "array", "items": STR}, "enabled": BOOL,
        "description": _null(STR),
        "security_token": {"type": "string", "description": "The endpoint's secret: the "
                           "payload's security_token, X-Meterbill-Security-Token, and the "
                           "key of X-Meterbill-Signature."},
        "write_datetime": _ref("DateTime"),
    }, ["resthook_id", "target_url", "event", "events", "enabled", "security_token"]),
    "UsageAlert": _obj({
        "usage_alert_id": INT, "package_id": INT, "customer_id": INT, "line_item_id": _null(INT),
        "metric": {"type": "string", "enum": ["quantity", "cost"]}, "threshold": _ref("Money"),
        "notify_merchant": BOOL, "notify_customer": BOOL, "enabled": BOOL,
        "fired_period_start": _null(_ref("DateTime")), "fired_datetime": _null(_ref("DateTime")),
        "fired_value": _null(_ref("Money")), "write_datetime": _ref("DateTime"),
    }, ["usage_alert_id", "package_id", "metric", "threshold", "enabled"],
        description="Notifies (e-mail, webhook usage_alert.crossed) once per period when the "
                    "current period's usage quantity or cost reaches threshold."),
}
_HOOK_IN = {
    "target_url": URL,
    "event": {"type": "string", "maxLength": 2000, "examples": ["invoice.paid"],
              "description": "One event (context_str.event), context.*, * or several "
                             "comma-separated; or give events."},
    "events": {"type": "array", "minItems": 1, "items": EVENT_PATTERN},
    "enabled": _ref("BoolInput"), "description": _null({"type": "string", "maxLength": 255}),
}
_ALERT_IN = {
    "line_item_id": _null(_ref("IdInput")),
    "metric": {"type": "string", "enum": ["quantity", "cost"],
               "description": "quantity: the period's aggregated usage; cost: its price."},
    "threshold": _ref("DecimalInput"), "notify_merchant": _ref("BoolInput"),
    "notify_customer": _ref("BoolInput"), "enabled": _ref("BoolInput"),
}
INPUTS = {
    "ResthookCreate": _obj(_HOOK_IN, ["target_url"],
                           description="Subscribe target_url to event (or events)."),
    "ResthookUpdate": _obj(_HOOK_IN),
    "UsageAlertCreate": _obj(_ALERT_IN | {"package_id": _ref("IdInput")}, ["package_id", "threshold"]),
    "UsageAlertUpdate": _obj(_ALERT_IN),
}
OBJECT_SCHEMAS = {"_resthook": ("Resthook", "ResthookCreate", "ResthookUpdate"),
                  "usage_alert": ("UsageAlert", "UsageAlertCreate", "UsageAlertUpdate")}
ACTION_SCHEMAS: dict = {}

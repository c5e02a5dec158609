"""`usage`: metered usage records, sent one by one, in bulk or as a CSV file.

The generic routes serve GET, lists and _count; a record cannot be changed or deleted
(400: billed usage is corrected by sending more usage). POST /usage has its own view,
because an idempotent retry answers 200 with the original id, not 201. Werkzeug ranks
the static rule `/usage` above `/<obj>`, so this view wins for POST.
"""
from __future__ import annotations

import io

from flask import g, has_request_context, request
from sqlalchemy import select

from portal.api import bp
from portal.api.body import get_bool, json_body
from portal.api.envelope import ApiError, accepted, respond
from portal.api.format import dt
from portal.api.query import Field
from portal.api.registry import Resource, register
from portal.api.resources.usage_keys import addressed
from portal.billing.errors import Conflict, TooLarge, ValidationError
from portal.billing.money import parse_usage_value
from portal.extensions import db
from portal.models import Item, LineItem, UsageRecord
from portal.services import merchant_tz
from portal.services.usage import Outcome, Result, ingest_batch, instant, record_usage, text_field
from portal.services import imports
from portal.services.links import external_url

MAX_BULK = 1000
MAX_ID = 2**63 - 1
CSV_TYPES = {"text/csv", "text/plain", "application/csv", "application/octet-stream",
             "application/vnd.ms-excel", ""}


def as_id(value: str, name: str) -> int:
    """A where-value for an id column (bounded: larger numbers match nothing anyway)."""
    if not value.isascii() or not value.isdigit() or int(value) > MAX_ID:
        raise ValidationError(name, f"'{value}' is not an id")
    return int(value)


def as_key(value: str, name: str) -> str:
    """A where-value for a text column (refuses NUL, which PostgreSQL cannot compare)."""
    return text_field(value, name) or ""


def as_value(value: str, name: str):
    """A where-value for usage_value: at most 6 decimals, as stored."""
    return parse_usage_value(value, name)


def as_instant(value: str, name: str):
    """A where-value for a date-time, in the merchant time zone unless it has an offset."""
    return instant(value, name, merchant_tz())


FIELDS = {
    "usage_id": Field(UsageRecord.id, as_id),
    "usage_history_id": Field(UsageRecord.id, as_id),
    "line_item_id": Field(UsageRecord.line_item_id, as_id),
    "usage_value": Field(UsageRecord.usage_value, as_value),
    "from": Field(UsageRecord.from_at, as_instant),
    "to": Field(UsageRecord.to_at, as_instant),
    "external_key": Field(UsageRecord.external_key, as_key),
    "source": Field(UsageRecord.source, as_key),
    "write_datetime": Field(UsageRecord.created_at, as_instant),
}


def _item_usage_type(line_id: int) -> str | None:
    """The aggregation of the line's item, cached for the request (lists repeat lines)."""
    cache = request.environ.setdefault("meterbill.usage_types", {}) if has_request_context() else {}
    if line_id not in cache:
        cache[line_id] = db.session.scalar(
            select(Item.usage_type).join(LineItem, LineItem.item_id == Item.id)
            .where(LineItem.id == line_id))
    return cache[line_id]


def serialize(record: UsageRecord) -> dict:
    """A usage record as ChargeOver's query returns it (id under both names)."""
    return {
        "usage_id": record.id,
        "usage_history_id": record.id,
        "line_item_id": record.line_item_id,
        "usage_value": record.usage_value,
        "type": record.usage_type or _item_usage_type(record.line_item_id),
        "from": dt(record.from_at),
        "to": dt(record.to_at),
        "external_key": record.external_key,
        "source": record.source,
        "write_datetime": dt(record.created_at),
    }


@bp.post("/usage")
def create_usage():
    """Store one record: 201 {"id": N}; a retry of the same key and content 200, same id."""
    data = json_body()
    if not db.session().in_transaction():
        # A new record is one statement (atomic by itself): no BEGIN/COMMIT round trips.
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    result = record_usage(addressed(data), source="api")
    record_id = result.record.id
    db.session.commit()
    location = external_url("api.get_object", obj="usage", object_id=record_id)
    return respond(201 if result.created else 200, {"id": record_id},
                   headers={"Location": location})


def bulk_records(data) -> list:
    """The records of a bulk body: a JSON array, or {"usage": [...]}."""
    if isinstance(data, dict):
        data = data.get("usage")
        if not isinstance(data, list):
            raise ApiError(400, "usage: must be an array of usage records", {"field": "usage"})
    if not data:
        raise ApiError(400, "A required parameter was missing: No usage records.",
                       {"field": "usage"})
    if len(data) > MAX_BULK:
        raise ApiError(400, f"usage: at most {MAX_BULK} records per call (got {len(data)})",
                       {"field": "usage"})
    return data


RESULT_CODES = {Result.CREATED: 201, Result.REPLAYED: 200, Result.INVALID: 400,
                Result.CONFLICT: 409}


def result_entry(outcome: Outcome) -> dict:
    """One record's result, shaped like an envelope: code, status, message, id, details."""
    code, error = RESULT_CODES[outcome.result], outcome.error
    if error is None:
        details = {}
    else:
        details = error.details() if isinstance(error, Conflict) else {"field": error.field}
    return {"code": code, "status": "OK" if code < 400 else "Error",
            "message": "" if error is None else str(error), "id": outcome.id, "details": details}


def bulk():
    """POST /usage/_action/bulk: up to 1000 records; one result per record, in order."""
    records, refused = [], {}
    for index, raw in enumerate(bulk_records(json_body(expect=(list, dict)))):
        try:
            records.append(addressed(raw))
        except ApiError as error:  # this record only: the others are still stored
            refused[index] = {"code": 400, "status": "Error", "message": error.message, "id": None,
                              "details": error.details}
    stored = iter(ingest_batch(records, source="bulk") if records else [])
    entries = [refused[i] if i in refused else result_entry(next(stored))
               for i in range(len(records) + len(refused))]
    db.session.commit()
    codes = [entry["code"] for entry in entries]
    counts = {"stored": codes.count(201), "duplicates": codes.count(200),
              "errors": len(codes) - codes.count(201) - codes.count(200)}
    return respond(200, entries, details=counts)


def import_csv():
    """POST /usage/_action/import: the text/csv body is stored and imported in the
    background; 202 {"id": N} with the Location of the import (its progress and errors)."""
    if request.mimetype not in CSV_TYPES:
        raise ApiError(415, f"Send the file as the request body with Content-Type: text/csv "
                            f"(not {request.mimetype}).")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ApiError(400, f"The file must be UTF-8 text (not {charset}).", {"field": "file"})
    dry_run = get_bool(request.args, "dry_run", False)
    try:
        # A signed request's body was read whole to check its signature (auth.py).
        stream = io.BytesIO(g.signed_body) if "signed_body" in g else request.stream
        csv_import = imports.save_stream(stream, "api-upload.csv",
                                         "uploaded" if dry_run else "running")
    except ValidationError as error:
        db.session.rollback()
        raise ApiError(413 if isinstance(error, TooLarge) else 400, error.message,
                       {"field": error.field}) from None
    (imports.start_validation if dry_run else imports.start_import)(csv_import.id)
    db.session.commit()
    return accepted("usage_import", csv_import.id)


register(Resource(
    name="usage", model=UsageRecord, id_field="usage_id", fields=FIELDS, serialize=serialize,
    collection_actions={"bulk": bulk, "import": import_csv},
))

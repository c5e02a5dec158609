"""/u/<token>: devices record usage with a signed URL (GET or POST), rate-limited per token."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from portal.billing.errors import Conflict, ValidationError
from portal.db_types import utcnow
from portal.extensions import csrf, db, limiter
from portal.services.usage import record_usage
from portal.services.usage_urls import resolve

bp = Blueprint("usage_urls", __name__)
REFUSED = {"ok": False, "error": "This usage URL is not valid."}


def _ping_limit() -> str:
    from flask import current_app

    return current_app.config.get("USAGE_URL_RATE_LIMIT", "60 per minute")


def _token_key() -> str:
    return "usage-url:" + (request.view_args or {}).get("token", "")


def _fields() -> dict:
    """value/from/to/external_key from the query string, a form or a JSON body."""
    data = dict(request.args)
    if request.method == "POST":
        body = request.get_json(silent=True) if request.is_json else request.form
        data.update(body if isinstance(body, dict) else {})
    value = data.get("value", data.get("usage_value"))
    return {"usage_value": value if value is not None else None, "from": data.get("from"),
            "to": data.get("to"), "external_key": data.get("external_key")}


@bp.route("/u/<token>", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(_ping_limit, key_func=_token_key)
def ping(token: str):
    """Record one usage value for the line this URL belongs to."""
    usage_url = resolve(token)
    if usage_url is None:
        return jsonify(REFUSED), 403
    raw = {"line_item_id": usage_url.line_item_id, **_fields()}
    try:
        result = record_usage(raw, source="url")
    except ValidationError as error:
        db.session.rollback()
        return jsonify(ok=False, error=str(error), field=error.field), 400
    except Conflict as conflict:
        db.session.rollback()
        return jsonify(ok=False, error=str(conflict), field="external_key"), 409
    usage_url.last_used_at = utcnow()
    record = result.record
    db.session.commit()
    return jsonify(ok=True, id=record.id, created=result.created,
                   usage_value=str(record.usage_value)), 201 if result.created else 200


@bp.errorhandler(429)
def too_many(error):
    """Rate limit answer a device can log; Flask-Limiter adds Retry-After."""
    response = jsonify(ok=False, error=f"Too many pings: {error.description}")
    response.status_code = 429
    return response

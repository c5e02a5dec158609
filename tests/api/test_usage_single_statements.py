"""The single POST's cost in statements: a new record is ONE statement (the line check and
the insert together) once the API key is cached; revocation still takes effect."""
from __future__ import annotations

import pytest
from sqlalchemy import event, update

from support.api_client import body
from support.factories import make_package, utc
from portal.extensions import db as _db
from portal.models import ApiKey, UsageRecord


@pytest.fixture
def line(db):
    line = make_package(start=utc(2015, 9, 1)).line_items[0]
    db.session.commit()
    return line


@pytest.fixture
def statements(app):
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _post(api, line, key):
    line_id = line if isinstance(line, int) else line.id
    return api.post("/api/v3/usage", json={"line_item_id": line_id, "usage_value": "2.5",
                                           "from": "2015-09-15 10:00:00", "external_key": key})


def test_a_new_record_is_one_statement_once_the_key_is_cached(api, line, statements):
    line_id = line.id
    assert _post(api, line_id, "warm").status_code == 201  # verifies and caches the key
    statements.clear()
    created = _post(api, line_id, "k1")
    assert created.status_code == 201
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO usage_records")
    assert "line_items" in statements[0]  # the line is checked by the same statement
    record = _db.session.get(UsageRecord, body(created)["response"]["id"])
    assert (record.line_item_id, str(record.usage_value), record.source) == (line_id, "2.5", "api")


def test_a_retry_and_a_conflict_keep_their_answers(api, line):
    first = _post(api, line, "k1")
    again = _post(api, line, "k1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert body(again)["response"]["id"] == body(first)["response"]["id"]
    other = api.post("/api/v3/usage", json={"line_item_id": line.id, "usage_value": "3",
                                            "from": "2015-09-15 10:00:00", "external_key": "k1"})
    assert other.status_code == 409 and body(other)["details"]["field"] == "external_key"
    assert _db.session.query(UsageRecord).count() == 1


def test_a_line_that_fails_the_check_is_answered_by_the_full_rules(api, line, db):
    line.cancel_at = utc(2015, 9, 10)
    db.session.commit()
    refused = _post(api, line, "late")
    assert refused.status_code == 400 and "cancelled" in body(refused)["message"]
    assert db.session.query(UsageRecord).count() == 0


def test_a_revoked_key_is_refused_at_once_in_this_process(app, api, line, client):
    from portal.services.apikeys import revoke_api_key

    assert _post(api, line, "a").status_code == 201
    revoke_api_key(_public_key(api))
    _db.session.commit()
    assert _post(api, line, "b").status_code == 401


def test_another_process_revoking_takes_effect_when_the_cache_entry_expires(app, api, line):
    assert _post(api, line, "a").status_code == 201
    # As another worker process would: straight in the database, this cache untouched.
    _db.session.execute(update(ApiKey).values(revoked_at=utc(2026, 1, 1)))
    _db.session.commit()
    assert _post(api, line, "b").status_code == 201  # still cached (at most 1 s)
    cache = app.extensions["meterbill.api_keys"]
    for public_key, (digest, key, _expires) in list(cache.items()):
        cache[public_key] = (digest, key, 0.0)  # the entry's second is over
    assert _post(api, line, "c").status_code == 401


def _public_key(api) -> str:
    import base64

    token = api.headers["Authorization"].split()[1]
    return base64.b64decode(token).decode().split(":")[0]

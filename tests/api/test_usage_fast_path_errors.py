"""The usage fast path's errors: hostile input gets the full path's 400; a database error
hands the request to Flask unless the connection was lost after the statement of a keyless
record, which may already be stored (then a 500 that says so)."""
from __future__ import annotations

import pytest

from support.fast_usage import FAST, FULL, Run


@pytest.mark.parametrize("error, record", [
    ("OperationalError", {"usage_value": "2.5", "external_key": "e1"}),  # keyed: Flask's retry is safe
    ("IntegrityError", {"usage_value": "6"}),  # refused by the statement: nothing was stored
    ("OperationalError", {"usage_value": "7"}),  # refused by the server (a lock timeout, say)
])
def test_a_database_error_hands_the_request_to_the_full_path(app, client, db, fast, monkeypatch,
                                                             error, record):
    import portal.api.fast_usage as fast_usage

    run = Run(app, client, db, FAST, error)
    run.warm()

    def broken(cursor, dialect, *_args):
        raise getattr(dialect.loaded_dbapi, error)("the database refused")

    monkeypatch.setattr(fast_usage, "record_new_dbapi", broken)
    fast.handed.clear()
    created = run.send({"line_item_id": "{line}", **record})
    assert created.status_code == 201 and fast.handed == ["/api/v3/usage"]
    assert [row[0] for row in run.rows()[:-1]] == [record["usage_value"]]


@pytest.mark.parametrize("fast_path", [FAST, FULL])
def test_hostile_numbers_get_a_400_naming_the_field(app, client, db, fast, fast_path):
    run = Run(app, client, db, fast_path, "numbers" + str(fast_path))
    run.warm()
    cases = [
        ({"line_item_id": "9" * 5000, "usage_value": "1"}, "line_item_id", "at most 18 digits"),
        (b'{"line_item_id": "{line}", "usage_value": 1e-999999999}', "usage_value", "6 decimal places"),
    ]
    for body, field, words in cases:
        refused = run.send(body)
        assert refused.status_code == 400, body
        assert refused.get_json()["details"] == {"field": field} and words in refused.get_json()["message"]
    huge = run.send(b'{"line_item_id": "{line}", "usage_value": 1e9999999999999999999}')
    assert huge.status_code == 400 and "a number is out of range" in huge.get_json()["message"]
    assert run.record_ids() == []


def test_a_lost_connection_after_a_keyless_insert_is_not_retried(app, client, db, fast, monkeypatch):
    """The statement was sent and the connection was lost: the record may be stored (here it
    is). Storing it again through Flask could count it twice, so the answer is a 500 that
    says so, without Retry-After. (PostgreSQL: SQLite has no connection to lose.)"""
    import portal.api.fast_usage as fast_usage

    if db.engine.dialect.name == "sqlite":
        pytest.skip("needs PostgreSQL: a connection that can be lost mid-statement")
    run = Run(app, client, db, FAST, "lost")
    run.warm()
    real = fast_usage.record_new_dbapi

    def stored_then_lost(cursor, dialect, *args):
        real(cursor, dialect, *args)
        cursor.connection.close()  # what a dropped network connection leaves
        raise dialect.loaded_dbapi.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(fast_usage, "record_new_dbapi", stored_then_lost)
    fast.handed.clear()
    answer = run.send({"line_item_id": "{line}", "usage_value": "4"})
    assert answer.status_code == 500 and fast.handed == []
    assert "Retry-After" not in answer.headers and "external_key" in answer.get_json()["message"]
    assert [row[0] for row in run.rows()[:-1]] == ["4"]  # once, not twice


def test_a_bug_before_storing_hands_the_request_to_flask(app, client, db, fast, monkeypatch):
    import portal.api.fast_usage as fast_usage

    run = Run(app, client, db, FAST, "bug")
    run.warm()

    def broken(_raw):
        raise RuntimeError("a bug in the fast path")

    monkeypatch.setattr(fast_usage, "plain_json", broken)
    fast.handed.clear()
    created = run.send({"line_item_id": "{line}", "usage_value": "3"})
    assert created.status_code == 201 and fast.handed == ["/api/v3/usage"]
    assert [row[0] for row in run.rows()[:-1]] == ["3"]

"""POST /api/v3/usage answered in front of Flask (`portal.api.fast_usage`) gives the full
path's answers: the same requests, sent once with the fast path and once without, get the
same status, headers and envelope and store the same rows; every unusual request (an
error, a retry, another field, another way to authenticate) is handed to Flask.

Requests are sent outside the test's app context (a fresh `contextvars.Context`), as a
server sends them: the fast path leaves requests made inside a pushed context to Flask.
"""

from datetime import timedelta

from support.factories import make_package
from support.fast_usage import FAST, FULL, Run
from portal.db_types import utcnow
from portal.models import ApiKey
from portal.services.apikeys import key_cache

SCENARIO = [
    ({"line_item_id": "{line}", "usage_value": "12.345678", "from": "2015-09-15 10:00:00",
      "external_key": "k1"}, None, "", True),
    ({"line_item_id": "{line}", "usage_value": "12.345678", "from": "2015-09-15 10:00:00",
      "external_key": "k1"}, None, "", False),  # a retry: 200, the same id
    ({"line_item_id": "{line}", "usage_value": "3", "from": "2015-09-15 10:00:00",
      "external_key": "k1"}, None, "", False),  # the key with other content: 409
    (b'{"line_item_id": "{line}", "usage_value": 1.5}', None, "", True),  # a JSON number: Decimal
    (b'{"line_item_id": "{line}", "usage_value": 0.1000001}', None, "", False),  # 7 decimals
    (b'{"line_item_id": "{line}", "usage_value": 2, "external_key": 77}', None, "", True),
    ({"line_item_external_key": "{line_key}", "usage_value": "4", "type": "add",
      "from": "2015-09-16T10:00:00+02:00", "to": "2015-09-16T11:00:00+02:00"}, None, "", True),
    ({"line_item_id": "{line}", "usage_value": "4", "type": "max"}, None, "", False),
    ({"line_item_id": "{line}", "usage_value": "4", "type": "nonsense"}, None, "", False),
    ({"line_item_id": "{line}", "usage_value": "-1"}, None, "", False),
    ({"line_item_id": "{line}", "usage_value": "1e30"}, None, "", False),
    ({"line_item_id": "{line}", "usage_value": None}, None, "", False),
    ({"line_item_id": "{line}", "usage_value": "1", "from": "2015-09-15 10:00:00",
      "to": "2015-09-14 10:00:00"}, None, "", False),
    ({"line_item_id": "{line}", "usage_value": "1", "from": "2015-08-01 00:00:00"}, None, "", False),
    ({"line_item_id": "{cancelled}", "usage_value": "1", "from": "2015-09-20 00:00:00"},
     None, "", False),
    ({"line_item_id": "999999", "usage_value": "1"}, None, "", False),
    ({"line_item_id": "{line}", "usage_value": "1", "colour": "red"}, None, "", False),
    ({"line_item_id": "{line}", "usage_value": "1", "usage_id": 5}, None, "", False),  # read-only
    ({"line_item_id": "{line}", "usage_value": "1", "customer_id": 1}, None, "", False),
    ({"line_item_id": "{line}", "usage_value": "5"}, None, "?dry=1", False),
    ({"line_item_id": "{line}", "usage_value": "7"}, {"Authorization": "Basic Zm9vOmJhcg=="}, "", False),
    ({"line_item_id": "{line}", "usage_value": "8"}, {"Authorization": "Bearer x"}, "", False),
    ({"line_item_id": "{line}", "usage_value": "9"}, {"Host": "elsewhere.example"}, "", False),
    (b'{"line_item_id": "{line}", "usage_value": "1", "external_key": "a\\u0000b"}', None, "", False),
    (b'{"line_item_id": "{line}", "usage_value": NaN}', None, "", False),
    ({"line_item_id": "9" * 5000, "usage_value": "1"}, None, "", False),  # over int()'s digit limit
    (b'{"line_item_id": "{line}", "usage_value": 1e9999999999999999999}', None, "", False),
    (b'{"line_item_id": "{line}", "usage_value": 1e-999999999}', None, "", False),  # not 0
    (b"not json", None, "", False),
    (b"[]", None, "", False),
    (b"", None, "", False),
]


def _play(run: Run, fast) -> list[tuple]:
    """Each request's (normalised answer, answered by the fast path?)."""
    run.warm()
    answers = []
    for body, headers, query, _ in SCENARIO:
        before = len(fast.handed)
        response = run.send(body, headers, query)
        answers.append((response, len(fast.handed) == before))
    return [(run.normal(response), by_fast) for response, by_fast in answers]


def test_the_fast_path_answers_as_the_full_path_and_stores_the_same_rows(app, client, db, fast):
    with_fast = Run(app, client, db, FAST, "fast")
    without = Run(app, client, db, FULL, "full")
    fast_answers, full_answers = _play(with_fast, fast), _play(without, fast)
    for index, (scenario, got, expected) in enumerate(zip(SCENARIO, fast_answers, full_answers)):
        assert got[0] == expected[0], (index, scenario[0])
        assert got[1] is scenario[3], (index, scenario[0], "answered by the fast path?")
        assert expected[1] is False  # with API_FAST_PATH off, Flask answers everything
    assert with_fast.rows() == without.rows()
    assert [answer[0][0] for answer in fast_answers[:4]] == ["201 CREATED", "200 OK", "409 CONFLICT",
                                                             "201 CREATED"]
    stored = with_fast.rows()
    assert stored[0][0] == "12.345678" and stored[1][0] == "1.5" and stored[2][4] == "77"
    assert stored[-1] == ("change log", len(stored) - 1)  # the trigger logged each new row


def test_headers_under_https_match_the_full_path(app, client, db, fast, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://billing.example.com")
    answers = []
    for name, mode in (("fast", FAST), ("full", FULL)):
        run = Run(app, client, db, mode, name)
        run.warm()
        response = run.send({"line_item_id": "{line}", "usage_value": "1"})
        answers.append(run.normal(response))
    assert answers[0] == answers[1]
    assert ("Strict-Transport-Security", "max-age=31536000") in answers[0][1]
    assert dict(answers[0][1])["Location"] == "https://billing.example.com/api/v3/usage/#0"


def test_a_request_with_a_cookie_is_left_to_flask(app, client, db, fast):
    answers = []
    for name, mode in (("fast", FAST), ("full", FULL)):
        run = Run(app, client, db, mode, name)
        run.warm()
        client.set_cookie("session", "not-signed")  # a browser's, say: Flask's session decides
        fast.handed.clear()
        answers.append(run.normal(run.send({"line_item_id": "{line}", "usage_value": "1"})))
        assert fast.handed == ["/api/v3/usage"]
        client.delete_cookie("session")
    assert answers[0] == answers[1] and answers[0][0] == "201 CREATED"


def test_a_stale_last_use_is_recorded_by_the_full_path(app, client, db, fast):
    run = Run(app, client, db, FAST, "used")
    run.warm()
    cache = key_cache(app)
    digest, key, expires = cache[run.key.public_key]
    cache[run.key.public_key] = (digest, key._replace(last_used_at=utcnow() - timedelta(minutes=2)),
                                 expires)
    fast.handed.clear()
    assert run.send({"line_item_id": "{line}", "usage_value": "1"}).status_code == 201
    assert fast.handed == ["/api/v3/usage"]  # Flask recorded the use ...
    db.session.expire_all()
    used = db.session.get(ApiKey, run.key.id).last_used_at
    assert utcnow() - used < timedelta(minutes=1)
    assert run.send({"line_item_id": "{line}", "usage_value": "1"}).status_code == 201
    assert len(fast.handed) == 1  # ... and the next request is fast again


def test_an_expired_or_revoked_key_goes_to_the_full_path(app, client, db, fast):
    from portal.services.apikeys import revoke_api_key

    run = Run(app, client, db, FAST, "revoked")
    run.warm()
    cache = key_cache(app)
    digest, key, _ = cache[run.key.public_key]
    cache[run.key.public_key] = (digest, key, 0.0)  # the entry's time is over
    fast.handed.clear()
    assert run.send({"line_item_id": "{line}", "usage_value": "1"}).status_code == 201
    assert fast.handed == ["/api/v3/usage"]
    revoke_api_key(run.key.public_key)
    db.session.commit()
    refused = run.send({"line_item_id": "{line}", "usage_value": "1"})
    assert refused.status_code == 401 and len(run.record_ids()) == 1


def test_a_request_inside_an_app_context_is_left_to_flask(api, db, fast):
    line = make_package().line_items[0]
    db.session.commit()
    api.get("/api/v3/usage")
    fast.handed.clear()
    created = api.post("/api/v3/usage", json={"line_item_id": line.id, "usage_value": "1"})
    assert created.status_code == 201 and fast.handed == ["/api/v3/usage"]


def test_a_large_or_unsized_body_is_left_to_flask(app, client, db, fast):
    run = Run(app, client, db, FAST, "large")
    run.warm()
    fast.handed.clear()
    padded = {"line_item_id": "{line}", "usage_value": "1", "external_key": "x" * 9000}
    refused = run.send(padded)
    assert refused.status_code == 400 and fast.handed == ["/api/v3/usage"]
    assert refused.get_json()["details"] == {"field": "external_key"}

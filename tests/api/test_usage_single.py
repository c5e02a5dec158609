"""`usage` through the API, one record at a time: create, idempotent retry, get, lists, errors."""
from decimal import Decimal

import pytest

from support.api_client import body
from support.factories import make_package, make_voip_item, utc
from portal.models import UsageRecord

SENT = {"usage_value": "12.345678", "from": "2015-09-15 00:00:00", "to": "2015-09-15 23:59:59",
        "external_key": "evt-1"}


@pytest.fixture
def line(db):
    line = make_package().line_items[0]
    line.external_key = "acme-voip"
    db.session.commit()
    return line


def _post(api, line, **fields):
    return api.post("/api/v3/usage", json={"line_item_id": line.id, **SENT, **fields})


def test_create_answers_201_with_location_and_get_has_chargeover_shape(api, line):
    created = _post(api, line)
    assert created.status_code == 201
    usage_id = body(created)["response"]["id"]
    assert created.headers["Location"].endswith(f"/api/v3/usage/{usage_id}")
    got = body(api.get(f"/api/v3/usage/{usage_id}"))["response"]
    assert got == {
        "usage_id": usage_id, "usage_history_id": usage_id, "line_item_id": line.id,
        "usage_value": Decimal("12.345678"), "type": "add", "from": "2015-09-15 00:00:00",
        "to": "2015-09-15 23:59:59", "external_key": "evt-1", "source": "api",
        "write_datetime": got["write_datetime"],
    }
    assert b'"usage_value": 12.345678' in api.get(f"/api/v3/usage/{usage_id}").data


def test_retry_answers_200_with_the_original_id_and_conflict_409(api, line, db):
    first = body(_post(api, line))["response"]["id"]
    retry = _post(api, line)
    assert retry.status_code == 200 and body(retry)["response"] == {"id": first}
    conflict = _post(api, line, usage_value="12.345679")
    assert conflict.status_code == 409
    assert body(conflict)["details"] == {"field": "external_key", "id": first}
    assert db.session.query(UsageRecord).count() == 1


def test_line_external_key_type_and_merchant_time_zone(api, line, app, db):
    app.config["TIMEZONE"] = "America/New_York"
    try:
        created = api.post("/api/v3/usage", json={
            "line_item_external_key": "acme-voip", "usage_value": 7, "type": "add",
            "from": "2015-09-15 00:00:00"})
        got = body(api.get(f"/api/v3/usage/{body(created)['response']['id']}"))["response"]
    finally:
        app.config["TIMEZONE"] = "UTC"
    assert created.status_code == 201
    assert (got["from"], got["to"], got["type"]) == ("2015-09-15 00:00:00", "2015-09-15 00:00:00", "add")
    assert db.session.get(UsageRecord, got["usage_id"]).from_at == utc(2015, 9, 15, 4)


def test_list_where_order_paging_and_count(api, line, db):
    other = make_package(customer=line.package.customer, item=make_voip_item(name="SMS")).line_items[0]
    db.session.commit()
    for day, value in ((1, "5"), (2, "10.5"), (3, "20")):
        _post(api, line, usage_value=value, external_key=f"d{day}",
              **{"from": f"2015-09-0{day} 00:00:00", "to": f"2015-09-0{day} 01:00:00"})
    _post(api, other, external_key="o1")
    mine = body(api.get(f"/api/v3/usage?where=line_item_id:EQUALS:{line.id}&order=from:DESC"))
    assert [u["usage_value"] for u in mine["response"]] == [Decimal("20"), Decimal("10.5"), Decimal("5")]
    query = f"where=line_item_id:EQUALS:{line.id},from:GTE:2015-09-02 00:00:00,usage_value:LT:20"
    assert [u["external_key"] for u in body(api.get(f"/api/v3/usage?{query}"))["response"]] == ["d2"]
    assert body(api.get("/api/v3/usage?where=to:LT:2015-09-02 00:00:00"))["response"][0]["external_key"] == "d1"
    assert body(api.get("/api/v3/usage?where=external_key:EQUALS:o1"))["response"][0]["line_item_id"] == other.id
    page = body(api.get("/api/v3/usage?order=usage_history_id:ASC&offset=1&limit=2"))["response"]
    assert [u["external_key"] for u in page] == ["d2", "d3"]
    assert body(api.get(f"/api/v3/usage/_count?where=line_item_id:EQUALS:{line.id}"))["response"] == 3
    assert body(api.get("/api/v3/usage/_count?where=usage_value:EQUALS:10.5"))["response"] == 1


@pytest.mark.parametrize("query", [
    "where=usage_value:GT:abc", "where=usage_value:GT:1.1234567", "where=from:GT:someday",
    "where=from:GT:9999-12-31T23:00:00-05:00", "where=usage_id:EQUALS:99999999999999999999999",
    "where=line_item_id:EQUALS:-1", "where=external_key:EQUALS:a%00b", "where=type:EQUALS:add",
])
def test_bad_list_queries_are_400(api, line, query):
    response = api.get(f"/api/v3/usage?{query}")
    assert response.status_code == 400, body(response)
    assert body(response)["details"]["field"] == "where"


@pytest.mark.parametrize("fields, field", [
    ({"usage_value": "-1"}, "usage_value"),
    ({"usage_value": "abc"}, "usage_value"),
    ({"usage_value": [1]}, "usage_value"),
    ({"usage_value": True}, "usage_value"),
    ({"usage_value": "1.1234567"}, "usage_value"),
    ({"usage_value": "1000000000000.000001"}, "usage_value"),
    ({"usage_value": "1e3"}, "usage_value"),
    ({"from": "yesterday"}, "from"),
    ({"from": 20150915}, "from"),
    ({"from": "9999-12-31 23:59:59+00:00", "to": "9999-12-31T23:59:59-05:00"}, "to"),
    ({"to": "2015-09-14 00:00:00"}, "to"),
    ({"type": "max"}, "type"),
    ({"type": ["add"]}, "type"),
    ({"external_key": {"k": 1}}, "external_key"),
    ({"external_key": "x" * 256}, "external_key"),
    ({"external_key": "a\x00b"}, "external_key"),
    ({"external_key": "\ud800"}, "external_key"),
    ({"line_item_id": 999999}, "line_item_id"),
    ({"line_item_id": 10**30}, "line_item_id"),
    ({"line_item_id": "x1"}, "line_item_id"),
    ({"line_item_id": "²"}, "line_item_id"),
    ({"line_item_id": True}, "line_item_id"),
    ({"line_item_id": None}, "line_item_id"),
    ({"line_item_id": None, "line_item_external_key": "nope"}, "line_item_external_key"),
    ({"line_item_id": None, "line_item_external_key": ["x"]}, "line_item_external_key"),
])
def test_bad_input_is_400_naming_the_field(api, line, db, fields, field):
    response = _post(api, line, **fields)
    assert response.status_code == 400, body(response)
    assert body(response)["details"]["field"] == field
    assert body(response)["message"].startswith(field)
    assert db.session.query(UsageRecord).count() == 0


def test_cancelled_and_unmetered_lines_are_refused(api, line, db):
    line.cancel_at = utc(2015, 9, 10)
    db.session.commit()
    refused = _post(api, line)
    assert refused.status_code == 400 and "cancelled" in body(refused)["message"]
    assert _post(api, line, **{"from": "2015-09-09 00:00:00", "to": None}).status_code == 201


@pytest.mark.parametrize("data, message", [
    ("{nope", "Malformed JSON body: Expecting property name"),
    ("[1, 2]", "The request body must be a JSON object."),
    ("12", "The request body must be a JSON object."),
    ('{"usage_value": NaN}', "Malformed JSON body: NaN is not a number"),
    ("\xff", "Malformed JSON body: Expecting value"),
])
def test_bodies_that_are_not_a_json_object_are_400(api, line, db, data, message):
    response = api.post("/api/v3/usage", data=data, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    answer = body(response)
    assert (answer["code"], answer["status"], answer["response"]) == (400, "Error", False)
    assert answer["message"].startswith(message), answer["message"]
    assert db.session.query(UsageRecord).count() == 0


def test_usage_cannot_be_updated_or_deleted(api, line):
    usage_id = body(_post(api, line))["response"]["id"]
    assert api.put(f"/api/v3/usage/{usage_id}", json={"usage_value": 1}).status_code == 405
    assert api.delete(f"/api/v3/usage/{usage_id}").status_code == 405
    assert api.get("/api/v3/usage/424242").status_code == 404

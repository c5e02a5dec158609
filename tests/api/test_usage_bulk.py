"""`POST /usage/_action/bulk`: per-record results, in-batch duplicates, limits, fallback."""
from decimal import Decimal

import pytest

from support.api_client import body
from support.factories import make_package, make_voip_item
from portal.models import UsageRecord
from portal.services import usage as usage_service
from portal.services.usage import LineRef

URL = "/api/v3/usage/_action/bulk"


@pytest.fixture
def line(db):
    line = make_package().line_items[0]
    line.external_key = "acme-voip"
    db.session.commit()
    return line


def _record(line, key=None, value="1", **fields):
    record = {"line_item_id": line.id, "usage_value": value, "from": "2015-09-15 10:00:00"}
    if key is not None:
        record["external_key"] = key
    return {**record, **fields}


def test_results_are_per_record_in_order(api, line, db):
    existing = body(api.post("/api/v3/usage", json=_record(line, "old", "3")))["response"]["id"]
    records = [
        _record(line, "a"),                       # stored
        _record(line, "b", "-1"),                 # invalid
        _record(line, "a"),                       # same key, same content: the first's id
        _record(line, "a", "2"),                  # same key, other content
        _record(line, "old", "3"),                # retry of an earlier call
        _record(line, "old", "4"),                # conflict with an earlier call
        "not an object",
        {"line_item_external_key": "acme-voip", "usage_value": 5},
        _record(line),                            # no key: always stored
    ]
    response = api.post(URL, json=records)
    assert response.status_code == 200
    results = body(response)["response"]
    assert [r["code"] for r in results] == [201, 400, 200, 409, 200, 409, 400, 201, 201]
    assert results[2]["id"] == results[0]["id"] and results[4]["id"] == existing
    assert results[1] == {"code": 400, "status": "Error", "id": None,
                          "message": "usage_value: must not be negative",
                          "details": {"field": "usage_value"}}
    assert results[3]["details"] == {"field": "external_key", "id": results[0]["id"]}
    assert results[5]["details"] == {"field": "external_key", "id": existing}
    assert body(response)["details"] == {"stored": 3, "duplicates": 2, "errors": 4}
    assert db.session.query(UsageRecord).count() == 4
    assert {r.source for r in db.session.query(UsageRecord)} == {"api", "bulk"}


def test_a_full_batch_of_1000_gets_ids_in_order(api, line, db):
    records = [_record(line, f"k{i}", f"{i}.5") for i in range(1000)]
    response = api.post(URL, json={"usage": records})
    results = body(response)["response"]
    assert [r["code"] for r in results] == [201] * 1000
    ids = [r["id"] for r in results]
    stored = dict(db.session.query(UsageRecord.id, UsageRecord.usage_value))
    assert [stored[i] for i in ids] == [Decimal(f"{i}.5") for i in range(1000)]
    again = body(api.post(URL, json=records))["response"]
    assert [r["code"] for r in again] == [200] * 1000 and [r["id"] for r in again] == ids


def test_same_key_on_two_lines_is_two_records(api, line, db):
    other = make_package(customer=line.package.customer, item=make_voip_item(name="SMS")).line_items[0]
    db.session.commit()
    results = body(api.post(URL, json=[_record(line, "k"), _record(other, "k")]))["response"]
    assert [r["code"] for r in results] == [201, 201] and results[0]["id"] != results[1]["id"]


@pytest.mark.parametrize("fields", [
    {"usage_value": "1.1234567"}, {"usage_value": None}, {"from": "nope"},
    {"to": "2015-09-14 00:00:00"}, {"type": "lat"}, {"line_item_id": 424242},
    {"line_item_id": None, "line_item_external_key": "nope"}, {"external_key": ["x"]},
    {"line_item_id": "1.0"}, {"from": "0001-01-01T00:00:00+01:00"},
])
def test_validation_is_the_single_channels(api, line, fields):
    record = {**_record(line, "k"), **fields}
    single = api.post("/api/v3/usage", json=record)
    result = body(api.post(URL, json=[record]))["response"][0]
    assert single.status_code == result["code"] == 400
    assert (body(single)["message"], body(single)["details"]) == (result["message"], result["details"])


@pytest.mark.parametrize("payload, message", [
    ([], "No usage records"),
    ({"usage": "x"}, "usage: must be an array"),
    ({"records": []}, "usage: must be an array"),
    ("text", "JSON array"),
])
def test_bad_bodies_are_400(api, line, payload, message):
    response = api.post(URL, json=payload)
    assert response.status_code == 400
    assert message in body(response)["message"]


def test_more_than_1000_records_is_400(api, line, db):
    response = api.post(URL, json=[_record(line)] * 1001)
    assert response.status_code == 400 and "at most 1000" in body(response)["message"]
    assert db.session.query(UsageRecord).count() == 0


def test_an_integrity_error_fails_only_its_record(api, line, db, monkeypatch):
    """A line deleted between the lookup and the insert (a foreign key violation): the
    batch is retried record by record in savepoints, and only that record fails."""
    ghost = LineRef(424242, None, True, "add", None, line.subscribe_at)
    find = usage_service.LineLookup.find
    monkeypatch.setattr(usage_service.LineLookup, "find", lambda self, raw: (
        ghost if raw.get("external_key") == "ghost" else find(self, raw)))
    records = [_record(line, "a"), _record(line, "ghost"), _record(line, "a"),
               _record(line, "a", "2"), _record(line)]
    results = body(api.post(URL, json=records))["response"]
    assert [r["code"] for r in results] == [201, 409, 200, 409, 201]
    assert results[2]["id"] == results[0]["id"]
    assert db.session.query(UsageRecord).count() == 2


def test_a_customer_id_beyond_the_id_column_fails_only_its_record(api, line, db):
    """Found by schemathesis: customer_id 2^31 overflowed PostgreSQL's integer (a 500)."""
    answer = api.post("/api/v3/usage/_action/bulk", json=[
        {"customer_id": "2147483648", "item_id": str(line.item_id), "usage_value": "1"},
        _record(line, key="ok-1")])
    entries = body(answer)["response"]
    assert answer.status_code == 200
    assert [e["code"] for e in entries] == [400, 201]
    assert entries[0]["details"]["field"] == "item_external_key"
    assert db.session.query(UsageRecord).count() == 1

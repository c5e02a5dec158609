"""`POST /api/v3/_bulk`: sub-requests dispatched through the real routes, answered in order."""
import pytest

from support.api_client import body
from support.factories import make_package
from portal.models import Customer, UsageRecord

URL = "/api/v3/_bulk"


def _entry(method, uri, payload=None):
    return {"request_method": method, "uri": uri, "payload": payload}


def test_chargeovers_example_batch(api, db):
    existing = body(api.post("/api/v3/customer", json={"company": "Existing"}))["response"]["id"]
    response = api.post(URL, json=[
        _entry("GET", f"/api/v3/customer/{existing}"),
        _entry("POST", "/api/v3/customer", {"company": "My new bulk customer 1"}),
        _entry("PUT", "/api/v3/customer", []),
        _entry("POST", "/api/v3/customer", {"company": "Test Company 7", "external_key": "abcd1234"}),
        _entry("POST", "/api/v3/customer", {"company": "Dup", "external_key": "abcd1234"}),
        _entry("GET", "/api/v3/customer/424242"),
        _entry("get", "/api/v3/customer?where=external_key:EQUALS:abcd1234"),
        _entry("POST", "/api/v3/customer", []),
    ])
    assert response.status_code == 200
    results = body(response)["response"]["_bulk"]
    assert [r["code"] for r in results] == [200, 201, 405, 201, 400, 404, 200, 400]
    assert results[0]["response"]["company"] == "Existing"
    assert {"code", "status", "message", "details", "response"} <= set(results[2])
    assert results[4]["status"] == "Error" and "already used" in results[4]["message"]
    assert results[5] == {"code": 404, "status": "Error", "details": {}, "response": None,
                          "message": "This customer does not exist."}
    assert [c["company"] for c in results[6]["response"]] == ["Test Company 7"]
    assert results[7]["details"] == {"field": "company"}  # [] is an empty object
    assert db.session.query(Customer).count() == 3  # the failures did not undo the others


def test_usage_through_bulk_keeps_its_status_codes(api, db):
    line = make_package().line_items[0]
    db.session.commit()
    record = {"line_item_id": line.id, "usage_value": "1.25", "external_key": "e1"}
    results = body(api.post(URL, json=[
        _entry("POST", "/api/v3/usage", record),
        _entry("POST", "/api/v3/usage", record),
        _entry("POST", "/api/v3/usage", {**record, "usage_value": 2}),
        _entry("POST", "/api/v3/usage/_action/bulk", [record, {**record, "external_key": "e2"}]),
    ]))["response"]["_bulk"]
    assert [r["code"] for r in results] == [201, 200, 409, 200]
    assert [r["code"] for r in results[3]["response"]] == [200, 201]
    assert db.session.query(UsageRecord).count() == 2


@pytest.mark.parametrize("entry, field", [
    ({"request_method": "GET"}, "uri"),
    (_entry("GET", "/portal/invoices"), "uri"),
    (_entry("GET", "https://evil.example/other"), "uri"),
    (_entry("POST", "/api/v3/_bulk", []), "uri"),
    (_entry("PATCH", "/api/v3/customer/1"), "request_method"),
    (_entry(None, "/api/v3/customer/1"), "request_method"),
    (_entry("POST", "/api/v3/customer", "company=x"), "payload"),
    ("GET /api/v3/customer", "request"),
])
def test_malformed_entries_get_their_own_400(api, entry, field):
    results = body(api.post(URL, json=[entry, _entry("GET", "/api/v3/customer/_count")]))
    assert [r["code"] for r in results["response"]["_bulk"]] == [400, 200]
    assert results["response"]["_bulk"][0]["details"] == {"field": field}


def test_absolute_uris_are_accepted(api):
    result = body(api.post(URL, json=[_entry("GET", "https://example.com/api/v3/customer/_count")]))
    assert result["response"]["_bulk"][0]["response"] == 0


@pytest.mark.parametrize("payload, message", [
    ({"request_method": "GET"}, "JSON array"),
    ([], "No data"),
    ([_entry("GET", "/api/v3/customer/_count")] * 101, "At most 100"),
])
def test_bad_batches_are_400(api, payload, message):
    response = api.post(URL, json=payload)
    assert response.status_code == 400 and message in body(response)["message"]


def test_sub_requests_carry_the_callers_credentials(client, db):
    response = client.post(URL, json=[_entry("GET", "/api/v3/customer/_count")])
    assert response.status_code == 401

"""ChargeOver's PHP examples for `usage`, as the same HTTP exchanges, and usage addressed by
customer and item in bulk uploads."""
from datetime import date

from sqlalchemy import select

from portal.models import UsageRecord
from support.api_client import body


def _metered_package(api, **package_fields):
    customer = body(api.post("/api/v3/customer", json={"company": "Acme", "external_key": "acme"}))
    items = [body(api.post("/api/v3/item", json={
        "name": name, "type": "service", "external_key": key, "is_metered": True,
        "pricemodel": {"pricemodel": "uni", "tiers": [{"unit_from": 0, "amount": 1}]}}))["response"]["id"]
        for name, key in (("Data", "data"), ("Devices", "devices"))]
    response = api.post("/api/v3/package", json={
        "customer_id": customer["response"]["id"], "line_items": [{"item_id": i} for i in items],
        **package_fields})
    assert response.status_code == 201, body(response)
    return body(response)["response"]["id"], items


def test_example_store_usage(api, db):
    package_id, _ = _metered_package(api, start_datetime="2015-09-01 00:00:00")
    line = body(api.get(f"/api/v3/package/{package_id}"))["response"]["line_items"][0]["line_item_id"]
    response = api.post("/api/v3/usage", json={"line_item_id": line, "usage_value": 42,
                                               "from": "2015-09-15 00:00:00", "to": "2015-09-15 23:59:59"})
    assert response.status_code == 201 and body(response)["status"] == "OK"
    stored = db.session.get(UsageRecord, body(response)["response"]["id"])
    assert (stored.line_item_id, stored.usage_value) == (line, 42)


def test_example_store_usage_for_package(api, db):
    hold = date.today().replace(day=1).replace(year=date.today().year + 1).isoformat()
    package_id, _ = _metered_package(api, holduntil_datetime=hold, external_key="abcd1234-7")
    found = body(api.get("/api/v3/package?_dummy=1&where=external_key:EQUALS:abcd1234-7"))["response"]
    package = body(api.get(f"/api/v3/package/{found[0]['package_id']}"))["response"]
    for line in package["line_items"]:
        usage = 5 if line["item_external_key"] == "data" else 9
        response = api.post("/api/v3/usage", json={"line_item_id": line["line_item_id"],
                                                   "usage_value": usage})
        assert response.status_code == 201
    values = sorted(r.usage_value for r in db.session.scalars(select(UsageRecord)))
    assert values == [5, 9]
    # The example's last call names a line_item_external_key no line has (its documented bug).
    missing = api.post("/api/v3/usage", json={"line_item_external_key": "abc123", "usage_value": 1})
    assert missing.status_code == 400
    assert body(missing)["details"]["field"] == "line_item_external_key"


def test_bulk_usage_addressed_by_customer_and_item_external_keys(api, db):
    _, items = _metered_package(api)
    response = api.post("/api/v3/usage/_action/bulk", json=[
        {"customer_external_key": "acme", "item_external_key": "data", "usage_value": 3},
        {"customer_external_key": "acme", "item_external_key": "nothing", "usage_value": 1},
        {"customer_external_key": "acme", "item_id": items[1], "usage_value": 4},
        {"customer_external_key": "acme", "item_external_key": "data", "options": {"x": 1}},
    ])
    results = body(response)["response"]
    assert [r["code"] for r in results] == [201, 400, 201, 400]
    assert results[1]["details"]["field"] == "item_external_key"
    assert results[3]["details"] == {"field": "options", "supported": False}
    assert sorted(r.usage_value for r in db.session.scalars(select(UsageRecord))) == [3, 4]


def test_single_usage_by_keys_and_unsupported_custom_fields(api):
    _metered_package(api)
    ok = api.post("/api/v3/usage", json={"customer_external_key": "acme",
                                         "item_external_key": "devices", "usage_value": 2})
    assert ok.status_code == 201
    custom = api.post("/api/v3/usage", json={"line_item_id": 1, "usage_value": 1, "custom_1": "a"})
    assert custom.status_code == 400 and body(custom)["details"]["field"] == "custom_1"

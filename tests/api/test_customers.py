"""`customer` and `user` through the API: CRUD, lists, queries, errors."""
from decimal import Decimal

import pytest

from support.api_client import body


def _create(api, **fields):
    payload = {"company": "Acme", **fields}
    response = api.post("/api/v3/customer", json=payload)
    assert response.status_code == 201, response.get_json()
    return body(response)["response"]["id"]


def test_create_get_update_delete_customer(api):
    response = api.post("/api/v3/customer", json={
        "company": "Another Customer", "external_key": "mycustomer_id",
        "superuser_email": "customer@example.com", "superuser_first_name": "John",
        "superuser_last_name": "Smith", "bill_addr1": "555 Main Street", "bill_state": "Vermont",
    })
    assert response.status_code == 201
    customer_id = body(response)["response"]["id"]
    assert response.headers["Location"].endswith(f"/api/v3/customer/{customer_id}")

    got = body(api.get(f"/api/v3/customer/{customer_id}"))["response"]
    assert got["company"] == "Another Customer" and got["superuser_name"] == "John Smith"
    assert got["bill_addr1"] == "555 Main Street" and got["external_key"] == "mycustomer_id"
    assert got["balance"] == Decimal("0") and got["currency_iso4217"] == "USD"
    assert got["superuser_id"] is not None

    updated = api.put(f"/api/v3/customer/{customer_id}", json={"company": "Renamed"})
    assert updated.status_code == 202 and body(updated)["response"] == {"id": customer_id}
    assert body(api.get(f"/api/v3/customer/{customer_id}"))["response"]["company"] == "Renamed"

    users = body(api.get(f"/api/v3/user?where=customer_id:EQUALS:{customer_id}"))["response"]
    assert [u["email"] for u in users] == ["customer@example.com"]
    only = api.delete(f"/api/v3/user/{users[0]['user_id']}")  # the billing contact, and alone
    assert only.status_code == 400 and "add another contact" in body(only)["message"]
    other = body(api.post("/api/v3/user", json={"customer_id": customer_id, "email": "ap@example.com"}))
    assert api.delete(f"/api/v3/user/{users[0]['user_id']}").status_code == 200
    got = body(api.get(f"/api/v3/customer/{customer_id}"))["response"]
    assert got["superuser_email"] == "ap@example.com" and got["superuser_id"] == other["response"]["id"]
    assert api.delete(f"/api/v3/customer/{customer_id}").status_code == 200
    missing = api.get(f"/api/v3/customer/{customer_id}")
    assert missing.status_code == 404
    assert body(missing) == {"code": 404, "status": "Error", "details": {}, "response": None,
                             "message": "This customer does not exist."}


def test_customer_with_a_package_cannot_be_deleted(api, db):
    from support.factories import make_package

    package = make_package()
    db.session.commit()
    response = api.delete(f"/api/v3/customer/{package.customer_id}")
    assert response.status_code == 400
    assert "has packages" in body(response)["message"]


@pytest.mark.parametrize("payload, field", [
    ({}, "company"),
    ({"company": "  "}, "company"),
    ({"company": {"name": "x"}}, "company"),
    ({"company": "X", "currency_iso4217": "XYZ"}, "currency"),
    ({"company": ["x"]}, "company"),
])
def test_bad_customer_input_is_400_naming_the_field(api, payload, field):
    response = api.post("/api/v3/customer", json=payload)
    assert response.status_code == 400
    assert body(response)["details"]["field"] == field
    assert body(response)["message"].startswith(field)


def test_duplicate_external_key_is_400(api):
    _create(api, external_key="k1")
    response = api.post("/api/v3/customer", json={"company": "B", "external_key": "k1"})
    assert response.status_code == 400
    assert "already used by customer" in body(response)["message"]


def test_malformed_json_and_non_object_bodies(api):
    bad = api.post("/api/v3/customer", data="{nope", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and "Malformed JSON" in body(bad)["message"]
    array = api.post("/api/v3/customer", json=[1, 2])
    assert array.status_code == 400 and "JSON object" in body(array)["message"]


def test_list_where_order_offset_limit_and_count(api):
    for name in ("Alpha", "Beta", "Gamma, Inc", "Delta"):
        _create(api, company=name, bill_city="Paris" if name != "Delta" else "Rome")
    listing = body(api.get("/api/v3/customer?where=bill_city:EQUALS:Paris&order=company:DESC"))
    assert [c["company"] for c in listing["response"]] == ["Gamma, Inc", "Beta", "Alpha"]
    page = body(api.get("/api/v3/customer?order=customer_id:ASC&offset=1&limit=2"))["response"]
    assert [c["company"] for c in page] == ["Beta", "Gamma, Inc"]
    escaped = body(api.get(r"/api/v3/customer?where=company:EQUALS:Gamma\, Inc"))["response"]
    assert [c["company"] for c in escaped] == ["Gamma, Inc"]
    contains = body(api.get("/api/v3/customer?where=company:CONTAINS:ta"))["response"]
    assert [c["company"] for c in contains] == ["Beta", "Delta"]
    both = "where=bill_city:EQUALS:Paris,company:NOTEQUALS:Beta"
    assert body(api.get(f"/api/v3/customer/_count?{both}"))["response"] == 2
    assert body(api.get("/api/v3/customer/_count?where=external_key:IS:NULL"))["response"] == 4
    assert body(api.get("/api/v3/customer/_count?where=external_key:ISNOT:NULL"))["response"] == 0
    gt = body(api.get("/api/v3/customer?where=customer_id:GT:2,customer_id:LTE:3"))["response"]
    assert [c["company"] for c in gt] == ["Gamma, Inc"]


@pytest.mark.parametrize("query, message", [
    ("where=nope:EQUALS:1", "unknown field 'nope'"),
    ("where=company:LIKE:x", "unknown operator 'LIKE'"),
    ("where=company", "is not field:OPERATOR:value"),
    ("where=customer_id:GT:abc", "not an integer"),
    ("where=write_datetime:GT:someday", "date-time"),
    ("order=company:SIDEWAYS", "ASC or DESC"),
    ("order=nope:ASC", "unknown field 'nope'"),
    ("limit=100000", "at most 500"),
    ("limit=-1", "non-negative"),
    ("offset=x", "non-negative"),
])
def test_bad_queries_are_400(api, query, message):
    response = api.get(f"/api/v3/customer?{query}")
    assert response.status_code == 400
    assert message in body(response)["message"]


def test_user_create_requires_an_existing_customer(api):
    assert api.post("/api/v3/user", json={"email": "a@b.c"}).status_code == 400
    missing = api.post("/api/v3/user", json={"customer_id": 999, "email": "a@b.c"})
    assert missing.status_code == 400 and "no customer 999" in body(missing)["message"]
    customer_id = _create(api)
    created = api.post("/api/v3/user", json={"customer_id": customer_id, "name": "Buffy Miller",
                                             "email": "Buffy@Example.com"})
    assert created.status_code == 201
    user = body(api.get(f"/api/v3/user/{body(created)['response']['id']}"))["response"]
    assert (user["first_name"], user["last_name"], user["email"]) == ("Buffy", "Miller", "buffy@example.com")
    assert user["customers"] == [{"customer_id": str(customer_id), "company": "Acme"}]
    bad_email = api.put(f"/api/v3/user/{user['user_id']}", json={"email": "nope"})
    assert bad_email.status_code == 400 and body(bad_email)["details"]["field"] == "email"


@pytest.mark.parametrize("obj", ["customer", "user", "item", "package", "usage", "invoice", "transaction"])
def test_ids_beyond_64_bits_are_not_found_not_500(api, obj):
    huge = "99999999999999999999"
    assert api.get(f"/api/v3/{obj}/{huge}").status_code == 404
    response = api.get(f"/api/v3/{obj}?where={obj}_id:EQUALS:{huge}")
    if obj == "usage":
        response = api.get(f"/api/v3/usage?where=line_item_id:EQUALS:{huge}")
    assert response.status_code == 400 and body(response)["details"]["field"] == "where"


def test_values_longer_than_their_column_are_400(api):
    response = api.post("/api/v3/customer", json={"company": "A", "bill_city": "x" * 121})
    assert response.status_code == 400 and body(response)["details"]["field"] == "bill_city"
    customer_id = _create(api)
    long_phone = api.post("/api/v3/user", json={"customer_id": customer_id, "phone": "1" * 61})
    assert long_phone.status_code == 400 and body(long_phone)["details"]["field"] == "phone"


def test_nul_characters_in_where_are_400(api):
    for query in ("where=company:CONTAINS:%00", "where=company:EQUALS:a%00b"):
        response = api.get(f"/api/v3/customer?{query}")
        assert response.status_code == 400 and "NUL" in body(response)["message"]

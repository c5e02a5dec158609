"""ChargeOver's PHP examples for `customer`, as the same HTTP exchanges (chargeover_php/docs).

Each test names the example it replays; the answers are the ones ChargeOver documents:
the envelope, 201 {"id"} on create, 202 on modify, true on delete, lists of objects."""
from support.api_client import body

URL = "/api/v3/customer"
EXAMPLE_CUSTOMER = {
    "company": "Test API Company, LLC", "bill_addr1": "123 ChargeOver Street",
    "bill_addr2": "Suite 10", "bill_city": "Minneapolis", "bill_state": "MN",
    "bill_postcode": "55416", "bill_country": "USA", "external_key": "abcd1234",
}


def _create(api, **fields):
    response = api.post(URL, json={**EXAMPLE_CUSTOMER, **fields})
    assert response.status_code == 201, body(response)
    return body(response)["response"]["id"]


def test_example_create_customer(api):
    response = api.post(URL, json=EXAMPLE_CUSTOMER)
    assert response.status_code == 201
    assert body(response)["status"] == "OK"
    customer = body(api.get(f"{URL}/{body(response)['response']['id']}"))["response"]
    assert customer["company"] == "Test API Company, LLC" and customer["bill_state"] == "MN"
    assert customer["external_key"] == "abcd1234" and len(customer["token"]) == 32


def test_example_create_customer_w_user(api):
    customer_id = _create(api, superuser_name="Ryan Bantz", superuser_email="ryan@chargeover.com",
                          superuser_username="ryanbantz42")
    customer = body(api.get(f"{URL}/{customer_id}"))["response"]
    assert customer["superuser_name"] == "Ryan Bantz"
    assert customer["superuser_username"] == "ryanbantz42"
    user = body(api.get(f"/api/v3/user/{customer['superuser_id']}"))["response"]
    assert user["username"] == "ryanbantz42" and user["email"] == "ryan@chargeover.com"


def test_example_error_external_key(api):
    first = api.post(URL, json=EXAMPLE_CUSTOMER)
    again = api.post(URL, json=EXAMPLE_CUSTOMER)
    assert first.status_code == 201
    assert again.status_code == 400 and body(again)["status"] == "Error"
    assert "external_key" in body(again)["message"]


def test_example_get_customer_by_id_and_findbytoken(api):
    customer_id = _create(api)
    customer = body(api.get(f"{URL}/{customer_id}"))["response"]
    by_token = api.get(f"{URL}/token:{customer['token']}")
    assert by_token.status_code == 200 and body(by_token)["response"]["customer_id"] == customer_id
    missing = api.get(f"{URL}/token:nope")
    assert missing.status_code == 404 and body(missing)["response"] is None


def test_example_find_customers_and_get_customer_by_key(api):
    _create(api, bill_state="AZ", external_key="az")
    _create(api, external_key="mn")
    found = body(api.get(f"{URL}?_dummy=1&where=bill_state:EQUALS:AZ"))["response"]
    assert [c["external_key"] for c in found] == ["az"]
    found = body(api.get(f"{URL}?_dummy=1&where=bill_state:EQUALS:MN"))["response"]
    assert [c["external_key"] for c in found] == ["mn"]


def test_example_list_and_paginate_customers(api):
    ids = [_create(api, external_key=f"k{n}") for n in range(12)]
    assert [c["customer_id"] for c in body(api.get(URL))["response"]] == ids[:10]  # default limit
    pages, offset = [], 0
    while True:
        page = body(api.get(f"{URL}?_dummy=1&order=customer_id:ASC&offset={offset}&limit=10"))
        pages.append([c["customer_id"] for c in page["response"]])
        offset += 10
        if len(page["response"]) < 10:
            break
    assert pages == [ids[:10], ids[10:]]


def test_example_modify_customer(api):
    customer_id = _create(api)
    response = api.put(f"{URL}/{customer_id}", json={
        **EXAMPLE_CUSTOMER, "bill_addr1": "77 ChargeOver Street", "external_key": "abcd99",
        "superuser_name": "David Palmer", "superuser_email": "david@palmer.com",
        "superuser_phone": "860-634-1111"})
    assert response.status_code == 202 and body(response)["response"] == {"id": customer_id}
    customer = body(api.get(f"{URL}/{customer_id}"))["response"]
    assert customer["bill_addr1"] == "77 ChargeOver Street"
    assert customer["superuser_phone"] == "860-634-1111"


def test_example_delete_customer(api):
    customer_id = _create(api)
    response = api.delete(f"{URL}/{customer_id}")
    assert response.status_code == 200 and body(response)["response"] is True
    assert api.get(f"{URL}/{customer_id}").status_code == 404


def test_example_object_setandget_names_the_fields_chargeover_does_not_have(api):
    # setCompanyName() sends company_name, which is no ChargeOver field: never silently dropped.
    response = api.post(URL, json={"email": "email@email.com", "company_name": "Test Company Name",
                                   "bill_addr1": "Test bill adderess 1", "bill_post_code": "48858"})
    assert response.status_code == 400 and body(response)["details"]["field"] == "email"


def test_ship_custom_parent_fields_are_stored_and_returned(api):
    parent = _create(api, external_key="parent")
    child = _create(api, external_key="child", parent_customer_id=parent, ship_addr1="1 Dock Rd",
                    ship_city="Duluth", ship_state="MN", ship_postcode="55802",
                    ship_country="USA", custom_1="blue", custom_20="last")
    customer = body(api.get(f"{URL}/{child}"))["response"]
    assert (customer["parent_customer_id"], customer["ship_addr1"], customer["ship_city"]) == \
        (parent, "1 Dock Rd", "Duluth")
    assert (customer["custom_1"], customer["custom_2"], customer["custom_20"]) == ("blue", None, "last")
    api.put(f"{URL}/{child}", json={"custom_1": "", "custom_2": "two"})
    customer = body(api.get(f"{URL}/{child}"))["response"]
    assert (customer["custom_1"], customer["custom_2"]) == (None, "two")
    loop = api.put(f"{URL}/{parent}", json={"parent_customer_id": child})
    assert loop.status_code == 400 and body(loop)["details"]["field"] == "parent_customer_id"
    assert [c["customer_id"] for c in body(api.get(
        f"{URL}?where=parent_customer_id:EQUALS:{parent}"))["response"]] == [child]


def test_documented_but_unstored_fields_are_refused_by_name(api):
    for field, value in (("no_taxes", True), ("custom_21", "x"), ("brand_id", 1)):
        response = api.post(URL, json={"company": "X", field: value})
        assert response.status_code == 400, field
        assert body(response)["details"]["field"] == field
    assert "not supported by Meterbill" in body(api.post(URL, json={"company": "X", "no_taxes": 1}))["message"]
    # What GET returns may be sent back unchanged (read-only fields change nothing).
    customer_id = _create(api)
    shown = body(api.get(f"{URL}/{customer_id}"))["response"]
    assert api.put(f"{URL}/{customer_id}", json=shown).status_code == 202

"""ChargeOver's PHP examples for `item`, as the same HTTP exchanges."""
from decimal import Decimal

from support.api_client import body

URL = "/api/v3/item"


def test_example_create_item(api):
    # example_create_item.php: a service with a flat price model and a setup fee.
    response = api.post(URL, json={"name": "My Apple Test Item 42", "type": "service",
                                   "pricemodel": {"setup": 35.95, "pricemodel": "fla"}})
    assert response.status_code == 201 and body(response)["status"] == "OK"
    item = body(api.get(f"{URL}/{body(response)['response']['id']}"))["response"]
    assert (item["name"], item["item_type"]) == ("My Apple Test Item 42", "service")
    tierset = item["tiersets"][0]
    assert (tierset["pricemodel"], tierset["setup"], tierset["base"]) == ("fla", Decimal("35.95"), 0)


def test_pass_through_item(api):
    response = api.post(URL, json={"name": "Resold costs", "type": "service",
                                   "pricemodel": {"pricemodel": "pas"}})
    assert response.status_code == 201
    item = body(api.get(f"{URL}/{body(response)['response']['id']}"))["response"]
    assert item["tiersets"][0]["pricemodel"] == "pas"
    assert item["tiersets"][0]["pricemodel_desc"].startswith("Pass-through")


def test_item_fields_chargeover_documents_but_meterbill_lacks_are_refused(api):
    for field in ("accounting_sku", "custom_1"):
        response = api.post(URL, json={"name": "X", field: "1"})
        assert response.status_code == 400 and body(response)["details"]["field"] == field
    setup_percent = api.post(URL, json={"name": "X", "pricemodel": {"pricemodel": "fla",
                                                                     "setup_percent": 5}})
    assert setup_percent.status_code == 400
    assert body(setup_percent)["details"]["field"] == "pricemodel.setup_percent"
    assert body(api.get(f"{URL}/_count"))["response"] == 0

"""ChargeOver's PHP examples for package line items (the `upgrade` action), as the same
HTTP exchanges."""
from support.api_client import body

URL = "/api/v3/package"


def _setup(api):
    customer = body(api.post("/api/v3/customer", json={"company": "Acme"}))["response"]["id"]
    items = [body(api.post("/api/v3/item", json={
        "name": name, "type": kind, "pricemodel": {"pricemodel": "fla", "base": base}}))["response"]["id"]
        for name, kind, base in (("Basic", "service", 10), ("Pro", "service", 30),
                                 ("Discount", "discount", 0))]
    package = body(api.post(URL, json={"customer_id": customer, "line_items": [
        {"item_id": items[0], "external_key": "line-one"}]}))["response"]["id"]
    line = body(api.get(f"{URL}/{package}"))["response"]["line_items"][0]["line_item_id"]
    return package, line, items


def _lines(api, package):
    return body(api.get(f"{URL}/{package}"))["response"]["line_items"]


def test_example_upgrade_package(api):
    package, line, items = _setup(api)
    response = api.post(f"{URL}/{package}?action=upgrade", json={"line_items": [
        {"line_item_id": line, "item_id": items[1], "descrip": "upgraded description goes here",
         "custom_1": "new custom 1", "external_key": "new-external1234123234"},
        {"item_id": items[1], "descrip": "upgraded description goes here",
         "custom_1": "new custom 1", "external_key": "new-external123433"}]})
    assert response.status_code == 200 and body(response)["response"] is True
    shown = _lines(api, package)
    assert [(l["item_id"], l["external_key"], l["custom_1"]) for l in shown] == [
        (items[1], "new-external1234123234", "new custom 1"),
        (items[1], "new-external123433", "new custom 1")]


def test_example_upgrade_w_cancel_line(api):
    package, line, _ = _setup(api)
    response = api.post(f"{URL}/{package}?action=upgrade",
                        json={"line_items": [{"line_item_id": line, "cancel": True}]})
    assert response.status_code == 200 and body(response)["response"] is True
    assert _lines(api, package) == []


def test_example_upgrade_w_prorate_package(api):
    package, line, items = _setup(api)
    response = api.post(f"{URL}/{package}?action=upgrade", json={"line_items": [
        {"line_item_id": line, "item_id": items[1], "descrip": "upgraded description goes here",
         "subscribe_prorate": False, "cancel_prorate": False, "custom_1": "new custom 1",
         "external_key": "new-external"}]})
    assert response.status_code == 200, body(response)
    new = _lines(api, package)[0]
    assert (new["subscribe_prorate"], new["external_key"]) == (False, "new-external")


def test_example_upgrade_w_discount_bills_the_percent_off(api):
    package, _, items = _setup(api)
    response = api.post(f"{URL}/{package}?action=upgrade", json={"line_items": [
        {"item_id": items[2], "descrip": "Discount",
         "tierset": {"pricemodel": "fla", "percent": 50}}]})
    assert response.status_code == 200 and body(response)["response"] is True
    discount = _lines(api, package)[1]
    assert (discount["descrip"], discount["tierset"]["percent"]) == ("Discount", 50)
    bad = api.post(f"{URL}/{package}?action=upgrade", json={"line_items": [
        {"item_id": items[2], "tierset": {"pricemodel": "uni", "percent": 50,
                                          "tiers": [{"unit_from": 0, "amount": 1}]}}]})
    assert bad.status_code == 400
    assert body(bad)["details"]["field"] == "line_items[0].tierset.percent"


def test_a_percent_discount_line_is_billed_as_a_discount(api):
    customer = body(api.post("/api/v3/customer", json={"company": "Acme"}))["response"]["id"]
    seats, discount = (body(api.post("/api/v3/item", json={
        "name": name, "type": kind, "pricemodel": {"pricemodel": "fla", "base": base}}))["response"]["id"]
        for name, kind, base in (("Seats", "service", 30), ("Discount", "discount", 0)))
    package = body(api.post(URL, json={"customer_id": customer, "line_items": [
        {"item_id": seats}, {"item_id": discount, "descrip": "Discount",
                             "tierset": {"pricemodel": "fla", "percent": 50}}]}))["response"]["id"]
    invoice_id = body(api.post(f"{URL}/{package}?action=invoice", json=[]))["response"]["id"]
    invoice = body(api.get(f"/api/v3/invoice/{invoice_id}"))["response"]
    assert [line["line_total"] for line in invoice["line_items"]] == [30, -15]
    assert invoice["total"] == 15


def test_per_line_paycycle_bills_the_line_on_its_own_cycle(api):
    package, line, items = _setup(api)
    response = api.post(f"{URL}/{package}?action=upgrade", json={"line_items": [
        {"item_id": items[1], "paycycle": "yrl"}]})
    assert response.status_code == 200, body(response)
    added = _lines(api, package)[1]
    assert (added["paycycle"], added["tierset"]["paycycle"], added["tierset"]["base"]) == ("yrl", "yrl", 30)
    bad = api.post(f"{URL}/{package}?action=upgrade", json={"line_items": [
        {"item_id": items[1], "paycycle": "often"}]})
    assert bad.status_code == 400 and body(bad)["details"]["field"] == "line_items[0].paycycle"


def test_unknown_line_fields_are_refused_by_name(api):
    package, line, _ = _setup(api)
    response = api.post(f"{URL}/{package}?action=upgrade", json={"line_items": [
        {"line_item_id": line, "line_quantity": 2, "expire_recurs": 3}]})
    assert response.status_code == 400
    assert body(response)["details"]["field"] == "line_items[0].expire_recurs"

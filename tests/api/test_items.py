"""`item` through the API: ChargeOver's shape, price models, exact decimals, errors."""
from decimal import Decimal

import pytest

from support.api_client import body, refused
from portal.models import Item, Tierset

TIERED = {"pricemodel": "tie", "base": "10.00", "tiers": [
    {"unit_from": 0, "unit_to": 100, "amount": Decimal("0.10")},
    {"unit_from": 101, "unit_to": 1000, "amount": "0.08"},
    {"unit_from": 1001, "unit_to": None, "amount": Decimal("0.05"), "flat": 2},
]}


def _create_item(api, **fields):
    payload = {"name": "VoIP minutes", "type": "service", "pricemodel": TIERED, **fields}
    response = api.post("/api/v3/item", json=payload)
    assert response.status_code == 201, body(response)
    return body(response)["response"]["id"]


def _get(api, item_id):
    response = api.get(f"/api/v3/item/{item_id}")
    assert response.status_code == 200
    return body(response)["response"]



def test_create_chargeover_example_item_and_get_its_shape(api):
    response = api.post("/api/v3/item", json={
        "name": "My Item", "type": "service", "external_key": "abc", "units": "GB",
        "pricemodel": {"pricemodel": "fla", "base": Decimal("295.95"), "setup": Decimal("35.95"),
                       "paycycle": "mon"}})
    assert response.status_code == 201
    item_id = body(response)["response"]["id"]
    assert response.headers["Location"].endswith(f"/api/v3/item/{item_id}")
    item = _get(api, item_id)
    assert {k: item[k] for k in ("item_id", "item_type", "name", "description", "units",
                                 "units_plural", "external_key", "enabled", "is_metered",
                                 "usage_type")} == {
        "item_id": item_id, "item_type": "service", "name": "My Item", "description": None,
        "units": "GB", "units_plural": None, "external_key": "abc", "enabled": True,
        "is_metered": False, "usage_type": "add"}
    assert item["service_data"]["is_usage"] is False and item["write_datetime"]
    [tierset] = item["tiersets"]
    assert tierset["tierset_id"] == item["tierset_id"]
    assert (tierset["pricemodel"], tierset["base"], tierset["setup"], tierset["paycycle"]) == (
        "fla", Decimal("295.95"), Decimal("35.95"), "mon")
    assert tierset["tiers"] == [] and tierset["minimum"] is None and tierset["block_size"] is None


def test_tiered_item_round_trips_exact_decimals(api):
    item_id = _create_item(api, item_type="product", units="minute", units_plural="minutes",
                           is_metered=True, usage_type="max", description="Calls")
    item = _get(api, item_id)
    assert (item["item_type"], item["is_metered"], item["usage_type"]) == ("product", True, "max")
    assert item["service_data"]["is_usage"] is True and item["units_plural"] == "minutes"
    tierset = item["tiersets"][0]
    assert tierset["base"] == Decimal("10.00") and tierset["paycycle"] == "evy"
    assert tierset["tiers"] == [
        {"unit_from": 0, "unit_to": 100, "amount": Decimal("0.10"), "flat": 0},
        {"unit_from": 101, "unit_to": 1000, "amount": Decimal("0.08"), "flat": 0},
        {"unit_from": 1001, "unit_to": None, "amount": Decimal("0.05"), "flat": 2},
    ]


def test_amount_0_0125_and_fractional_bounds_are_exact(api, db):
    raw = api.post("/api/v3/item", data='{"name": "Storage", "pricemodel": {"pricemodel": "vol", '
                   '"minimum": 0.1, "tiers": [{"unit_from": 0, "unit_to": 100.5, "amount": 0.0125},'
                   ' {"unit_from": 100.5, "amount": 0.000001}]}}',
                   headers={"Content-Type": "application/json"})
    assert raw.status_code == 201, body(raw)
    item_id = body(raw)["response"]["id"]
    text = api.get(f"/api/v3/item/{item_id}").get_data(as_text=True)
    assert '"amount": 0.0125' in text and '"unit_to": 100.5' in text and '"amount": 0.000001' in text
    tiers = db.session.get(Item, item_id).tierset.tiers
    assert [t.amount for t in tiers] == [Decimal("0.0125"), Decimal("0.000001")]
    assert db.session.get(Item, item_id).tierset.minimum == Decimal("0.1")


def test_other_price_models_and_input_styles(api):
    pkg = _create_item(api, pricemodel={"pricemodel": "pkg", "block_size": "50",
                                        "tiers": [{"unit_from": 0, "amount": "3"}]})
    assert _get(api, pkg)["tiersets"][0]["block_size"] == 50
    # `pricemodel` as a code with the tierset's fields beside it, unit_from defaulted.
    flat_style = api.post("/api/v3/item", json={
        "name": "Seats", "pricemodel": "stp", "setup": "5",
        "tiers": [{"unit_to": 10, "amount": "20"}, {"amount": "35"}]})
    assert flat_style.status_code == 201, body(flat_style)
    tierset = _get(api, body(flat_style)["response"]["id"])["tiersets"][0]
    assert [(t["unit_from"], t["unit_to"]) for t in tierset["tiers"]] == [(0, 10), (10, None)]
    assert tierset["setup"] == 5 and tierset["pricemodel"] == "stp"
    # No price model at all: a free flat item; service_data.is_usage marks it metered.
    bare = api.post("/api/v3/item", json={"name": "Free", "service_data": {"is_usage": True}})
    item = _get(api, body(bare)["response"]["id"])
    assert item["tiersets"][0]["pricemodel"] == "fla" and item["tiersets"][0]["base"] == 0
    assert item["is_metered"] is True


@pytest.mark.parametrize("tiers, field, message", [
    ([{"unit_from": 0, "unit_to": 100, "amount": 1}, {"unit_from": 150, "amount": 1}],
     "pricemodel.tiers[1].unit_from", "leaves a gap after tier 0"),
    ([{"unit_from": 0, "unit_to": 100, "amount": 1}, {"unit_from": 50, "amount": 1}],
     "pricemodel.tiers[1].unit_from", "overlaps tier 0"),
    ([{"unit_from": 101, "unit_to": 1000, "amount": 1}, {"unit_from": 0, "unit_to": 100, "amount": 1},
      {"unit_from": 1001, "amount": 1}], "pricemodel.tiers", "ascending order"),
    ([{"unit_from": 0, "unit_to": 100, "amount": "-1"}, {"unit_from": 100, "amount": 1}],
     "pricemodel.tiers[0].amount", "must not be negative"),
    ([{"unit_from": 0, "unit_to": 100, "amount": 1, "flat": -2}, {"unit_from": 100, "amount": 1}],
     "pricemodel.tiers[0].flat", "must not be negative"),
    ([{"unit_from": 10, "unit_to": 5, "amount": 1}], "pricemodel.tiers[0].unit_to",
     "5 must not be below unit_from 10"),
    ([{"unit_from": 5, "amount": 1}], "pricemodel.tiers[0].unit_from", "must start at 0 or 1"),
    ([], "pricemodel.tiers", "needs at least one tier"),
    ([{"unit_from": 0, "amount": "abc"}], "pricemodel.tiers[0].amount", "must be a number"),
    ([{"unit_from": 0, "unit_to": "1.0000001", "amount": 1}, {"amount": 1}],
     "pricemodel.tiers[0].unit_to", "at most 6 decimal places"),
    ([{"unit_from": 0}], "pricemodel.tiers[0].amount", "is required"),
    (["x"], "pricemodel.tiers[0]", "must be an object"),
    ({"unit_from": 0}, "pricemodel.tiers", "must be a list"),
])
def test_invalid_tiers_are_400_naming_the_field(api, tiers, field, message):
    response = api.post("/api/v3/item", json={"name": "X", "pricemodel": {"pricemodel": "tie", "tiers": tiers}})
    assert message in refused(response, field)


@pytest.mark.parametrize("pricemodel, field, message", [
    ({"pricemodel": "abc"}, "pricemodel.pricemodel", "must be one of fla, uni, tie"),
    ({"base": 1}, "pricemodel.pricemodel", "is required"),
    ({"pricemodel": "fla", "base": "-5"}, "pricemodel.base", "must not be negative"),
    ({"pricemodel": "fla", "setup": "1e3"}, "pricemodel.setup", "must be a number"),
    ({"pricemodel": "fla", "base": True}, "pricemodel.base", "must be a number"),
    ({"pricemodel": "fla", "base": "1000000000000"}, "pricemodel.base", "less than"),
    ({"pricemodel": "fla", "base": "0.0000000000001"}, "pricemodel.base", "decimal places"),
    ({"pricemodel": "fla", "paycycle": "fortnight"}, "pricemodel.paycycle", "must be one of"),
    ({"pricemodel": "fla", "paycycle": 7}, "pricemodel.paycycle", "paycycle code"),
    ({"pricemodel": "pkg", "tiers": [{"amount": 1}]}, "pricemodel.block_size", "greater than 0"),
    ({"pricemodel": "uni", "tiers": [{"unit_to": 5, "amount": 1}, {"amount": 2}]},
     "pricemodel.tiers", "exactly one tier"),
    ([1, 2], "pricemodel", "must be an object"),
])
def test_invalid_pricemodels_are_400(api, pricemodel, field, message):
    response = api.post("/api/v3/item", json={"name": "X", "pricemodel": pricemodel})
    assert message in refused(response, field)


@pytest.mark.parametrize("payload, field", [
    ({}, "name"),
    ({"name": "  "}, "name"),
    ({"name": ["x"]}, "name"),
    ({"name": "X", "type": "gadget"}, "item_type"),
    ({"name": "X", "item_type": 5}, "item_type"),
    ({"name": "X", "usage_type": "avg"}, "usage_type"),
    ({"name": "X", "enabled": "maybe"}, "enabled"),
    ({"name": "X", "is_metered": {"a": 1}}, "is_metered"),
    ({"name": "X", "service_data": {"is_usage": "perhaps"}}, "service_data.is_usage"),
    ({"name": "X", "units": "u" * 61}, "units"),
    ({"name": "X", "tiersets": {"pricemodel": "fla"}}, "tiersets"),
])
def test_bad_item_fields_are_400(api, payload, field):
    refused(api.post("/api/v3/item", json=payload), field)


def test_duplicate_external_key_is_400_on_create_and_update(api):
    _create_item(api, external_key="voip")
    other = _create_item(api, external_key="sms")
    message = refused(api.post("/api/v3/item", json={"name": "B", "external_key": "voip"}), "external_key")
    assert message == "external_key: 'voip' is already used by item 1"
    refused(api.put(f"/api/v3/item/{other}", json={"external_key": "voip"}), "external_key")
    assert api.put(f"/api/v3/item/{other}", json={"external_key": "sms"}).status_code == 202


def test_update_fields_and_replace_the_price_model(api, db):
    item_id = _create_item(api)
    old_tierset = _get(api, item_id)["tierset_id"]
    response = api.put(f"/api/v3/item/{item_id}", json={
        "name": "Renamed", "enabled": False, "units": "call", "usage_type": "lat",
        "pricemodel": {"pricemodel": "uni", "tiers": [{"unit_from": 0, "amount": "0.0125"}]}})
    assert response.status_code == 202 and body(response)["response"] == {"id": item_id}
    item = _get(api, item_id)
    assert (item["name"], item["enabled"], item["units"], item["usage_type"]) == ("Renamed", False, "call", "lat")
    assert item["tierset_id"] != old_tierset and db.session.get(Tierset, old_tierset) is None
    assert item["tiersets"][0]["tiers"] == [{"unit_from": 0, "unit_to": None,
                                             "amount": Decimal("0.0125"), "flat": 0}]
    # The GET shape can be sent back: `tiersets` replaces the price model too.
    tierset = dict(item["tiersets"][0], pricemodel="fla", base=Decimal("7.5"))
    assert api.put(f"/api/v3/item/{item_id}", json={"tiersets": [tierset]}).status_code == 202
    assert _get(api, item_id)["tiersets"][0]["base"] == Decimal("7.5")
    bad = api.put(f"/api/v3/item/{item_id}", json={"tiersets": [{"pricemodel": "vol", "tiers": []}]})
    refused(bad, "tiersets[0].tiers")
    refused(api.put(f"/api/v3/item/{item_id}", json={"name": ""}), "name")


def test_item_used_by_a_package_line(api):
    item_id = _create_item(api, is_metered=True)
    customer_id = body(api.post("/api/v3/customer", json={"company": "Acme"}))["response"]["id"]
    package = api.post("/api/v3/package", json={"customer_id": customer_id,
                                                "line_items": [{"item_id": item_id}]})
    package_id = body(package)["response"]["id"]
    deleting = api.delete(f"/api/v3/item/{item_id}")
    assert body(deleting)["message"] == f"item_id: item {item_id} is used by package lines and cannot be deleted"
    assert deleting.status_code == 400
    assert "cannot change while" in refused(api.put(f"/api/v3/item/{item_id}", json={"is_metered": False}),
                                           "is_metered")
    refused(api.put(f"/api/v3/item/{item_id}", json={"usage_type": "max"}), "usage_type")
    # A new price model bills the existing line (it has no override of its own).
    api.put(f"/api/v3/item/{item_id}", json={"pricemodel": {"pricemodel": "fla", "base": "99"}})
    line = body(api.get(f"/api/v3/package/{package_id}"))["response"]["line_items"][0]
    assert line["item_id"] == item_id and line["tierset"]["base"] == 99
    assert api.put(f"/api/v3/item/{item_id}", json={"enabled": "0"}).status_code == 202
    assert _get(api, item_id)["enabled"] is False


def test_delete_unused_item(api, db):
    item_id = _create_item(api)
    tierset_id = _get(api, item_id)["tierset_id"]
    response = api.delete(f"/api/v3/item/{item_id}")
    assert response.status_code == 200 and body(response)["response"] is True
    assert api.get(f"/api/v3/item/{item_id}").status_code == 404
    assert db.session.get(Tierset, tierset_id) is None


def test_list_where_order_and_count(api):
    _create_item(api, name="Minutes", is_metered=True, external_key="m")
    _create_item(api, name="Seats", type="product")
    _create_item(api, name="Setup fee", enabled=False)
    names = lambda q: [i["name"] for i in body(api.get(f"/api/v3/item?{q}"))["response"]]
    assert names("order=name:DESC") == ["Setup fee", "Seats", "Minutes"]
    assert names("where=is_metered:EQUALS:1") == ["Minutes"]
    assert names("where=enabled:EQUALS:false") == ["Setup fee"]
    assert names("where=item_type:EQUALS:product") == ["Seats"]
    assert names("where=name:CONTAINS:se&order=item_id:DESC") == ["Setup fee", "Seats"]
    assert names("where=external_key:ISNOT:NULL") == ["Minutes"]
    assert names("where=item_id:GT:1&limit=1") == ["Seats"]
    assert body(api.get("/api/v3/item/_count?where=enabled:EQUALS:1"))["response"] == 2
    bad = api.get("/api/v3/item?where=enabled:EQUALS:perhaps")
    assert bad.status_code == 400 and "true/false" in body(bad)["message"]
    assert api.get("/api/v3/item/999").status_code == 404

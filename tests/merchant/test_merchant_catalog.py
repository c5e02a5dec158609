"""Catalog pages: item list, item form with tier editor, price calculator, permissions."""
import re
from decimal import Decimal

from support.factories import make_package, make_voip_item
from portal.models import Item

TIERED = {
    "name": "Storage", "item_type": "service", "units": "GB", "units_plural": "GB",
    "is_metered": "y", "usage_type": "add", "enabled": "y", "pricemodel": "tie",
    "base": "", "setup": "", "minimum": "", "block_size": "", "paycycle": "",
    "tiers-0-unit_from": "0", "tiers-0-unit_to": "100", "tiers-0-amount": "0.10", "tiers-0-flat": "",
    "tiers-1-unit_from": "101", "tiers-1-unit_to": "1000", "tiers-1-amount": "0.08", "tiers-1-flat": "",
    "tiers-2-unit_from": "1001", "tiers-2-unit_to": "", "tiers-2-amount": "0.05", "tiers-2-flat": "",
}


def test_empty_catalog_explains_what_to_do(admin):
    page = admin.get("/merchant/items").get_data(as_text=True)
    assert "No items yet." in page and "flask seed-demo" in page


def test_list_shows_items(admin, db):
    make_voip_item(external_key="voip")
    db.session.commit()
    page = " ".join(admin.get("/merchant/items").get_data(as_text=True).split())
    assert "VoIP minutes" in page and "Per unit" in page and "10.00 base + 0.05 per minute" in page


def test_list_shows_prices_with_two_decimals_at_least_and_every_decimal_typed(admin, db):
    from portal.billing.pricing import PriceModel
    from portal.services.catalog import unit_price

    make_voip_item(name="Typed", pricing=PriceModel(pricemodel="uni", base=Decimal("0.2"), setup=Decimal("5"),
                                                   tiers=unit_price("1.234567891")))
    db.session.commit()
    page = " ".join(admin.get("/merchant/items").get_data(as_text=True).split())
    assert "0.20 base + 1.234567891 per minute" in page and "setup 5.00" in page


def test_create_tiered_item(admin, db):
    response = admin.post("/merchant/items", TIERED)
    assert response.status_code == 302
    item = db.session.query(Item).filter_by(name="Storage").one()
    assert item.is_metered and item.tierset.pricemodel == "tie"
    assert [t.amount for t in item.tierset.tiers] == [Decimal("0.10"), Decimal("0.08"), Decimal("0.05")]


def test_bad_tier_is_shown_next_to_its_field(admin, db):
    data = dict(TIERED, **{"tiers-1-unit_from": "150"})
    response = admin.post("/merchant/items", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "leaves a gap after tier 1" in page
    assert 'name="tiers-1-unit_from"' in page and db.session.query(Item).count() == 0


def test_missing_name_is_refused(admin, db):
    response = admin.post("/merchant/items", dict(TIERED, name=" "))
    assert response.status_code == 422 and "is required" in response.get_data(as_text=True)


def test_single_tier_model_with_two_tiers_shows_list_error(admin):
    response = admin.post("/merchant/items", dict(TIERED, pricemodel="uni"))
    assert response.status_code == 422
    assert "needs exactly one tier" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(admin, db):
    assert admin.post("/merchant/items", TIERED, csrf=False).status_code == 400
    assert db.session.query(Item).count() == 0


def test_edit_form_shows_current_price_model(admin, db):
    item = make_voip_item()
    db.session.commit()
    page = admin.get(f"/merchant/items/{item.id}").get_data(as_text=True)
    assert 'value="0.05"' in page and 'value="10.00"' in page
    assert "15.00 USD" in page  # calculator at 100 minutes: 10.00 base + 5.00


def test_update_renames_and_keeps_tierset_when_prices_unchanged(admin, db):
    item = make_voip_item()
    db.session.commit()
    tierset_id = item.tierset_id
    data = {"name": "Voice minutes", "item_type": "service", "units": "minute", "units_plural": "minutes",
            "is_metered": "y", "usage_type": "add", "enabled": "y", "pricemodel": "uni", "base": "10.00",
            "tiers-0-unit_from": "0", "tiers-0-amount": "0.05"}
    assert admin.post(f"/merchant/items/{item.id}", data).status_code == 302
    db.session.expire_all()
    assert item.name == "Voice minutes" and item.tierset_id == tierset_id
    assert admin.post(f"/merchant/items/{item.id}", dict(data, **{"tiers-0-amount": "0.04"})).status_code == 302
    db.session.expire_all()
    assert item.tierset_id != tierset_id and item.tierset.tiers[0].amount == Decimal("0.04")


def test_metering_cannot_change_while_in_use(admin, db):
    package = make_package()
    db.session.commit()
    item = package.line_items[0].item
    item_id, tierset_id = item.id, item.tierset_id
    data = {"name": "VoIP", "item_type": "service", "usage_type": "add", "enabled": "y",
            "pricemodel": "uni", "base": "10", "tiers-0-amount": "0.05"}  # is_metered left out
    response = admin.post(f"/merchant/items/{item_id}", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'id="is_metered".*?<div class="field-error">([^<]+)</div>', page, re.S)
    assert error and error.group(1) == f"cannot change while item {item_id} is used by package lines"
    db.session.expire_all()
    unchanged = db.session.get(Item, item_id)  # nothing of the refused form was saved
    assert (unchanged.name, unchanged.is_metered, unchanged.tierset_id) == ("VoIP minutes", True, tierset_id)


def test_delete_unused_item_and_refuse_used_one(admin, db):
    unused = make_voip_item(name="Spare")
    package = make_package()
    db.session.commit()
    used_id, unused_id = package.line_items[0].item_id, unused.id
    assert admin.post(f"/merchant/items/{unused_id}/delete").status_code == 302
    assert db.session.get(Item, unused_id) is None
    response = admin.post(f"/merchant/items/{used_id}/delete", follow_redirects=True)
    assert "Not deleted" in response.get_data(as_text=True) and db.session.get(Item, used_id)


def test_tier_editor_adds_and_removes_rows(admin):
    query = {k: v for k, v in TIERED.items() if k.startswith("tiers-") or k == "pricemodel"}
    added = admin.get("/merchant/items/tier-editor", htmx=True, query_string={**query, "add": "1"})
    page = added.get_data(as_text=True)
    assert added.status_code == 200 and "<html" not in page
    assert 'name="tiers-3-unit_from"' in page and 'value="0.05"' in page
    removed = admin.get("/merchant/items/tier-editor", htmx=True,
                        query_string={**query, "remove": "0"}).get_data(as_text=True)
    assert 'name="tiers-2-unit_from"' not in removed and 'value="0.10"' not in removed


def test_price_calculator_uses_unsaved_tiers(viewer):
    query = {k: v for k, v in TIERED.items() if k.startswith("tiers-") or k == "pricemodel"}
    page = viewer.get("/merchant/items/price", htmx=True,
                      query_string={**query, "quantity": "1500"}).get_data(as_text=True)
    assert "107.00 USD" in page and "72.00 USD" in page  # 100×0.10 + 900×0.08 + 500×0.05
    volume = viewer.get("/merchant/items/price", htmx=True,
                        query_string={**query, "pricemodel": "vol", "quantity": "1500"}).get_data(as_text=True)
    assert "75.00 USD" in volume


def test_price_calculator_reports_bad_input(viewer):
    page = viewer.get("/merchant/items/price", htmx=True, query_string={
        "pricemodel": "uni", "tiers-0-amount": "0.05", "quantity": "-3"}).get_data(as_text=True)
    assert "quantity: must not be negative" in page
    page = viewer.get("/merchant/items/price", htmx=True, query_string={
        "pricemodel": "uni", "tiers-0-amount": "abc", "quantity": "3"}).get_data(as_text=True)
    assert "Tier 1 amount: must be a number" in page


def test_create_pass_through_item_ignores_the_tier_rows(admin, db):
    response = admin.post("/merchant/items", dict(TIERED, name="Resold costs", pricemodel="pas"))
    assert response.status_code == 302
    item = db.session.query(Item).filter_by(name="Resold costs").one()
    assert (item.tierset.pricemodel, item.tierset.tiers) == ("pas", [])
    page = " ".join(admin.get("/merchant/items").get_data(as_text=True).split())
    assert "Pass-through (usage is the amount)" in page

"""The catalog service: price models from client input, items created, updated, deleted."""
from decimal import Decimal

import pytest

from support.factories import make_package, make_voip_item
from portal.billing.errors import ValidationError
from portal.billing.pricing import PriceModel, Tier
from portal.models import Tierset
from portal.services.catalog import (
    create_item, delete_item, field_prefix, item_in_use, parse_price, parse_pricemodel,
    pricemodel_of, update_item,
)


def test_parse_pricemodel_reads_strings_ints_and_decimals_exactly():
    pricing = parse_pricemodel({"pricemodel": "TIE", "base": 10, "setup": "2.50", "minimum": Decimal("1"),
                                "paycycle": "evy", "tiers": [
                                    {"unit_to": "100", "amount": Decimal("0.0125")},
                                    {"unit_from": 100, "amount": "0.01", "flat": "3"}]})
    assert pricing == PriceModel(
        pricemodel="tie", base=Decimal(10), setup=Decimal("2.50"), minimum=Decimal(1), paycycle=None,
        tiers=(Tier(Decimal(0), Decimal(100), Decimal("0.0125")),
               Tier(Decimal(100), None, Decimal("0.01"), Decimal(3))))


@pytest.mark.parametrize("raw, prefix, field", [
    ({"pricemodel": "tie", "tiers": [{"unit_to": 10, "amount": 1}, {"unit_from": 12, "amount": 1}]},
     "line_items[3].tierset", "line_items[3].tierset.tiers[1].unit_from"),
    ({"pricemodel": "uni", "tiers": [{"amount": 1.5}]}, "pricemodel", "pricemodel.tiers[0].amount"),
    ({"pricemodel": "fla", "minimum": "-1"}, "", "minimum"),
    ("fla", "tierset", "tierset"),
    ({"pricemodel": "pkg", "block_size": "0.0000001", "tiers": [{"amount": 1}]}, "p", "p.block_size"),
])
def test_parse_pricemodel_errors_name_the_prefixed_field(raw, prefix, field):
    with pytest.raises(ValidationError) as error:
        parse_pricemodel(raw, prefix=prefix)
    assert error.value.field == field


def test_parse_price_bounds():
    assert parse_price("0.000000000001", "x") == Decimal("1E-12")
    for bad in ("1e2", "-0.01", "1000000000000", "0.0000000000001", None, True):
        with pytest.raises(ValidationError):
            parse_price(bad, "x")


def test_field_prefix_leaves_other_errors_alone():
    with pytest.raises(ValidationError) as error, field_prefix("a[1]"):
        raise ValidationError("b", "bad")
    assert str(error.value) == "a[1].b: bad"
    with pytest.raises(KeyError), field_prefix("a"):
        raise KeyError("x")


def test_create_item_validates_and_stores_the_tierset(db):
    item = create_item(name=" Minutes ", pricing=parse_pricemodel({"pricemodel": "uni", "tiers": [
        {"amount": "0.0125"}]}), external_key="min", enabled=False)
    assert (item.name, item.enabled, item.tierset.tiers[0].amount) == ("Minutes", False, Decimal("0.0125"))
    assert pricemodel_of(item.tierset).tiers[0].amount == Decimal("0.0125")
    with pytest.raises(ValidationError, match="already used by item"):
        create_item(name="Other", pricing=PriceModel(pricemodel="fla"), external_key="min")
    for bad in ({"item_type": "thing"}, {"usage_type": "sum"}, {"name": ""}):
        with pytest.raises(ValidationError):
            create_item(**{"name": "X", "pricing": PriceModel(pricemodel="fla"), **bad})


def test_update_item_replaces_the_tierset_and_deletes_the_old(db):
    item = make_voip_item()
    old_id = item.tierset_id
    update_item(item, pricing=PriceModel(pricemodel="fla", base=Decimal("5")), name="Flat", units=None)
    assert item.tierset_id != old_id and db.session.get(Tierset, old_id) is None
    assert (item.name, item.tierset.base, item.units) == ("Flat", Decimal(5), None)
    with pytest.raises(ValidationError, match="is not an item field"):
        update_item(item, price=1)


def test_item_in_use_cannot_change_metering_nor_be_deleted(db):
    item = make_voip_item()
    assert not item_in_use(item)
    update_item(item, usage_type="max")  # free to change while no line uses it
    make_package(item=item)
    assert item_in_use(item)
    update_item(item, is_metered=True, usage_type="max")  # unchanged values are fine
    with pytest.raises(ValidationError) as error:
        update_item(item, is_metered=False)
    assert error.value.field == "is_metered"
    with pytest.raises(ValidationError, match=f"item {item.id} is used by package lines"):
        delete_item(item)


def test_delete_item_removes_it_and_its_tierset(db):
    item = make_voip_item()
    tierset_id = item.tierset_id
    delete_item(item)
    assert db.session.get(Tierset, tierset_id) is None

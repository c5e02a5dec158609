"""`item`: products and services of the catalog, each with its price model (tierset)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.api.body import get_bool, get_str
from portal.api.envelope import ApiError
from portal.api.fields import policy
from portal.api.format import dt
from portal.api.query import Field, as_bool, as_datetime, as_int, as_text
from portal.api.registry import Resource, register
from portal.billing.errors import ValidationError
from portal.billing.pricing import PriceModel
from portal.models import Item, Tierset
from portal.services.catalog import (
    EVERY_CYCLE, create_item, delete_item, parse_pricemodel, update_item,
)

PRICEMODEL_DESCRIPTIONS = {
    "fla": "Flat Pricing (e.g. $X dollars per month)",
    "uni": "Unit Pricing (e.g. $X per unit)",
    "tie": "Tiered Pricing (graduated: each tier's units at its price)",
    "vol": "Volume Pricing (all units at the price of the tier reached)",
    "stp": "Stair-Step Pricing (one price for the step reached)",
    "pkg": "Package Pricing (e.g. $X per block of N units)",
    "pas": "Pass-through Pricing (the usage value is the amount charged)",
}
# Text fields and their column lengths (PostgreSQL refuses longer text; SQLite would keep it).
TEXT_FIELDS = {"name": 255, "description": 10000, "units": 60, "units_plural": 60,
               "external_key": 255, "usage_type": 3}

NOT_BILLED = "it would change what is billed and Meterbill does not support it"
TIERSET_POLICY = policy(
    "tierset",
    stored=("pricemodel", "base", "setup", "minimum", "block_size", "paycycle", "tiers",
            "percent"),
    read_only=("tierset_id", "pricemodel_desc", "currency_id", "currency_iso4217"),
    unsupported={
        "setup_percent": NOT_BILLED,
    })
POLICY = policy(
    "item",
    stored=(*TEXT_FIELDS, "type", "item_type", "enabled", "is_metered", "service_data",
            "pricemodel", "tiersets", "base", "setup", "minimum", "block_size", "paycycle",
            "tiers"),
    read_only=("item_id", "tierset_id", "write_datetime", "mod_datetime"),
    unsupported={
        "accounting_sku": "Meterbill exports nothing to an accounting system",
        "item_category_ids": "Meterbill's catalog has no categories",
        "categories": "Meterbill's catalog has no categories",
        "custom_1": "items have no custom fields", "custom_2": "items have no custom fields",
        "custom_3": "items have no custom fields",
        "expense_account": "Meterbill exports nothing to an accounting system",
        "income_account": "Meterbill exports nothing to an accounting system",
        "trial_days": "give trial_days on the package line",
    })

FIELDS = {
    "item_id": Field(Item.id, as_int),
    "name": Field(Item.name, as_text),
    "item_type": Field(Item.item_type, as_text),
    "external_key": Field(Item.external_key, as_text),
    "units": Field(Item.units, as_text),
    "enabled": Field(Item.enabled, as_bool),
    "is_metered": Field(Item.is_metered, as_bool),
    "usage_type": Field(Item.usage_type, as_text),
    "tierset_id": Field(Item.tierset_id, as_int),
    "write_datetime": Field(Item.created_at, as_datetime),
}


@contextmanager
def nested(prefix: str) -> Iterator[None]:
    """Name fields of a nested object in errors (`line_items[2].descrip`)."""
    try:
        yield
    except ValidationError as error:
        raise ValidationError(f"{prefix}.{error.field}", error.message) from None
    except ApiError as error:
        field = error.details.get("field")
        if error.code != 400 or not field:
            raise
        raise ApiError(400, f"{prefix}.{error.message}",
                       {**error.details, "field": f"{prefix}.{field}"}) from None


def serialize_tierset(tierset: Tierset) -> dict:
    """A price model as ChargeOver's tierset, with exact decimal numbers."""
    return {
        "tierset_id": tierset.id, "pricemodel": tierset.pricemodel,
        "pricemodel_desc": PRICEMODEL_DESCRIPTIONS[tierset.pricemodel],
        "base": tierset.base, "setup": tierset.setup, "minimum": tierset.minimum,
        "block_size": tierset.block_size, "paycycle": tierset.paycycle or EVERY_CYCLE,
        "percent": tierset.percent,
        "tiers": [{"unit_from": t.unit_from, "unit_to": t.unit_to, "amount": t.amount, "flat": t.flat}
                  for t in tierset.tiers],
    }


def serialize(item: Item) -> dict:
    """An item as ChargeOver returns it."""
    return {
        "item_id": item.id, "item_type": item.item_type, "tierset_id": item.tierset_id,
        "name": item.name, "description": item.description, "units": item.units,
        "units_plural": item.units_plural, "external_key": item.external_key,
        "enabled": item.enabled, "is_metered": item.is_metered, "usage_type": item.usage_type,
        "write_datetime": dt(item.created_at),
        "service_data": {"trial_days": 0, "trial_units": 0, "is_usage": item.is_metered},
        "tiersets": [serialize_tierset(item.tierset)],
    }


def pricing_in(data: dict) -> PriceModel | None:
    """The price model of a body: `pricemodel` as an object (ChargeOver's POST), `tiersets`
    as GET returns it, or `pricemodel` as a code with the other fields beside it."""
    if "pricemodel" in data and isinstance(data["pricemodel"], str):
        return parse_pricemodel(data, prefix="")
    if data.get("pricemodel") is not None:
        if isinstance(data["pricemodel"], dict):
            TIERSET_POLICY.check(data["pricemodel"], "pricemodel")
        return parse_pricemodel(data["pricemodel"], prefix="pricemodel")
    tiersets = data.get("tiersets")
    if tiersets is None:
        return None
    if not isinstance(tiersets, list) or len(tiersets) != 1:
        raise ValidationError("tiersets", "must be a list of exactly one tierset")
    return parse_pricemodel(tiersets[0], prefix="tiersets[0]")


def _fields(data: dict) -> dict:
    """Item fields present in a body, with their types checked."""
    POLICY.check(data)
    fields = {name: get_str(data, name, max_length=length)
              for name, length in TEXT_FIELDS.items() if name in data}
    for name in ("type", "item_type"):  # ChargeOver's POST says `type`, its GET `item_type`
        if name in data:
            fields["item_type"] = get_str(data, name, required=True, max_length=20)
    for name in ("enabled", "is_metered"):
        if get_bool(data, name) is not None:  # null or "" means "not given"
            fields[name] = get_bool(data, name)
    service_data = data.get("service_data")
    if "is_metered" not in fields and isinstance(service_data, dict):
        with nested("service_data"):
            if get_bool(service_data, "is_usage") is not None:
                fields["is_metered"] = get_bool(service_data, "is_usage")
    if fields.get("usage_type") is None:
        fields.pop("usage_type", None)  # an empty usage_type means the default, add
    return fields


def create(data: dict) -> Item:
    """POST /item: name required; the price model defaults to flat with no charge."""
    fields = _fields(data)
    pricing = pricing_in(data) or PriceModel(pricemodel="fla")
    return create_item(name=fields.pop("name", None) or "", pricing=pricing, **fields)


def update(item: Item, data: dict) -> None:
    """PUT /item/N: change the fields given; a price model given replaces the current one."""
    update_item(item, pricing=pricing_in(data), **_fields(data))


def delete(item: Item) -> None:
    """DELETE /item/N: refused while package lines use the item."""
    delete_item(item)


def _query():
    return select(Item).options(selectinload(Item.tierset).selectinload(Tierset.tiers))


register(Resource(
    name="item", model=Item, id_field="item_id", fields=FIELDS, serialize=serialize,
    create=create, update=update, delete=delete, query=_query,
))

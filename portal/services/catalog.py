"""Items and price models: validated by the billing core, stored as tiersets."""
from __future__ import annotations

from decimal import Decimal

from portal.billing.aggregation import validate_usage_type
from portal.billing.errors import ValidationError
from portal.billing.pricing import PriceModel, Tier as CoreTier, validate_pricemodel
from portal.extensions import db
from portal.models import Item, Tier, Tierset
from portal.models.catalog import ITEM_TYPES


def pricemodel_of(tierset: Tierset) -> PriceModel:
    """The billing core's view of a stored tierset."""
    return PriceModel(
        pricemodel=tierset.pricemodel,
        base=tierset.base,
        setup=tierset.setup,
        minimum=tierset.minimum,
        block_size=tierset.block_size,
        paycycle=tierset.paycycle,
        tiers=tuple(
            CoreTier(unit_from=t.unit_from, unit_to=t.unit_to, amount=t.amount, flat=t.flat)
            for t in tierset.tiers
        ),
    )


def build_tierset(pricing: PriceModel) -> Tierset:
    """A new (unflushed) tierset for a validated price model.

    :param pricing: the price model; rejected with ValidationError if inconsistent.
    """
    validate_pricemodel(pricing)
    return Tierset(
        pricemodel=pricing.pricemodel,
        base=pricing.base,
        setup=pricing.setup,
        minimum=pricing.minimum,
        block_size=pricing.block_size,
        paycycle=pricing.paycycle,
        tiers=[
            Tier(position=i, unit_from=t.unit_from, unit_to=t.unit_to, amount=t.amount, flat=t.flat)
            for i, t in enumerate(pricing.tiers)
        ],
    )


def create_item(*, name: str, pricing: PriceModel, is_metered: bool = False,
                usage_type: str = "add", item_type: str = "service", units: str | None = None,
                units_plural: str | None = None, external_key: str | None = None,
                description: str | None = None) -> Item:
    """Create an item with its price model; flushes so the id is known.

    :param name: the item's name, required.
    :param pricing: its price model (validated).
    :param is_metered: whether usage is uploaded for it (billed in arrears).
    :param usage_type: aggregation of its usage: add, max or lat.
    """
    if not name or not name.strip():
        raise ValidationError("name", "is required")
    if item_type not in ITEM_TYPES:
        raise ValidationError("item_type", f"must be one of {', '.join(ITEM_TYPES)}")
    validate_usage_type(usage_type)
    item = Item(
        name=name.strip(), item_type=item_type, units=units, units_plural=units_plural,
        external_key=external_key, description=description, is_metered=is_metered,
        usage_type=usage_type, tierset=build_tierset(pricing),
    )
    db.session.add(item)
    db.session.flush()
    return item


def unit_price(amount: str | Decimal) -> tuple[CoreTier, ...]:
    """A single open tier at `amount` per unit (the `uni` model's tierset)."""
    return (CoreTier(unit_from=Decimal(0), unit_to=None, amount=Decimal(amount)),)

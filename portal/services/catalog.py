"""Items and price models: validated by the billing core, stored as tiersets."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, localcontext

from sqlalchemy import exists, select

from portal.billing.aggregation import validate_usage_type
from portal.billing.errors import ValidationError
from portal.billing.money import EXACT, parse_money, parse_usage_value
from portal.billing.pricing import (
    PriceModel, Tier as CoreTier, TierCharge, price_quantity, tier_breakdown, usage_charge,
    validate_pricemodel,
)
from portal.extensions import db
from portal.models import InvoiceLine, Item, LineItem, Tier, Tierset
from portal.models.catalog import ITEM_TYPES
from portal.services import ensure_unique

# Prices are stored as decimal text of at most 40 characters and multiplied into invoice
# amounts of 64-bit minor units: bound them well inside both limits.
MAX_PRICE = Decimal(10) ** 12
MAX_PRICE_DECIMALS = 12
# ChargeOver's "every billing cycle": the tierset follows its package's paycycle.
EVERY_CYCLE = "evy"
ITEM_FIELDS = ("name", "item_type", "units", "units_plural", "external_key", "enabled",
               "description", "is_metered", "usage_type")


@contextmanager
def field_prefix(prefix: str) -> Iterator[None]:
    """Re-raise ValidationErrors raised inside with `prefix.` before their field.

    :param prefix: e.g. ``"pricemodel"`` or ``"line_items[2]"``; empty means unchanged.
    """
    try:
        yield
    except ValidationError as error:
        if not prefix:
            raise
        raise ValidationError(f"{prefix}.{error.field}", error.message) from None


def pricemodel_of(tierset: Tierset) -> PriceModel:
    """The billing core's view of a stored tierset."""
    return PriceModel(
        pricemodel=tierset.pricemodel,
        base=tierset.base,
        setup=tierset.setup,
        minimum=tierset.minimum,
        block_size=tierset.block_size,
        paycycle=tierset.paycycle,
        percent=tierset.percent,
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
        percent=pricing.percent,
        tiers=[
            Tier(position=i, unit_from=t.unit_from, unit_to=t.unit_to, amount=t.amount, flat=t.flat)
            for i, t in enumerate(pricing.tiers)
        ],
    )


def parse_price(value: object, field: str) -> Decimal:
    """A catalog price from client input: exact, ≥ 0, < 10^12, at most 12 decimals.

    :param value: an int, a Decimal or a decimal string (never a float).
    :param field: the field named in errors.
    """
    price = parse_money(value, field)
    if price >= MAX_PRICE:
        raise ValidationError(field, f"must be less than {MAX_PRICE}")
    if price.as_tuple().exponent < -MAX_PRICE_DECIMALS:
        raise ValidationError(field, f"must have at most {MAX_PRICE_DECIMALS} decimal places")
    return price


def _optional(raw: dict, name: str, parse, default=None):
    value = raw.get(name)
    return default if value is None or value == "" else parse(value, name)


def _tier(raw: object, k: int, previous_to: Decimal | None) -> CoreTier:
    """One tier from input; unit_from defaults to the previous tier's unit_to (or 0)."""
    if not isinstance(raw, dict):
        raise ValidationError(f"tiers[{k}]", "must be an object {unit_from, unit_to, amount, flat}")
    with field_prefix(f"tiers[{k}]"):
        if raw.get("amount") is None or raw.get("amount") == "":
            raise ValidationError("amount", "is required")
        return CoreTier(
            unit_from=_optional(raw, "unit_from", parse_usage_value, previous_to or Decimal(0)),
            unit_to=_optional(raw, "unit_to", parse_usage_value),
            amount=parse_price(raw["amount"], "amount"),
            flat=_optional(raw, "flat", parse_price, Decimal(0)),
        )


def _tiers(raw: object) -> tuple[CoreTier, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValidationError("tiers", "must be a list of {unit_from, unit_to, amount, flat}")
    tiers: list[CoreTier] = []
    for k, entry in enumerate(raw):
        tiers.append(_tier(entry, k, tiers[-1].unit_to if tiers else None))
    return tuple(tiers)


def _paycycle(value: object) -> str | None:
    if value is None or value == "" or value == EVERY_CYCLE:
        return None
    if not isinstance(value, str):
        raise ValidationError("paycycle", "must be a paycycle code such as mon")
    return value


def parse_pricemodel(raw: object, prefix: str = "pricemodel") -> PriceModel:
    """A validated price model from client input (API body or portal form).

    :param raw: {pricemodel, base, setup, minimum, block_size, paycycle, tiers: [{unit_from,
        unit_to, amount, flat}]}; numbers as int, Decimal or decimal strings.
    :param prefix: put before every field named in errors, e.g. ``"line_items[0].tierset"``.
    :raises ValidationError: naming the field, e.g. ``pricemodel.tiers[1].unit_from``.
    """
    if not isinstance(raw, dict):
        raise ValidationError(prefix or "pricemodel", "must be an object {pricemodel, base, tiers, ...}")
    with field_prefix(prefix):
        code = raw.get("pricemodel")
        if not isinstance(code, str) or not code:
            raise ValidationError("pricemodel", "is required (fla, uni, tie, vol, stp, pkg or pas)")
        pricing = PriceModel(
            pricemodel=code.strip().lower(),
            base=_optional(raw, "base", parse_price, Decimal(0)),
            setup=_optional(raw, "setup", parse_price, Decimal(0)),
            minimum=_optional(raw, "minimum", parse_price),
            block_size=_optional(raw, "block_size", parse_usage_value),
            paycycle=_paycycle(raw.get("paycycle")),
            tiers=_tiers(raw.get("tiers")),
            percent=_optional(raw, "percent", parse_price),
        )
        validate_pricemodel(pricing)
    return pricing


def _check_item_fields(fields: dict) -> None:
    if "name" in fields and not (fields["name"] or "").strip():
        raise ValidationError("name", "is required")
    if "item_type" in fields and fields["item_type"] not in ITEM_TYPES:
        raise ValidationError("item_type", f"must be one of {', '.join(ITEM_TYPES)}")
    if "usage_type" in fields:
        validate_usage_type(fields["usage_type"])


def create_item(*, name: str, pricing: PriceModel, is_metered: bool = False,
                usage_type: str = "add", item_type: str = "service", units: str | None = None,
                units_plural: str | None = None, external_key: str | None = None,
                description: str | None = None, enabled: bool = True) -> Item:
    """Create an item with its price model; flushes so the id is known.

    :param name: the item's name, required.
    :param pricing: its price model (validated).
    :param is_metered: whether usage is uploaded for it (billed in arrears).
    :param usage_type: aggregation of its usage: add, max or lat.
    :param external_key: the merchant's own unique key, or None.
    :param enabled: a disabled item cannot be added to packages.
    """
    _check_item_fields({"name": name, "item_type": item_type, "usage_type": usage_type})
    ensure_unique(Item, "external_key", external_key)
    item = Item(
        name=name.strip(), item_type=item_type, units=units, units_plural=units_plural,
        external_key=external_key, description=description, is_metered=is_metered,
        usage_type=usage_type, enabled=enabled, tierset=build_tierset(pricing),
    )
    db.session.add(item)
    db.session.flush()
    return item


def item_in_use(item: Item) -> bool:
    """Whether any package line (cancelled or not) refers to `item`."""
    return bool(db.session.scalar(select(exists().where(LineItem.item_id == item.id))))


def update_item(item: Item, *, pricing: PriceModel | None = None, **fields) -> Item:
    """Change an item's fields (those given) and optionally replace its price model.

    A new price model is a new tierset; lines without an override bill with it from then on.
    Aggregation and metering cannot change once lines use the item: billed periods would be
    re-rated under a different rule.
    :param item: the item.
    :param pricing: the new price model, or None to keep the current one.
    :param fields: any of ITEM_FIELDS.
    """
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not an item field")
    _check_item_fields(fields)
    for name in ("is_metered", "usage_type"):
        if name in fields and fields[name] != getattr(item, name) and item_in_use(item):
            raise ValidationError(name, f"cannot change while item {item.id} is used by package lines")
    ensure_unique(Item, "external_key", fields.get("external_key"), item.id)
    for name, value in fields.items():
        setattr(item, name, value.strip() if isinstance(value, str) else value)
    if pricing is not None:
        old = item.tierset
        item.tierset = build_tierset(pricing)
        db.session.flush()
        db.session.delete(old)  # only the item referred to it (line overrides are their own)
    db.session.flush()
    return item


def delete_item(item: Item) -> None:
    """Delete an item no package line or invoice refers to (else a clear refusal).

    :param item: the item; a merchant may instead disable it (enabled=false).
    """
    if item_in_use(item):
        raise ValidationError("item_id",
                              f"item {item.id} is used by package lines and cannot be deleted")
    if db.session.scalar(select(exists().where(InvoiceLine.item_id == item.id))):
        raise ValidationError("item_id", f"item {item.id} is used by invoices and cannot be deleted")
    tierset = item.tierset
    db.session.delete(item)
    db.session.flush()
    db.session.delete(tierset)
    db.session.flush()


def unit_price(amount: str | Decimal) -> tuple[CoreTier, ...]:
    """A single open tier at `amount` per unit (the `uni` model's tierset)."""
    return (CoreTier(unit_from=Decimal(0), unit_to=None, amount=Decimal(amount)),)


@dataclass(frozen=True)
class PriceQuote:
    """The price of a quantity for one cycle under a price model, explained tier by tier.

    `price` is the quantity's price (tiers and their flat fees), `charge` the usage charge
    (raised to the minimum when one is set), `cycle_total` what one cycle costs: base plus
    charge, or for a flat model base × quantity. `setup` is charged once, on the first invoice.
    """

    quantity: Decimal
    rows: tuple[TierCharge, ...]
    price: Decimal
    charge: Decimal
    base: Decimal
    setup: Decimal
    cycle_total: Decimal

    @property
    def minimum_applies(self) -> bool:
        """Whether the minimum raised the charge above the quantity's price."""
        return self.charge != self.price


def quote_price(pricing: PriceModel, quantity: object) -> PriceQuote:
    """What `quantity` costs for one cycle under `pricing` (the catalog's price calculator).

    :param pricing: a validated price model (e.g. from parse_pricemodel, not yet saved).
    :param quantity: a usage value or line quantity (decimal text; errors name `quantity`).
    """
    q = parse_usage_value(quantity, "quantity")
    with localcontext(EXACT):
        if pricing.pricemodel == "fla":
            return PriceQuote(q, (), Decimal(0), Decimal(0), pricing.base, pricing.setup,
                              pricing.base * q)
        charge = usage_charge(pricing, q)
        return PriceQuote(q, tier_breakdown(pricing, q), price_quantity(pricing, q), charge,
                          pricing.base, pricing.setup, pricing.base + charge)

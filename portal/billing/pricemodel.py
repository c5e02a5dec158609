"""Price models (tiersets) as data, and their validation (docs/billing-rules.md §3).

A tierset that overlaps, leaves a gap, is unordered or has a negative price is refused with
a message naming the field, never silently mis-priced. `portal.billing.pricing` re-exports
these names and prices quantities with them.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from portal.billing.errors import ValidationError
from portal.billing.money import format_decimal
from portal.billing.periods import validate_paycycle

PRICEMODELS = ("fla", "uni", "tie", "vol", "stp", "pkg", "pas")
# Models priced without tiers: flat (its base) and pass-through (the quantity is the amount).
_NO_TIERS = ("fla", "pas")

# Models priced from exactly one tier (its amount is the unit or block price).
_SINGLE_TIER = ("uni", "pkg")
_MODEL_NAMES = {
    "fla": "flat", "uni": "per unit", "tie": "tiered", "vol": "volume",
    "stp": "stair-step", "pkg": "package", "pas": "pass-through",
}


@dataclass(frozen=True)
class Tier:
    """One tier; it covers quantities in (previous tier's unit_to, unit_to].

    ``unit_to`` None means no upper bound (only the last tier). ``amount`` is the price per
    unit (for ``stp`` the price of the step); ``flat`` is added once when usage reaches the tier.
    """

    unit_from: Decimal
    unit_to: Decimal | None
    amount: Decimal
    flat: Decimal = Decimal(0)


@dataclass(frozen=True)
class PriceModel:
    """An item's (or a line's overriding) price model."""

    pricemodel: str
    base: Decimal = Decimal(0)
    setup: Decimal = Decimal(0)
    minimum: Decimal | None = None
    block_size: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    paycycle: str | None = None
    # A discount line's percent (ChargeOver's tierset `percent`, flat model only): the line
    # is charged minus this percent of the package's other advance charges of its periods.
    percent: Decimal | None = None


def _non_negative(value: Decimal | None, field: str) -> None:
    if value is not None and value < 0:
        raise ValidationError(field, f"must not be negative (got {format_decimal(value)})")


def validate_pricemodel(pm: PriceModel) -> None:
    """Check a price model completely; raise on the first problem found.

    :param pm: the price model.
    :raises ValidationError: with the field (``"pricemodel"``, ``"base"``, ``"setup"``,
        ``"minimum"``, ``"block_size"``, ``"paycycle"``, ``"tiers"``, ``"tiers[2].unit_from"``...)
        and a message a merchant understands.
    """
    if pm.pricemodel not in PRICEMODELS:
        raise ValidationError(
            "pricemodel", f"must be one of {', '.join(PRICEMODELS)} (got {pm.pricemodel!r})"
        )
    for field in ("base", "setup", "minimum"):
        _non_negative(getattr(pm, field), field)
    if pm.paycycle is not None:
        validate_paycycle(pm.paycycle, "paycycle")
    if pm.pricemodel == "pkg" and (pm.block_size is None or pm.block_size <= 0):
        raise ValidationError(
            "block_size", "must be greater than 0 for the package (pkg) price model"
        )
    if pm.percent is not None and (pm.pricemodel != "fla" or not 0 < pm.percent <= 100):
        raise ValidationError("percent", "a percent discount is a flat (fla) model with a "
                                         "percent above 0 and at most 100")
    if pm.pricemodel == "pas" and pm.tiers:
        raise ValidationError("tiers", "the pass-through (pas) price model has no tiers: the "
                                       "quantity is the amount charged")
    if pm.pricemodel not in _NO_TIERS:
        # A flat model is priced by its base alone, so its tiers are ignored.
        _validate_tiers(pm.pricemodel, pm.tiers)


def _validate_tiers(model: str, tiers: tuple[Tier, ...]) -> None:
    _validate_count(model, tiers)
    for k, tier in enumerate(tiers):
        _non_negative(tier.amount, f"tiers[{k}].amount")
        _non_negative(tier.flat, f"tiers[{k}].flat")
        _non_negative(tier.unit_from, f"tiers[{k}].unit_from")
    _validate_order(tiers)
    _validate_open_end(tiers)
    _validate_bounds(tiers)
    _validate_first(tiers[0])
    for k in range(1, len(tiers)):
        _validate_adjacent(tiers, k)


def _validate_count(model: str, tiers: tuple[Tier, ...]) -> None:
    name = f"the {_MODEL_NAMES[model]} ({model}) price model"
    if model in _SINGLE_TIER and len(tiers) != 1:
        raise ValidationError("tiers", f"{name} needs exactly one tier (got {len(tiers)})")
    if not tiers:
        raise ValidationError("tiers", f"{name} needs at least one tier")


def _validate_order(tiers: tuple[Tier, ...]) -> None:
    # Checked before gaps and open ends so that a shuffled tierset is reported as such,
    # not as a confusing gap between two tiers the merchant did not mean to be neighbours.
    for k in range(1, len(tiers)):
        prev, tier = tiers[k - 1], tiers[k]
        ends_disordered = (
            prev.unit_to is not None and tier.unit_to is not None and tier.unit_to <= prev.unit_to
        )
        if tier.unit_from < prev.unit_from or ends_disordered:
            raise ValidationError(
                "tiers",
                f"tiers must be in ascending order: tier {k} "
                f"(from {format_decimal(tier.unit_from)}) comes after tier {k - 1} "
                f"(from {format_decimal(prev.unit_from)})",
            )


def _validate_open_end(tiers: tuple[Tier, ...]) -> None:
    # The last tier may carry an upper bound (ChargeOver's "1–9999"): it is shown as given,
    # and quantities above it are priced by the last tier, so every quantity has a price.
    for k, tier in enumerate(tiers[:-1]):
        if tier.unit_to is None:
            raise ValidationError(
                f"tiers[{k}].unit_to",
                f"only the last tier may have no upper bound, "
                f"but tier {k} is followed by tier {k + 1}",
            )


def _validate_bounds(tiers: tuple[Tier, ...]) -> None:
    for k, tier in enumerate(tiers):
        if tier.unit_to is None:
            continue
        field = f"tiers[{k}].unit_to"
        if tier.unit_to <= 0:
            raise ValidationError(
                field, f"must be greater than 0 (got {format_decimal(tier.unit_to)})"
            )
        if tier.unit_to < tier.unit_from:
            raise ValidationError(
                field,
                f"{format_decimal(tier.unit_to)} must not be below "
                f"unit_from {format_decimal(tier.unit_from)}",
            )


def _validate_first(first: Tier) -> None:
    if first.unit_from not in (0, 1):
        raise ValidationError(
            "tiers[0].unit_from",
            f"the first tier must start at 0 or 1 (got {format_decimal(first.unit_from)})",
        )


def _validate_adjacent(tiers: tuple[Tier, ...], k: int) -> None:
    # Tier k may start at the previous end ("0-100, 100-1000") or one after it ("0-100, 101-1000").
    prev_to, start = tiers[k - 1].unit_to, tiers[k].unit_from
    if start in (prev_to, prev_to + 1):
        return
    problem = "leaves a gap after" if start > prev_to else "overlaps"
    raise ValidationError(
        f"tiers[{k}].unit_from",
        f"{format_decimal(start)} {problem} tier {k - 1}, which ends at {format_decimal(prev_to)} "
        f"(expected {format_decimal(prev_to)} or {format_decimal(prev_to + 1)})",
    )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def pricemodel_to_data(pm: PriceModel) -> dict:
    """A price model as JSON-ready data with exact decimal text (stored with each charge).

    :param pm: the price model.
    """
    return {
        "pricemodel": pm.pricemodel, "base": _text(pm.base), "setup": _text(pm.setup),
        "minimum": _text(pm.minimum), "block_size": _text(pm.block_size),
        "paycycle": pm.paycycle, "percent": _text(pm.percent),
        "tiers": [[_text(t.unit_from), _text(t.unit_to), _text(t.amount), _text(t.flat)]
                  for t in pm.tiers],
    }


def pricemodel_from_data(data: dict) -> PriceModel:
    """The price model `pricemodel_to_data` stored (exact round trip).

    :param data: the stored data.
    """
    tiers = tuple(Tier(_number(a), _number(b), _number(c), _number(d))
                  for a, b, c, d in data["tiers"])
    return PriceModel(data["pricemodel"], _number(data["base"]), _number(data["setup"]),
                      _number(data["minimum"]), _number(data["block_size"]),
                      tiers, data.get("paycycle"), _number(data.get("percent")))

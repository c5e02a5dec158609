"""Pricing of a quantity for one cycle under each price model (docs/billing-rules.md §3).

Every model is expressed as a tier breakdown (which tiers are charged, for how many units);
the price is the sum of the breakdown, so the invoice's tier detail and its amount can never
disagree. Results are exact (unrounded); rounding happens once per invoice line.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, localcontext

from portal.billing.errors import ValidationError
from portal.billing.money import EXACT
from portal.billing.pricemodel import PRICEMODELS, PriceModel, Tier, validate_pricemodel

__all__ = [
    "PRICEMODELS", "PriceModel", "Tier", "TierCharge", "price_quantity", "tier_breakdown",
    "tier_index", "usage_charge", "validate_pricemodel",
]


@dataclass(frozen=True)
class TierCharge:
    """One row of a charge's explanation.

    ``quantity`` is the units charged in the tier, ``amount`` their charge (without the flat
    fee), ``flat`` the tier's flat fee, ``rate`` the unit price when amount = quantity × rate
    (None for a stair-step or package price). The price is the sum of ``amount + flat``.
    """

    tier_index: int
    quantity: Decimal
    amount: Decimal
    flat: Decimal
    rate: Decimal | None = None


def _lower(tiers: tuple[Tier, ...], k: int) -> Decimal:
    # Tier k covers (unit_to(k-1), unit_to(k)]; the unit_from styles "100" and "101" agree.
    return Decimal(0) if k == 0 else tiers[k - 1].unit_to


def tier_index(tiers: tuple[Tier, ...], q: Decimal) -> int:
    """Index of the tier a quantity falls in (100.5 falls after a tier ending at 100).

    :param tiers: a validated, non-empty tierset.
    :param q: the quantity.
    """
    for k, tier in enumerate(tiers):
        if tier.unit_to is None or q <= tier.unit_to:
            return k
    return len(tiers) - 1


def _flat(pm: PriceModel, q: Decimal) -> tuple[TierCharge, ...]:
    # A flat model charges its base per cycle (invoicing's "base" kind), nothing per unit.
    return ()


def _uni(pm: PriceModel, q: Decimal) -> tuple[TierCharge, ...]:
    tier = pm.tiers[0]
    return (TierCharge(0, q, q * tier.amount, tier.flat, tier.amount),)


def _tiered(pm: PriceModel, q: Decimal) -> tuple[TierCharge, ...]:
    rows = []
    for k, tier in enumerate(pm.tiers):
        lower = _lower(pm.tiers, k)
        if q <= lower:
            break
        last = k == len(pm.tiers) - 1  # a bounded last tier extends to every quantity
        top = q if tier.unit_to is None or last else min(q, tier.unit_to)
        rows.append(TierCharge(k, top - lower, (top - lower) * tier.amount, tier.flat, tier.amount))
    return tuple(rows)


def _volume(pm: PriceModel, q: Decimal) -> tuple[TierCharge, ...]:
    k = tier_index(pm.tiers, q)
    tier = pm.tiers[k]
    return (TierCharge(k, q, q * tier.amount, tier.flat, tier.amount),)


def _stair_step(pm: PriceModel, q: Decimal) -> tuple[TierCharge, ...]:
    k = tier_index(pm.tiers, q)
    tier = pm.tiers[k]
    return (TierCharge(k, q, tier.amount, tier.flat),)


def _package(pm: PriceModel, q: Decimal) -> tuple[TierCharge, ...]:
    # A started block counts whole; divmod is exact on Decimals (no rounded quotient).
    blocks, rest = divmod(q, pm.block_size)
    if rest:
        blocks += 1
    tier = pm.tiers[0]
    return (TierCharge(0, q, blocks * tier.amount, tier.flat),)


def _pass_through(pm: PriceModel, q: Decimal) -> tuple[TierCharge, ...]:
    # The quantity is the amount (usage reported in money, e.g. resold costs).
    return (TierCharge(0, q, q, Decimal(0), Decimal(1)),)


_BREAKDOWNS: dict[str, Callable[[PriceModel, Decimal], tuple[TierCharge, ...]]] = {
    "fla": _flat,
    "uni": _uni,
    "tie": _tiered,
    "vol": _volume,
    "stp": _stair_step,
    "pkg": _package,
    "pas": _pass_through,
}


def tier_breakdown(pm: PriceModel, q: Decimal) -> tuple[TierCharge, ...]:
    """Explain the price of a quantity tier by tier (for invoices and estimates).

    ``tie`` gives one row per reached tier; ``vol``/``stp`` the one tier q falls in;
    ``uni``/``pkg`` one row; ``fla`` and q = 0 give no rows.

    :param pm: a validated price model.
    :param q: the quantity, ≥ 0.
    :raises ValidationError: q is negative.
    """
    if q < 0:
        raise ValidationError("quantity", "must not be negative")
    if q == 0:
        return ()
    with localcontext(EXACT):
        return _BREAKDOWNS[pm.pricemodel](pm, q)


def price_quantity(pm: PriceModel, q: Decimal) -> Decimal:
    """Exact, unrounded price of a quantity for one cycle, without base, setup or minimum.

    Each reached tier's ``flat`` is included (for every tiered model, and for ``uni``/``pkg``
    once q > 0). q = 0 → 0 for every model.

    :param pm: a validated price model.
    :param q: the quantity, ≥ 0 (aggregated usage, or a non-metered line's quantity).
    :raises ValidationError: q is negative.
    """
    with localcontext(EXACT):
        return sum((row.amount + row.flat for row in tier_breakdown(pm, q)), Decimal(0))


def usage_charge(pm: PriceModel, q: Decimal) -> Decimal:
    """The usage charge of a cycle: the price of q, but at least ``minimum`` when it is set.

    Zero usage pays the minimum.

    :param pm: a validated price model.
    :param q: the period's aggregated usage, ≥ 0.
    """
    price = price_quantity(pm, q)
    if pm.minimum is not None and price < pm.minimum:
        return pm.minimum
    return price

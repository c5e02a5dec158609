"""Validation of price models: every refusal names its field with a clear message."""
from decimal import Decimal as D

import pytest

from portal.billing.errors import ValidationError
from portal.billing.pricing import PriceModel, Tier, validate_pricemodel


def tiers(*bounds, amount="0.10"):
    """Tiers from (unit_from, unit_to) pairs; None = open."""
    return tuple(Tier(D(a), None if b is None else D(b), D(amount)) for a, b in bounds)


def refusal(pm):
    with pytest.raises(ValidationError) as err:
        validate_pricemodel(pm)
    return err.value.field, err.value.message


@pytest.mark.parametrize("pm", [
    PriceModel("fla", base=D("49.99")),
    PriceModel("fla", base=D(10), tiers=tiers((5, 3))),  # a flat model's tiers are ignored
    PriceModel("uni", tiers=tiers((0, None))),
    PriceModel("uni", tiers=tiers((1, None)), minimum=D(0), paycycle="yrl"),
    PriceModel("tie", tiers=tiers((0, 100), (101, 1000), (1001, None))),
    PriceModel("vol", tiers=tiers((1, 100), (100, 1000), (1000, None))),
    PriceModel("stp", tiers=tiers((0, "0.5"), ("0.5", None))),
    PriceModel("stp", tiers=tiers((1, 1), (2, None))),  # a one-unit first step
    PriceModel("pkg", tiers=tiers((0, None)), block_size=D(100)),
    PriceModel("tie", tiers=(Tier(D(0), None, D(0), D(0)),)),  # free is allowed
])
def test_valid_models(pm):
    assert validate_pricemodel(pm) is None


def test_unknown_pricemodel():
    field, message = refusal(PriceModel("flat"))
    assert field == "pricemodel"
    assert message == "must be one of fla, uni, tie, vol, stp, pkg, pas (got 'flat')"


@pytest.mark.parametrize("field", ["base", "setup", "minimum"])
def test_negative_fees(field):
    pm = PriceModel("fla", **{field: D("-1.50")})
    assert refusal(pm) == (field, "must not be negative (got -1.5)")


def test_negative_tier_amount_and_flat():
    bad_amount = (Tier(D(0), D(100), D("0.10")), Tier(D(101), None, D("-0.08")))
    assert refusal(PriceModel("tie", tiers=bad_amount)) == (
        "tiers[1].amount", "must not be negative (got -0.08)")
    bad_flat = (Tier(D(0), None, D("0.10"), flat=D(-5)),)
    assert refusal(PriceModel("vol", tiers=bad_flat))[0] == "tiers[0].flat"


def test_package_needs_a_block_size():
    assert refusal(PriceModel("pkg", tiers=tiers((0, None)))) == (
        "block_size", "must be greater than 0 for the package (pkg) price model")
    assert refusal(PriceModel("pkg", tiers=tiers((0, None)), block_size=D(0)))[0] == "block_size"


def test_tier_counts():
    assert refusal(PriceModel("uni", tiers=tiers((0, 100), (101, None)))) == (
        "tiers", "the per unit (uni) price model needs exactly one tier (got 2)")
    assert refusal(PriceModel("pkg", block_size=D(10))) == (
        "tiers", "the package (pkg) price model needs exactly one tier (got 0)")
    assert refusal(PriceModel("tie")) == (
        "tiers", "the tiered (tie) price model needs at least one tier")


def test_gap_between_tiers():
    pm = PriceModel("tie", tiers=tiers((0, 100), (150, 1000), (1001, None)))
    assert refusal(pm) == (
        "tiers[1].unit_from",
        "150 leaves a gap after tier 0, which ends at 100 (expected 100 or 101)")


def test_gap_later_in_the_tierset():
    pm = PriceModel("vol", tiers=tiers((0, 100), (101, 1000), (1002, None)))
    assert refusal(pm) == (
        "tiers[2].unit_from",
        "1002 leaves a gap after tier 1, which ends at 1000 (expected 1000 or 1001)")


def test_overlapping_tiers():
    pm = PriceModel("tie", tiers=tiers((0, 100), (50, 1000), (1001, None)))
    assert refusal(pm) == (
        "tiers[1].unit_from", "50 overlaps tier 0, which ends at 100 (expected 100 or 101)")


def test_fractional_start_between_the_two_styles_is_refused():
    pm = PriceModel("tie", tiers=tiers((0, 100), ("100.5", None)))
    assert refusal(pm)[0] == "tiers[1].unit_from"


@pytest.mark.parametrize("bounds", [
    ((0, 100), (1001, None), (101, 1000)),
    ((0, 100), (101, 1000), (101, 500), (501, None)),
    ((101, 1000), (0, 100), (1001, None)),
])
def test_unordered_tiers(bounds):
    field, message = refusal(PriceModel("tie", tiers=tiers(*bounds)))
    assert field == "tiers"
    assert message.startswith("tiers must be in ascending order")


def test_a_bounded_last_tier_is_accepted_but_must_not_end_below_its_start():
    # ChargeOver's own example prices tiers 1–9999; quantities above price in the last tier.
    validate_pricemodel(PriceModel("tie", tiers=tiers((0, 100), (101, 1000))))
    assert refusal(PriceModel("uni", tiers=tiers((1, 0)))) == (
        "tiers[0].unit_to", "must be greater than 0 (got 0)")


def test_only_the_last_tier_may_be_open():
    pm = PriceModel("tie", tiers=tiers((0, None), (101, None)))
    assert refusal(pm) == (
        "tiers[0].unit_to",
        "only the last tier may have no upper bound, but tier 0 is followed by tier 1")


def test_first_tier_starts_at_zero_or_one():
    pm = PriceModel("tie", tiers=tiers((5, 100), (101, None)))
    assert refusal(pm) == ("tiers[0].unit_from", "the first tier must start at 0 or 1 (got 5)")


def test_negative_unit_from():
    pm = PriceModel("tie", tiers=tiers((0, 100), (-5, None)))
    assert refusal(pm) == ("tiers[1].unit_from", "must not be negative (got -5)")


def test_unit_to_below_unit_from():
    pm = PriceModel("tie", tiers=tiers((0, 100), (101, "100.5"), (102, None)))
    assert refusal(pm) == ("tiers[1].unit_to", "100.5 must not be below unit_from 101")


def test_first_tier_must_hold_some_quantity():
    pm = PriceModel("tie", tiers=tiers((0, 0), (0, None)))
    assert refusal(pm) == ("tiers[0].unit_to", "must be greater than 0 (got 0)")


def test_invalid_paycycle():
    field, message = refusal(PriceModel("fla", paycycle="weekly"))
    assert field == "paycycle"
    assert "dly, 1wk" in message

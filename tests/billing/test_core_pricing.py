"""Pricing of a quantity under every price model, with hand-computed amounts."""
from decimal import Decimal as D

import pytest

from portal.billing.errors import ValidationError
from portal.billing.pricing import (
    PRICEMODELS, PriceModel, Tier, TierCharge, price_quantity, tier_breakdown, tier_index,
    usage_charge, validate_pricemodel,
)

# docs/billing-rules.md §3: 0–100 at 0.10, 101–1000 at 0.08, 1001+ at 0.05.
DESIGN_TIERS = (
    Tier(D(0), D(100), D("0.10")),
    Tier(D(101), D(1000), D("0.08")),
    Tier(D(1001), None, D("0.05")),
)
# The same tiers written "from the previous end" must price identically.
END_STYLE_TIERS = (
    Tier(D(0), D(100), D("0.10")),
    Tier(D(100), D(1000), D("0.08")),
    Tier(D(1000), None, D("0.05")),
)


def model(pricemodel, tiers=DESIGN_TIERS, **fields):
    pm = PriceModel(pricemodel, tiers=tiers, **fields)
    validate_pricemodel(pm)
    return pm


def test_pricemodel_codes():
    assert PRICEMODELS == ("fla", "uni", "tie", "vol", "stp", "pkg", "pas")
    defaults = PriceModel("fla")
    assert (defaults.base, defaults.setup, defaults.minimum) == (D(0), D(0), None)
    assert defaults.tiers == ()


def test_design_worked_examples():
    assert price_quantity(model("tie"), D(1500)) == D("107.00")
    assert price_quantity(model("vol"), D(1500)) == D("75.00")


def test_chargeover_per_minute_example():
    per_minute = model("uni", tiers=(Tier(D(0), None, D("0.05")),), base=D(10))
    assert price_quantity(per_minute, D(361)) == D("18.05")


@pytest.mark.parametrize("q, expected", [
    ("0", "0"), ("0.5", "0.05"), ("50", "5.00"), ("100", "10.00"), ("100.5", "10.04"),
    ("101", "10.08"), ("1000", "82.00"), ("1000.5", "82.025"), ("1001", "82.05"),
    ("1500", "107.00"),
])
def test_tiered_graduated(q, expected):
    assert price_quantity(model("tie"), D(q)) == D(expected)
    assert price_quantity(model("tie", END_STYLE_TIERS), D(q)) == D(expected)


@pytest.mark.parametrize("q, expected", [
    ("0", "0"), ("50", "5.00"), ("100", "10.00"), ("100.5", "8.04"), ("101", "8.08"),
    ("1000", "80.00"), ("1001", "50.05"), ("1500", "75.00"),
])
def test_volume(q, expected):
    assert price_quantity(model("vol"), D(q)) == D(expected)
    assert price_quantity(model("vol", END_STYLE_TIERS), D(q)) == D(expected)


STEPS = (
    Tier(D(1), D(10), D("5.00")), Tier(D(11), D(50), D("20.00")), Tier(D(51), None, D("50.00")),
)


@pytest.mark.parametrize("q, expected", [
    ("0", "0"), ("0.25", "5.00"), ("1", "5.00"), ("10", "5.00"), ("10.5", "20.00"),
    ("11", "20.00"), ("50", "20.00"), ("51", "50.00"), ("100000", "50.00"),
])
def test_stair_step(q, expected):
    assert price_quantity(model("stp", STEPS), D(q)) == D(expected)


@pytest.mark.parametrize("q, expected", [
    ("0", "0"), ("0.5", "2.50"), ("1", "2.50"), ("100", "2.50"), ("100.000001", "5.00"),
    ("250", "7.50"), ("300", "7.50"),
])
def test_package_blocks(q, expected):
    pm = model("pkg", tiers=(Tier(D(0), None, D("2.50")),), block_size=D(100))
    assert price_quantity(pm, D(q)) == D(expected)


def test_package_fractional_block_size():
    pm = model("pkg", tiers=(Tier(D(0), None, D(1)),), block_size=D("0.5"))
    assert price_quantity(pm, D("1.2")) == D(3)


@pytest.mark.parametrize("q, expected", [
    ("0", "0"), ("1", "0.0125"), ("7", "0.0875"), ("361", "4.5125"),
])
def test_per_unit(q, expected):
    assert price_quantity(model("uni", tiers=(Tier(D(0), None, D("0.0125")),)), D(q)) == D(expected)


def test_flat_model_has_no_unit_price():
    pm = model("fla", tiers=(), base=D("49.00"))
    assert price_quantity(pm, D(0)) == 0
    assert price_quantity(pm, D(1000)) == 0
    assert tier_breakdown(pm, D(1000)) == ()


FLAT_FEE_TIERS = (
    Tier(D(0), D(100), D("0.10"), flat=D(1)), Tier(D(101), None, D("0.05"), flat=D(5)),
)


@pytest.mark.parametrize("pricemodel, q, expected", [
    ("tie", "0", "0"), ("tie", "50", "6.00"), ("tie", "100", "11.00"), ("tie", "100.5", "16.025"),
    ("tie", "200", "21.00"),
    ("vol", "0", "0"), ("vol", "50", "6.00"), ("vol", "100", "11.00"), ("vol", "200", "15.00"),
    ("stp", "50", "1.10"), ("stp", "200", "5.05"),
])
def test_per_tier_flat_fee(pricemodel, q, expected):
    assert price_quantity(model(pricemodel, FLAT_FEE_TIERS), D(q)) == D(expected)


def test_minimum_usage_charge():
    pm = model("uni", tiers=(Tier(D(0), None, D("0.05")),), minimum=D(10))
    assert usage_charge(pm, D(0)) == D(10)  # zero usage pays the minimum
    assert usage_charge(pm, D(100)) == D(10)
    assert usage_charge(pm, D(200)) == D("10.00")
    assert usage_charge(pm, D(361)) == D("18.05")
    assert price_quantity(pm, D(0)) == 0  # the minimum is not part of the price itself
    no_minimum = model("uni", tiers=(Tier(D(0), None, D("0.05")),))
    assert usage_charge(no_minimum, D(0)) == 0


def test_zero_is_free_for_every_model():
    for pm in (model("fla", ()), model("uni", (Tier(D(0), None, D(3), D(9)),)),
               model("tie", FLAT_FEE_TIERS),
               model("vol", FLAT_FEE_TIERS), model("stp", STEPS),
               model("pkg", (Tier(D(0), None, D(1)),), block_size=D(10))):
        assert price_quantity(pm, D(0)) == 0
        assert tier_breakdown(pm, D(0)) == ()


def test_negative_quantity_refused():
    with pytest.raises(ValidationError) as err:
        price_quantity(model("tie"), D(-1))
    assert err.value.field == "quantity"


def test_tier_index_boundaries():
    quantities = ("0", "100", "100.5", "101", "1000", "1000.1", "1001")
    assert [tier_index(DESIGN_TIERS, D(q)) for q in quantities] == [
        0, 0, 1, 1, 1, 2, 2,
    ]


def test_tier_breakdown_tiered_explains_the_price():
    rows = tier_breakdown(model("tie"), D(1500))
    assert rows == (
        TierCharge(0, D(100), D("10.00"), D(0), D("0.10")),
        TierCharge(1, D(900), D("72.00"), D(0), D("0.08")),
        TierCharge(2, D(500), D("25.00"), D(0), D("0.05")),
    )
    assert sum(r.amount + r.flat for r in rows) == D("107.00")


def test_tier_breakdown_single_rows():
    assert tier_breakdown(model("vol"), D(1500)) == (
        TierCharge(2, D(1500), D("75.00"), D(0), D("0.05")),)
    assert tier_breakdown(model("stp", STEPS), D(20)) == (TierCharge(1, D(20), D("20.00"), D(0)),)
    pkg = model("pkg", tiers=(Tier(D(0), None, D("2.50")),), block_size=D(100))
    assert tier_breakdown(pkg, D(250)) == (TierCharge(0, D(250), D("7.50"), D(0)),)
    assert tier_breakdown(model("tie"), D(50)) == (
        TierCharge(0, D(50), D("5.00"), D(0), D("0.10")),)


def test_pass_through_charges_the_quantity_itself():
    pm = model("pas", tiers=())
    assert price_quantity(pm, D("12.345")) == D("12.345")  # rounded once, per line
    assert price_quantity(pm, D(0)) == D(0)
    assert usage_charge(PriceModel("pas", minimum=D(5)), D(2)) == D(5)
    with pytest.raises(ValidationError) as refused:
        validate_pricemodel(PriceModel("pas", tiers=(Tier(D(0), None, D(1)),)))
    assert refused.value.field == "tiers"


def test_a_bounded_last_tier_prices_quantities_above_it():
    # ChargeOver's example: one unit tier 1–9999 at $60; 10,000 units are 10,000 × $60.
    unit = model("uni", tiers=(Tier(D(1), D(9999), D(60)),))
    assert price_quantity(unit, D(10000)) == D(600000)
    tiered = model("tie", tiers=(Tier(D(0), D(100), D(1)), Tier(D(101), D(1000), D("0.5"))))
    assert price_quantity(tiered, D(1500)) == D(100) + D(1400) * D("0.5")
    volume = model("vol", tiers=(Tier(D(0), D(100), D(1)), Tier(D(101), D(1000), D("0.5"))))
    assert price_quantity(volume, D(1500)) == D(750)

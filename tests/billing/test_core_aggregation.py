"""Aggregation of a period's usage: add, max, lat (latest from, ties by arrival)."""
from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from portal.billing.aggregation import USAGE_TYPES, UsageSample, aggregate, validate_usage_type
from portal.billing.errors import ValidationError


def at(day, hour=0):
    return datetime(2015, 9, day, hour, tzinfo=timezone.utc)


SAMPLES = [
    UsageSample(D("100"), at(2), seq=1),
    UsageSample(D("250.5"), at(5), seq=2),
    UsageSample(D("10.5"), at(3), seq=3),  # arrived late for an earlier moment
]


def test_usage_types():
    assert USAGE_TYPES == ("add", "max", "lat")
    assert validate_usage_type("max") == "max"
    with pytest.raises(ValidationError) as err:
        validate_usage_type("sum", field="type")
    assert err.value.field == "type"
    assert "add, max, lat" in err.value.message


def test_add_sums_exactly():
    assert aggregate("add", SAMPLES) == D("361.0")
    assert aggregate("add", [UsageSample(D("0.1"), at(1), 1)] * 3) == D("0.3")


def test_max():
    assert aggregate("max", SAMPLES) == D("250.5")


def test_lat_takes_the_greatest_from_not_the_last_arrival():
    assert aggregate("lat", SAMPLES) == D("250.5")


def test_lat_ties_on_from_go_to_the_latest_arrival():
    tied = [UsageSample(D("7"), at(9), seq=12), UsageSample(D("3"), at(9), seq=40),
            UsageSample(D("5"), at(9), seq=20)]
    assert aggregate("lat", tied) == D("3")
    assert aggregate("lat", reversed(tied)) == D("3")


@pytest.mark.parametrize("usage_type", USAGE_TYPES)
def test_no_samples_is_zero(usage_type):
    assert aggregate(usage_type, []) == D(0)
    assert aggregate(usage_type, iter(())) == D(0)


def test_accepts_any_iterable_and_order():
    assert aggregate("add", iter(SAMPLES)) == aggregate("add", reversed(SAMPLES))
    assert aggregate("max", (s for s in SAMPLES)) == D("250.5")

"""Money and quantities: minor units, half-up rounding, micro-units, parsing of client input."""
from decimal import Decimal as D

import pytest

from portal.billing.errors import ValidationError
from portal.billing.money import (
    MICRO, MINOR_UNITS, format_decimal, from_micro, from_minor, minor_units, parse_decimal,
    parse_money, parse_usage_value, quantize_money, to_micro, to_minor,
)


def test_validation_error_carries_field_and_message():
    error = ValidationError("usage_value", "must not be negative")
    assert (error.field, error.message) == ("usage_value", "must not be negative")
    assert str(error) == "usage_value: must not be negative"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize("code, exponent", [
    ("USD", 2), ("eur", 2), ("GBP", 2), ("ZAR", 2), ("JPY", 0), ("krw", 0), ("CLP", 0),
    ("ISK", 0), ("VND", 0), ("BHD", 3), ("KWD", 3), ("OMR", 3), ("JOD", 3), ("TND", 3),
])
def test_minor_units(code, exponent):
    assert minor_units(code) == exponent


def test_required_currencies_are_known():
    two = "USD EUR GBP CAD AUD NZD CHF SEK NOK DKK PLN CZK MXN BRL INR CNY HKD SGD ZAR".split()
    assert all(MINOR_UNITS[c] == 2 for c in two)


@pytest.mark.parametrize("code", ["XXX", "", "US", None, 840])
def test_unknown_currency(code):
    with pytest.raises(ValidationError) as err:
        minor_units(code)
    assert err.value.field == "currency"


@pytest.mark.parametrize("amount, currency, expected", [
    ("0.125", "USD", "0.13"),
    ("2.675", "USD", "2.68"),  # the classic float trap: 2.675 is 2.67499999... as a float
    ("2.665", "USD", "2.67"),  # half-up, not banker's rounding
    ("0.124999", "USD", "0.12"),
    ("-0.125", "USD", "-0.13"),  # half away from zero for credits
    ("499.5", "JPY", "500"),
    ("499.49", "JPY", "499"),
    ("1.0005", "BHD", "1.001"),
    ("1.0004", "BHD", "1.000"),
    ("18.05", "USD", "18.05"),
    ("7", "usd", "7.00"),
])
def test_quantize_money_half_up(amount, currency, expected):
    result = quantize_money(D(amount), currency)
    assert result == D(expected)
    assert str(result) == expected


def test_minor_round_trips():
    assert to_minor(D("28.05"), "USD") == 2805
    assert to_minor(D("0.125"), "USD") == 13
    assert to_minor(D("500"), "JPY") == 500
    assert to_minor(D("1.2345"), "BHD") == 1235
    assert to_minor(D("-10.005"), "USD") == -1001
    assert str(from_minor(2805, "USD")) == "28.05"
    assert str(from_minor(500, "JPY")) == "500"
    assert str(from_minor(1235, "BHD")) == "1.235"
    assert from_minor(-1001, "USD") == D("-10.01")
    for minor in (0, 1, 99, 100, 123456789, -5):
        assert to_minor(from_minor(minor, "USD"), "USD") == minor


def test_micro_units():
    assert MICRO == 1_000_000
    assert to_micro(D("361")) == 361_000_000
    assert to_micro(D("12.5")) == 12_500_000
    assert to_micro(D("0.000001")) == 1
    assert to_micro(D("1000000000000")) == 10**18
    assert to_micro(D("1.5000000")) == 1_500_000  # trailing zeros are not extra precision
    assert str(from_micro(361_000_000)) == "361"
    assert str(from_micro(12_500_000)) == "12.5"
    assert str(from_micro(1_000_000_000)) == "1000"
    assert str(from_micro(1)) == "0.000001"
    assert str(from_micro(0)) == "0"
    assert str(from_micro(10**18)) == "1000000000000"
    for value in ("0", "0.5", "3.141592", "999999999999.999999"):
        assert from_micro(to_micro(D(value))) == D(value)


def test_micro_refuses_more_than_6_decimals():
    with pytest.raises(ValidationError, match="6 decimal places"):
        to_micro(D("0.0000001"))


@pytest.mark.parametrize("value, expected", [
    (5, "5"), (D("12.5"), "12.5"), ("12.5", "12.5"), (" 3 ", "3"), ("-4.25", "-4.25"),
    ("+7", "7"), (".5", "0.5"), ("0", "0"), ("-0", "0"), ("00012.50", "12.50"),
])
def test_parse_decimal_accepts(value, expected):
    assert parse_decimal(value, "x") == D(expected)


@pytest.mark.parametrize("value", [
    None, True, False, "", "   ", "abc", "1e3", "1E3", "NaN", "nan", "Infinity", "-inf",
    "1,5", "1.2.3", "١٢", [], {}, D("NaN"), D("Infinity"), D("-Infinity"),
])
def test_parse_decimal_rejects(value):
    with pytest.raises(ValidationError) as err:
        parse_decimal(value, "usage_value")
    assert err.value.field == "usage_value"
    assert err.value.message == "must be a number"


def test_parse_decimal_rejects_float_with_advice():
    with pytest.raises(ValidationError) as err:
        parse_decimal(0.1, "amount")
    assert err.value.field == "amount"
    assert err.value.message.startswith("must be a number")
    assert "string" in err.value.message


def test_parse_usage_value():
    assert parse_usage_value("361") == D(361)
    assert str(parse_usage_value("12.50")) == "12.5"
    assert parse_usage_value(0) == 0
    assert parse_usage_value("0.000001") == D("0.000001")
    assert parse_usage_value("1000000000000") == D(10**12)


@pytest.mark.parametrize("value, message", [
    ("-1", "must not be negative"),
    ("-0.000001", "must not be negative"),
    ("1000000000000.000001", "must be at most 1000000000000"),
    ("0.0000001", "must have at most 6 decimal places"),
    ("abc", "must be a number"),
    (None, "must be a number"),
])
def test_parse_usage_value_errors(value, message):
    with pytest.raises(ValidationError) as err:
        parse_usage_value(value)
    assert (err.value.field, err.value.message) == ("usage_value", message)


def test_parse_usage_value_custom_field():
    with pytest.raises(ValidationError) as err:
        parse_usage_value("-2", field="value")
    assert err.value.field == "value"


def test_parse_money():
    assert parse_money("0.0125", "amount") == D("0.0125")
    assert parse_money("0.000000001", "amount") == D("0.000000001")  # rates may be fine-grained
    assert parse_money(10, "base") == D(10)
    with pytest.raises(ValidationError) as err:
        parse_money("-0.01", "base")
    assert (err.value.field, err.value.message) == ("base", "must not be negative")


def test_format_decimal():
    assert format_decimal(D("100.50")) == "100.5"
    assert format_decimal(D("1E+3")) == "1000"
    assert format_decimal(D("0.000001")) == "0.000001"
    assert format_decimal(D("361.000000")) == "361"


def test_parse_money_refuses_amounts_beyond_the_bound():
    from portal.billing.money import MAX_MONEY, parse_money

    assert parse_money(str(MAX_MONEY), "amount") == MAX_MONEY
    with pytest.raises(ValidationError, match="at most"):
        parse_money("1" + "0" * 300, "amount")


def test_exact_minor_refuses_what_the_currency_cannot_hold():
    from portal.billing.money import exact_minor

    assert exact_minor(D("12.30"), "USD", "amount") == 1230
    assert exact_minor(D("12.3"), "usd", "amount") == 1230
    assert exact_minor(D("500"), "JPY", "amount") == 500
    assert exact_minor(D("1.234"), "BHD", "amount") == 1234  # three decimals
    for amount, currency, message in ((D("1.234"), "USD", "at most 2 decimal places in USD"),
                                      (D("0.005"), "USD", "at most 2 decimal places in USD"),
                                      (D("10.5"), "JPY", "must be a whole number in JPY")):
        with pytest.raises(ValidationError) as refused:
            exact_minor(amount, currency, "amount")
        assert refused.value.field == "amount" and message in refused.value.message

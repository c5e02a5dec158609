"""Exact money and quantities: Decimal in code, integers (minor units, micro-units) in storage.

No float ever enters: a float cannot represent 0.1, and billing must be exact (docs/billing-rules.md §2).
"""
from __future__ import annotations

import re
from decimal import (
    ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext,
)

from portal.billing.errors import ValidationError

# Minor-unit exponent of each ISO 4217 currency we know; unknown codes are refused rather
# than guessed, because a wrong exponent bills 100 times too much or too little.
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        ("USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK",
         "MXN", "BRL", "INR", "CNY", "HKD", "SGD", "ZAR", "HUF", "RON", "ILS", "TRY", "THB",
         "PHP", "MYR", "IDR", "TWD", "AED", "SAR", "ARS", "COP", "PEN", "EGP", "NGN", "KES"),
        2,
    ),
    **dict.fromkeys(("JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG"), 0),
    **dict.fromkeys(("BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD"), 3),
}

MICRO = 10**6
MAX_USAGE_VALUE = Decimal(10**12)
MAX_MONEY = Decimal(10**12)

# Wide enough that products of any stored price and quantity are exact; rounding happens
# only where the design says so (quantize_money), never silently in between.
EXACT = Context(
    prec=100, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow]
)

# Plain decimal notation only: exponents ("1e3") and locale digits are refused as ambiguous.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def minor_units(currency: str) -> int:
    """Number of decimals of a currency's minor unit.

    :param currency: ISO 4217 code, any case (``"usd"``, ``"JPY"``).
    :raises ValidationError: ``currency`` is not a known code.
    """
    code = currency.upper() if isinstance(currency, str) else None
    if code not in MINOR_UNITS:
        raise ValidationError(
            "currency", f"unknown currency {currency!r} (use an ISO 4217 code such as USD)"
        )
    return MINOR_UNITS[code]


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """Round an amount half-up (away from zero on a tie) to the currency's minor unit.

    :param amount: exact amount, e.g. ``Decimal("2.675")``.
    :param currency: ISO 4217 code.
    """
    with localcontext(EXACT):
        return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """Integer of minor units (cents), rounding half-up first.

    :param amount: the amount in major units.
    :param currency: ISO 4217 code.
    """
    with localcontext(EXACT):
        return int(quantize_money(amount, currency).scaleb(minor_units(currency)))


def exact_minor(amount: Decimal, currency: str, field: str) -> int:
    """Integer of minor units of an amount someone entered (a payment, a credit, a refund):
    refused, not rounded, when it has more decimals than the currency (1.234 USD is not an
    amount anyone can pay).

    :param amount: the amount in major units, as entered.
    :param currency: ISO 4217 code.
    :param field: the field name for errors.
    :raises ValidationError: more decimals than the currency's minor unit.
    """
    minor = to_minor(amount, currency)
    with localcontext(EXACT):
        if Decimal(minor).scaleb(-minor_units(currency)) != amount:
            places = minor_units(currency)
            if places == 0:
                raise ValidationError(field, f"must be a whole number in {currency.upper()}")
            raise ValidationError(field, f"must have at most {places} decimal place{'s' * (places != 1)} "
                                         f"in {currency.upper()}")
    return minor


def from_minor(minor: int, currency: str) -> Decimal:
    """Exact amount of an integer of minor units, with the currency's exponent.

    :param minor: e.g. ``2805`` (cents).
    :param currency: ISO 4217 code; ``2805`` USD is ``Decimal("28.05")``,
        ``500`` JPY is ``Decimal("500")``.
    """
    with localcontext(EXACT):
        return Decimal(int(minor)).scaleb(-minor_units(currency))


def to_micro(value: Decimal) -> int:
    """Integer of micro-units (value × 10^6), exactly.

    :param value: a quantity with at most 6 decimals.
    :raises ValidationError: the value has more than 6 decimals (it would be rounded).
    """
    with localcontext(EXACT):
        scaled = Decimal(value).scaleb(6)
        # The round trip also catches an exponent so small that `scaleb` underflows to 0.
        if scaled != scaled.to_integral_value() or Decimal(int(scaled)).scaleb(-6) != value:
            raise ValidationError("value", "must have at most 6 decimal places")
        return int(scaled)


def from_micro(micro: int) -> Decimal:
    """The quantity of an integer of micro-units, without trailing zeros or exponent.

    :param micro: e.g. ``361000000`` → ``Decimal("361")``, ``12500000`` → ``Decimal("12.5")``.
    """
    with localcontext(EXACT):
        value = Decimal(int(micro)).scaleb(-6)
        if value == value.to_integral_value():
            # normalize() would write 1000 as 1E+3; quantize keeps plain notation.
            return value.quantize(Decimal(1))
        return value.normalize()


def parse_decimal(value: object, field: str) -> Decimal:
    """Parse a number sent by a client into an exact Decimal.

    :param value: an int, a Decimal or a string in plain decimal notation (``"12.5"``, ``" 3 "``).
        Floats are refused (they are already inexact), as are bools, None, NaN, infinities,
        exponent notation and empty strings.
    :param field: the field name for the error.
    :raises ValidationError: ``value`` is not an exact finite number.
    """
    if isinstance(value, float):
        raise ValidationError(field, "must be a number (send decimals as a string, not a float)")
    if isinstance(value, bool) or value is None:
        raise ValidationError(field, "must be a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL_TEXT.fullmatch(text):
            raise ValidationError(field, "must be a number")
        value = Decimal(text)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationError(field, "must be a number")
    # "-0" is zero; a negative sign on it would print oddly and look like a refund.
    return Decimal(0) if value.is_zero() else value


def parse_usage_value(value: object, field: str = "usage_value") -> Decimal:
    """Parse a usage value: 0 ≤ value ≤ 10^12 with at most 6 decimals (docs/billing-rules.md §2).

    :param value: as for :func:`parse_decimal`.
    :param field: the field name for errors.
    :returns: the value without trailing zeros (``"12.50"`` → ``Decimal("12.5")``).
    :raises ValidationError: not a number, negative, too large or too precise.
    """
    number = parse_decimal(value, field)
    if number < 0:
        raise ValidationError(field, "must not be negative")
    if number > MAX_USAGE_VALUE:
        raise ValidationError(field, f"must be at most {MAX_USAGE_VALUE}")
    try:
        return from_micro(to_micro(number))
    except ValidationError:
        raise ValidationError(field, "must have at most 6 decimal places") from None


def parse_money(value: object, field: str) -> Decimal:
    """Parse a price or rate: a non-negative exact number (rates may have many decimals).

    :param value: as for :func:`parse_decimal`, e.g. ``"0.0125"``.
    :param field: the field name for errors.
    :raises ValidationError: not a number, negative, or above MAX_MONEY.
    """
    number = parse_decimal(value, field)
    if number < 0:
        raise ValidationError(field, "must not be negative")
    if number > MAX_MONEY:  # beyond this, rounding to minor units would overflow
        raise ValidationError(field, f"must be at most {MAX_MONEY}")
    return number


def format_decimal(value: Decimal) -> str:
    """Plain text of a number without exponent or trailing zeros, for messages and invoices.

    :param value: e.g. ``Decimal("100.50")`` → ``"100.5"``, ``Decimal("1E+3")`` → ``"1000"``.
    """
    with localcontext(EXACT):
        return format(Decimal(value).normalize(), "f")

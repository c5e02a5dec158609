"""Input rules shared by `invoice` and `transaction`: Meterbill collects no money, so an
attempt to charge a card or bank account is a 400 naming the field, and a money-changing
field ChargeOver documents that Meterbill does not support is a 400, never dropped."""
from __future__ import annotations

from portal.api.envelope import ApiError

NO_GATEWAY = ("Meterbill has no payment gateway and stores no cards or bank accounts, so it "
              "charges nothing; record a payment received elsewhere as a transaction "
              "(transaction_type pay), or apply the customer's credit (invoice action pay)")
# Fields that would charge a card or bank account (ChargeOver's pay actions, CreditCard and
# Ach objects sent as the body).
CHARGE_FIELDS = ("paymethod", "paymethods", "creditcard_id", "ach_id", "tokenized_id",
                 "number", "routing", "expdate_year", "expdate_month", "cvv")
CURRENCY_FIELDS = ("currency_id", "currency_iso4217")


def refuse_charges(data: dict) -> None:
    """A 400 naming the first field that asks to charge a payment method."""
    for name in CHARGE_FIELDS:
        if data.get(name) not in (None, "", [], {}):
            raise ApiError(400, f"{name}: {NO_GATEWAY}", {"field": name, "supported": False})


def refuse_fields(data: dict, unsupported: dict[str, str]) -> None:
    """A 400 naming the first given field of `unsupported` (name → why)."""
    for name, why in unsupported.items():
        if data.get(name) not in (None, ""):
            raise ApiError(400, f"{name}: not supported by Meterbill ({why})",
                           {"field": name, "supported": False})


def refuse_other_currency(data: dict, currency: str) -> None:
    """A 400 when the body names a currency other than the customer's (never converted)."""
    iso = data.get("currency_iso4217")
    if iso not in (None, "") and str(iso).upper() != currency:
        raise ApiError(400, f"currency_iso4217: the customer is billed in {currency}; Meterbill "
                       "never converts amounts", {"field": "currency_iso4217"})
    if data.get("currency_id") not in (None, ""):
        raise ApiError(400, "currency_id: not supported by Meterbill (amounts are in the "
                       "customer's currency; send currency_iso4217)", {"field": "currency_id"})


CURRENCY_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£",
                    "JPY": "¥", "CHF": "CHF", "INR": "₹", "SEK": "kr", "NOK": "kr", "DKK": "kr"}


def currency_symbol(currency: str) -> str:
    """ChargeOver's `currency_symbol` ("$"), the ISO code where no symbol is known."""
    return CURRENCY_SYMBOLS.get(currency, currency)

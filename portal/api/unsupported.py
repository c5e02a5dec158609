"""ChargeOver objects a self-hosted Meterbill without a card gateway does not have.

Each answers a ChargeOver-style 400 naming the object and saying why, on every URL and
method (not a 404: the object exists in ChargeOver, only not here)."""
from __future__ import annotations

from portal.api.envelope import ApiError

NO_GATEWAY = ("Meterbill has no payment gateway and stores no payment methods; record payments "
              "received offline as transactions (transaction_type pay) instead")
UNSUPPORTED_OBJECTS = {
    "creditcard": f"credit cards: {NO_GATEWAY}",
    "ach": f"ACH bank accounts: {NO_GATEWAY}",
    "tokenized": f"tokenized payment methods: {NO_GATEWAY}",
    "chargeoverjs": f"ChargeOver.js card collection: {NO_GATEWAY}",
    "brand": "brands: Meterbill bills as one seller (the merchant settings), there are no brands",
    "currency": "exchange rates: Meterbill bills each customer in its own currency and "
                "never converts amounts",
    "country": "the country list: countries are free text on the customer (bill_country)",
    "note": "notes: Meterbill keeps no notes on objects",
    "quote": "quotes: Meterbill has no quotes (use the estimate of a package)",
    "itemcategory": "item categories: Meterbill's catalog has no categories",
    "resthook": "REST hooks are the `_resthook` object (POST /api/v3/_resthook)",
    "_report": "reports through the API: use the merchant portal's reports",
    "_config": "configuration through the API: settings are changed in the merchant portal",
    "_aggregate": "aggregates: use /<object>/_count with where filters",
}


def refuse_unsupported(obj: str) -> None:
    """Raise the 400 of an object Meterbill does not have; nothing for others."""
    reason = UNSUPPORTED_OBJECTS.get(obj)
    if reason is not None:
        raise ApiError(400, f"The '{obj}' object is not supported by Meterbill: {reason}.",
                       {"object": obj, "supported": False})

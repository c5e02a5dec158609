"""JSON Schemas (OpenAPI 3.1) of the API's objects, request bodies and action payloads.

Hand-written per object, but enumerations and plain text fields come from the code
(model constants, the services' field lists), so they follow it. `openapi.py` puts
them under `components.schemas` and refers to them from the operations.
"""
from __future__ import annotations

from portal.api import openapi_integrations as integrations
from portal.billing.periods import PAYCYCLES
from portal.models.catalog import ITEM_TYPES, PRICEMODELS, USAGE_TYPES
from portal.models.invoices import INVOICE_STATUSES, LINE_KINDS
from portal.models.packages import PACKAGE_STATUSES
from portal.models.transactions import PAYMENT_METHODS
from portal.services.payments import METHOD_ALIASES
from portal.models.usage import USAGE_SOURCES
from portal.services.customers import (
    CONTACT_FIELDS, CUSTOM_FIELD_COUNT, CUSTOMER_FIELDS, SHIP_FIELDS,
)

DATETIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DECIMAL_PATTERN = r"^ *-?[0-9]+(\.[0-9]+)? *$"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def null(schema: dict) -> dict:
    """`schema` or null."""
    if "$ref" in schema or "type" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return {**schema, "type": [*kinds, "null"]}


def obj(properties: dict, required=(), **extra) -> dict:
    """An object schema. In request bodies the API refuses a field it does not store with a
    400 naming it (read-only fields that GET returns may be sent back)."""
    schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    return schema


def text(max_length: int = 255, **extra) -> dict:
    return {"type": "string", "maxLength": max_length, **extra}


def enum(values, **extra) -> dict:
    return {"type": "string", "enum": list(values), **extra}


INT = {"type": "integer"}
BOOL = {"type": "boolean"}
STR = {"type": "string"}
NUMBER = ref("Money")
NULL_TEXT = null(STR)
DATETIME = ref("DateTime")
NULL_DATETIME = null(ref("DateTime"))
NULL_DATE = null(ref("Date"))
METHOD_IN = null(enum([*PAYMENT_METHODS, *METHOD_ALIASES], description="How it was paid."))
ACTION_DONE = {"type": "boolean", "const": True, "description": "The action was done."}

COMMON = {
    "Money": {"type": "number", "description": "An exact decimal amount or quantity (a JSON "
                                               "number, never rounded through a float).",
              "examples": [28.05]},
    "DecimalInput": {"oneOf": [{"type": "number"}, {"type": "string", "pattern": DECIMAL_PATTERN}],
                     "description": "An exact decimal: a JSON number (an exponent as in 1E3 "
                                    "is read exactly: 1000) or a decimal string without "
                                    "exponent (\"0.0125\"); -0 is 0; no NaN or infinity.",
                     "examples": ["0.05", 42]},
    "IdInput": {"oneOf": [{"type": "integer", "minimum": 1},
                          {"type": "string", "pattern": "^[0-9]+$"}],
                "description": "An id: an integer or a string of digits.", "examples": [1]},
    "BoolInput": {"oneOf": [BOOL, {"enum": [0, 1, "0", "1", "true", "false", "yes", "no"]}],
                  "description": "true/false, 1/0 or their strings."},
    "DateTime": {"type": "string", "pattern": DATETIME_PATTERN,
                 "description": "\"YYYY-MM-DD HH:MM:SS\" in the merchant's time zone.",
                 "examples": ["2015-09-15 00:00:00"]},
    "Date": {"type": "string", "pattern": DATE_PATTERN, "examples": ["2015-10-01"]},
    "DateTimeInput": {"type": "string", "maxLength": 64,
                      "description": "\"YYYY-MM-DD HH:MM:SS\" or a date (merchant time zone), "
                                     "or ISO 8601 with an offset.",
                      "examples": ["2015-09-15 00:00:00", "2015-09-15T00:00:00+02:00"]},
    "Id": obj({"id": INT}, ["id"], examples=[{"id": 1}]),
}

TIER = obj({"unit_from": NUMBER, "unit_to": null(NUMBER), "amount": NUMBER, "flat": NUMBER},
           ["unit_from", "unit_to", "amount"])
CUSTOM = tuple(f"custom_{n}" for n in range(1, CUSTOM_FIELD_COUNT + 1))
PAYCYCLE = enum([*PAYCYCLES, "evy"], description="evy = every cycle of the package.")
OBJECTS = {
    "Tier": TIER,
    "Tierset": obj({
        "tierset_id": INT, "pricemodel": enum(PRICEMODELS), "pricemodel_desc": STR,
        "base": NUMBER, "setup": NUMBER, "minimum": null(NUMBER), "block_size": null(NUMBER),
        "paycycle": PAYCYCLE, "tiers": {"type": "array", "items": ref("Tier")},
    }, ["tierset_id", "pricemodel", "base", "setup", "tiers"]),
    "Customer": obj({
        **{name: null(STR) for name in (*CUSTOMER_FIELDS, *SHIP_FIELDS, *CUSTOM)}, "company": STR,
        "customer_id": INT, "superuser_id": null(INT), "currency_iso4217": STR,
        "parent_customer_id": null(INT), "superuser_username": null(STR),
        "token": {"type": "string", "description": "for GET /customer/token:{token}"},
        "total": NUMBER, "paid": NUMBER, "balance": NUMBER, "write_datetime": DATETIME,
        "display_as": STR,
    }, ["customer_id", "company", "currency_iso4217", "total", "paid", "balance"]),
    "User": obj({
        **{name: null(STR) for name in CONTACT_FIELDS},
        "user_id": INT, "customer_id": INT, "name": null(STR), "display_as": null(STR),
        "username": null(STR),
        "write_datetime": DATETIME,
        "customers": {"type": "array", "items": obj(
            {"customer_id": {"type": "string", "description": "a string, as ChargeOver's"},
             "company": STR}, ["customer_id", "company"])},
    }, ["user_id", "customer_id", "customers"]),
    "Item": obj({
        "item_id": INT, "item_type": enum(ITEM_TYPES), "tierset_id": INT, "name": STR,
        "description": NULL_TEXT, "units": NULL_TEXT, "units_plural": NULL_TEXT,
        "external_key": NULL_TEXT, "enabled": BOOL, "is_metered": BOOL,
        "usage_type": enum(USAGE_TYPES), "write_datetime": DATETIME,
        "service_data": obj({"trial_days": INT, "trial_units": INT, "is_usage": BOOL}),
        "tiersets": {"type": "array", "items": ref("Tierset")},
    }, ["item_id", "item_type", "name", "is_metered", "usage_type", "tiersets"]),
    "PackageLine": obj({
        "line_item_id": INT, "item_id": INT, "item_name": STR, "item_external_key": NULL_TEXT,
        "item_units": NULL_TEXT, "external_key": NULL_TEXT, "descrip": NULL_TEXT,
        "line_quantity": NUMBER, "trial_days": INT, "subscribe_datetime": NULL_DATETIME,
        "cancel_datetime": NULL_DATETIME, "tierset_id": INT, "tierset": ref("Tierset"),
        "usage_url": NULL_TEXT,
        "usage_pull": {"anyOf": [{"type": "null"}, obj({
            "status": enum(["pending", "done"]), "from_datetime": NULL_DATETIME,
            "to_datetime": DATETIME, "attempts": INT, "error": NULL_TEXT,
            "next_attempt_datetime": NULL_DATETIME, "usage_amount": {"type": ["number", "null"]},
        }, ["status", "to_datetime", "attempts"])], "description":
            "The latest pull of the usage URL; `pending`: the invoice at to_datetime waits."},
        "paycycle": PAYCYCLE, "subscribe_prorate": BOOL, "cancel_prorate": BOOL,
        **{f"custom_{n}": NULL_TEXT for n in range(1, 6)},
    }, ["line_item_id", "item_id", "line_quantity", "tierset"]),
    "Package": obj({
        "package_id": INT, "customer_id": INT, "external_key": NULL_TEXT, "nickname": STR,
        "paycycle": enum(PAYCYCLES), "start_datetime": NULL_DATETIME,
        "holduntil_datetime": NULL_DATETIME,
        "next_invoice_datetime": {"anyOf": [DATETIME, {"const": ""}, {"type": "null"}],
                                  "description": "\"\" once the package is canceled."},
        "cancel_datetime": NULL_DATETIME, "suspendfrom_datetime": NULL_DATETIME,
        "suspendto_datetime": NULL_DATETIME, "package_status_str": enum(PACKAGE_STATUSES),
        "package_status_state": STR, "package_status_name": STR, "currency_iso4217": STR,
        "amount_invoiced": NUMBER, "amount_collected": NUMBER, "amount_due": NUMBER,
        "write_datetime": DATETIME, "line_items": {"type": "array", "items": ref("PackageLine")},
    }, ["package_id", "customer_id", "package_status_str", "line_items"]),
    "Usage": obj({
        "usage_id": INT, "usage_history_id": {**INT, "description": "ChargeOver's name of the id"},
        "line_item_id": INT, "usage_value": NUMBER, "type": null(enum(USAGE_TYPES)),
        "from": DATETIME, "to": DATETIME, "external_key": NULL_TEXT,
        "source": enum(USAGE_SOURCES), "write_datetime": DATETIME,
    }, ["usage_id", "usage_history_id", "line_item_id", "usage_value", "from", "to"]),
    "InvoiceLine": obj({
        "invoice_line_id": INT, "line_item_id": null(INT), "package_line_id": null(INT),
        "item_id": null(INT), "descrip": NULL_TEXT, "line_rate": null(NUMBER),
        "line_quantity": NUMBER, "line_total": NUMBER, "kind": enum(LINE_KINDS),
        "is_base": BOOL, "is_setup": BOOL, "is_usage": BOOL, "is_adjustment": BOOL,
        "period_from": NULL_DATETIME, "period_to": NULL_DATETIME,
        "tiers": {"type": "array", "description": "How a usage charge was rated, tier by tier."},
    }, ["invoice_line_id", "line_quantity", "line_total", "kind"]),
    "Invoice": obj({
        "invoice_id": INT, "refnumber": {"type": "string", "description": "a string, as ChargeOver's"},
        "customer_id": INT, "package_id": null(INT), "date": ref("Date"), "due_date": ref("Date"),
        "terms_days": INT, "cycle_pre_from_date": NULL_DATE, "cycle_pre_to_date": NULL_DATE,
        "cycle_post_from_date": NULL_DATE, "cycle_post_to_date": NULL_DATE,
        "currency_iso4217": STR, "currency_symbol": STR, **{name: NUMBER for name in (
            "sum_base", "sum_usage", "sum_onetime", "subtotal", "taxes", "total", "payments",
            "credits", "applied", "balance")},
        "invoice_status_str": enum([*INVOICE_STATUSES, "open-overdue"], description=(
            "open-overdue: unpaid after its due date (computed; usable in where)")),
        "invoice_status_state": enum(["o", "c"]), "invoice_status_name": STR,
        "is_paid": BOOL, "is_void": BOOL, "is_overdue": BOOL, "days_overdue": INT,
        "paid_date": NULL_DATE, "token": STR, "external_key": NULL_TEXT, "terms_name": NULL_TEXT,
        "memo": NULL_TEXT, **{f"custom_{n}": NULL_TEXT for n in range(1, 6)},
        **{f"{kind}_{part}": NULL_TEXT for kind in ("bill", "ship") for part in (
            "addr1", "addr2", "addr3", "city", "state", "postcode", "country", "notes", "block")},
        "void_datetime": NULL_DATETIME, "write_datetime": DATETIME,
        "url_permalink": STR, "url_pdflink": STR, "url_paylink": {"type": "null"},
        "line_items": {"type": "array", "items": ref("InvoiceLine")},
    }, ["invoice_id", "customer_id", "total", "balance", "invoice_status_str", "line_items"]),
    "Transaction": obj({
        "transaction_id": INT, "customer_id": INT,
        "transaction_type": enum(["pay", "cre", "ref"], description=(
            "pay: a received payment; cre: a credit memo, the money side of a credit note; "
            "ref: a refund paid back (its amount is negative)")),
        "transaction_type_name": STR, "amount": NUMBER, "currency_iso4217": STR,
        "currency_symbol": STR, "applied": NUMBER, "unapplied": NUMBER, "refunded": NUMBER,
        "refund_of_transaction_id": null(INT), "gateway_status": {"const": 1},
        "transaction_date": ref("Date"), "gateway_method": enum(PAYMENT_METHODS),
        "transaction_method": STR, "gateway_transid": NULL_TEXT, "transaction_datetime": DATETIME,
        "credit_note_id": null(INT), "credit_note_number": NULL_TEXT,
        "url_pdflink": null(STR), "is_void": BOOL, "void_datetime": NULL_DATETIME,
        "applied_to": {"type": "array", "items": obj(
            {"invoice_id": {"type": "string", "description": "a string, as ChargeOver's"},
             "applied": NUMBER}, ["invoice_id", "applied"])},
        "applications": {"type": "array", "items": obj(
            {"invoice_id": INT, "applied": NUMBER, "applied_datetime": DATETIME,
             "automatic": {"type": "boolean", "description": "made by the automatic credit application"}},
            ["invoice_id", "applied", "applied_datetime", "automatic"])},
    }, ["transaction_id", "customer_id", "amount", "applied_to"]),
}

DEC_IN, ID_IN, BOOL_IN, DT_IN = ref("DecimalInput"), ref("IdInput"), ref("BoolInput"), ref("DateTimeInput")
PRICEMODEL_IN = obj({
    "pricemodel": enum(PRICEMODELS, description="fla flat, uni per unit, tie tiered, vol "
                                                "volume, stp stair-step, pkg per block, pas "
                                                "pass-through (the quantity is the amount)"),
    "base": DEC_IN, "setup": DEC_IN, "minimum": DEC_IN, "block_size": DEC_IN,
    "paycycle": null(PAYCYCLE),
    "tiers": {"type": "array", "items": obj(
        {"unit_from": DEC_IN, "unit_to": null(DEC_IN), "amount": DEC_IN, "flat": DEC_IN})},
}, ["pricemodel"])
CUSTOMER_IN = {name: null(text()) for name in (*CUSTOMER_FIELDS, *SHIP_FIELDS, *CUSTOM)} | {
    "superuser_first_name": null(text()), "superuser_last_name": null(text()),
    "superuser_username": null(text()), "parent_customer_id": null(ID_IN),
    "currency_iso4217": null(text(3, examples=["USD"]))}
CONTACT_IN = {name: null(text()) for name in CONTACT_FIELDS} | {
    "name": null(text()), "username": null(text()),
    "password": null(text(200, description="8 to 200 characters; the customer portal login"))}
ITEM_IN = {
    "name": text(), "type": enum(ITEM_TYPES), "item_type": enum(ITEM_TYPES),
    "description": null(text(10000)), "units": null(text(60)), "units_plural": null(text(60)),
    "external_key": null(text()), "enabled": BOOL_IN, "is_metered": BOOL_IN,
    "usage_type": null(enum(USAGE_TYPES)),
    "pricemodel": {"anyOf": [ref("PriceModelInput"), enum(PRICEMODELS)],
                   "description": "The price model; or only its code, with base, setup, "
                                  "tiers, ... beside it in the body."},
    "tiersets": {"type": "array", "minItems": 1, "maxItems": 1, "items": ref("PriceModelInput"),
                 "description": "The price model as GET answers it (instead of pricemodel)."},
    "service_data": obj({"is_usage": BOOL_IN}),
}
LINE_IN = {"item_id": ID_IN, "line_quantity": DEC_IN, "descrip": null(text(10000)),
           "external_key": null(text()), "trial_days": {"type": "integer", "minimum": 0},
           "tierset": ref("PriceModelInput"),
           "usage_url": {"type": ["string", "null"], "maxLength": 2000, "description":
                         "A pulled usage URL (metered lines): POSTed before each invoice, see "
                         "the `usage_pull` of the line; \"\" or null removes it."},
           "paycycle": null(enum([*PAYCYCLES, "evy"], description="bill this line on its own "
                                                                 "cycle")),
           "subscribe_prorate": BOOL_IN, **{f"custom_{n}": null(text(1000)) for n in range(1, 6)}}
USAGE_IN = obj({
    "line_item_id": ID_IN, "line_item_external_key": null(text()),
    "usage_value": DEC_IN, "from": null(DT_IN), "to": null(DT_IN),
    "type": null(enum(USAGE_TYPES)), "external_key": null(text()),
    "customer_id": ID_IN, "customer_external_key": null(text()), "item_id": ID_IN,
    "item_external_key": null(text()),
}, ["usage_value"], description="Give line_item_id or line_item_external_key, or the customer "
                                "(customer_id or customer_external_key) and the item (item_id "
                                "or item_external_key): the one open line of that item.")
INPUTS = {
    "PriceModelInput": PRICEMODEL_IN,
    "CustomerCreate": obj(CUSTOMER_IN | {"company": text(examples=["Acme Telephony"])}, ["company"]),
    "CustomerUpdate": obj(CUSTOMER_IN),
    "UserCreate": obj(CONTACT_IN | {"customer_id": ID_IN}, ["customer_id"]),
    "UserUpdate": obj(CONTACT_IN),
    "ItemCreate": obj(ITEM_IN, ["name"]),
    "ItemUpdate": obj(ITEM_IN),
    "PackageLineInput": obj(LINE_IN, ["item_id"]),
    "PackageCreate": obj({
        "customer_id": ID_IN, "paycycle": enum(PAYCYCLES), "start_datetime": null(DT_IN),
        "holduntil_datetime": null(DT_IN), "nickname": null(text()), "external_key": null(text()),
        "line_items": {"type": "array", "items": ref("PackageLineInput")},
    }, ["customer_id"]),
    "PackageUpdate": obj({"nickname": null(text()), "external_key": null(text()),
                          "paycycle": null(enum(PAYCYCLES)), "holduntil_datetime": null(DT_IN)}),
    "UsageCreate": USAGE_IN,
    "TransactionCreate": obj({
        "customer_id": ID_IN, "amount": DEC_IN, "transaction_type": enum(["pay", "ref", "cre"], description=(
            "pay: a payment received elsewhere; ref: money paid back from the customer's "
            "credit; cre: a credit memo (a credit note), applied to the one invoice named. "
            "spl (split) is refused.")),
        "transaction_date": null(DT_IN), "gateway_method": METHOD_IN,
        "gateway_status": {"enum": [1, "1"], "description": "0 (declined) is refused: no money moved."},
        "gateway_transid": null(text(description="A check number, bank reference, ...")),
        "applied_to": {"type": "array", "items": ref("AppliedToInput")},
    }, ["customer_id", "amount"]),
    "AppliedToInput": obj({"invoice_id": ID_IN, "applied": DEC_IN, "amount": {
        **DEC_IN, "description": "The same as applied (Meterbill's older name)."}}, ["invoice_id"]),
    "InvoiceLineInput": obj({
        "item_id": null(ID_IN), "descrip": null(text(10_000)), "line_rate": DEC_IN,
        "line_quantity": {**DEC_IN, "description": "Default 1."},
        "line_item_id": null(ID_IN), "invoice_line_id": null(ID_IN)},
        description="A new line (item_id and/or descrip, line_rate, line_quantity), or only "
                    "line_item_id / invoice_line_id naming an existing line to keep (update)."),
    "InvoiceCreate": obj({
        "customer_id": ID_IN, "date": null(DT_IN), "due_date": null(DT_IN),
        "external_key": null(text()), "memo": null(text(10_000)),
        **{f"custom_{n}": null(text(10_000)) for n in range(1, 6)},
        **{f"{kind}_{part}": null(text(10_000)) for kind in ("bill", "ship") for part in (
            "addr1", "addr2", "addr3", "city", "state", "postcode", "country", "notes")},
        "line_items": {"type": "array", "minItems": 1, "items": ref("InvoiceLineInput")},
    }, ["customer_id", "line_items"]),
    "InvoiceUpdate": obj({
        "date": null(DT_IN), "due_date": null(DT_IN), "external_key": null(text()),
        "memo": null(text(10_000)), "line_items": {"type": "array", "items": ref("InvoiceLineInput")}},
        description="Lines and dates: only of an unpaid one-off invoice. The other fields: any invoice."),
}
UPGRADE_LINE = obj(LINE_IN | {
    "line_item_id": ID_IN, "cancel": BOOL_IN, "cancel_datetime": null(DT_IN),
    "cancel_date": null(DT_IN), "cancel_prorate": BOOL_IN, "effective_datetime": null(DT_IN)},
    description="With line_item_id: cancel it (cancel), replace it (item_id or tierset) or "
                "change its line_quantity; without: add a line of item_id.")
ACTIONS = {
    "PackageHold": obj({"holduntil_datetime": DT_IN}, ["holduntil_datetime"]),
    "PackagePaycycle": obj({"paycycle": enum(PAYCYCLES)}, ["paycycle"]),
    "PackageWelcome": obj({"message_id": null(ID_IN)}),
    "UserResetPassword": obj({"password": null(text(200))}),
    "PackageCancel": obj({"cancel_datetime": null(DT_IN), "cancel_date": null(DT_IN), "line_items": {
        "type": "array", "items": ref("PackageUpgradeLine"),
        "description": "Cancel only these lines (as the upgrade action)."}}),
    "PackageSuspend": obj({"suspendfrom_datetime": null(DT_IN), "suspendto_datetime": null(DT_IN)}),
    "PackageUnsuspend": obj({"suspendto_datetime": null(DT_IN)}),
    "PackageUpgradeLine": UPGRADE_LINE,
    "PackageUpgrade": obj({"effective_datetime": null(DT_IN), "line_items": {
        "type": "array", "minItems": 1, "items": ref("PackageUpgradeLine")}}, ["line_items"]),
    "InvoicePay": obj({"use_customer_balance": {"const": True},
                       "amount": {**DEC_IN, "description": "Apply at most this much credit."}},
                      description="Card or bank fields (paymethod, creditcard_id, ach_id, number, "
                                  "routing...) are refused: Meterbill charges nothing."),
    "InvoiceCredit": obj({"amount": {**DEC_IN, "description": "Default: the balance."},
                          "descrip": null(text(10_000))}),
    "TransactionRefund": obj({"amount": {**DEC_IN, "description": "Default: all not refunded yet."},
                              "transaction_date": null(DT_IN), "gateway_transid": null(text())}),
    "TransactionApply": obj({"applied_to": {"type": "array", "minItems": 1,
                                            "items": ref("AppliedToInput")}}, ["applied_to"]),
    "TransactionPay": obj({"customer_id": ID_IN, "amount": DEC_IN, "applied_to": {
        "type": "array", "items": ref("AppliedToInput")}}, ["customer_id"],
        description="Pays from the customer's unapplied credit only; paymethods is refused."),
    "InvoiceEmail": obj({"email": null(text(examples=["billing@acme.example"]))}),
    "Empty": obj({}, description="No fields: send {} (or [] or nothing)."),
    "BulkRequest": obj({
        "request_method": enum(["GET", "POST", "PUT", "DELETE"]),
        "uri": text(2000, examples=["/api/v3/customer/1"]),
        "payload": {"type": ["object", "array", "null"]},
    }, ["request_method", "uri"]),
    "UsageRecordResult": obj({
        "code": enum([200, 201, 400, 409], type="integer"), "status": enum(["OK", "Error"]),
        "message": STR, "id": null(INT), "details": {"type": "object"},
    }, ["code", "status", "message", "id", "details"]),
    "UsageImport": obj({
        "import_id": INT, "filename": STR,
        "status": enum(["uploaded", "validated", "running", "done", "failed"],
                       description="uploaded/running: queued or under way; validated: a dry "
                                   "run's report; done or failed: finished."),
        "percent": INT, "size_bytes": INT, "bytes_done": INT, "rows": INT, "rows_total": INT,
        "stored": INT, "duplicates": INT, "error_count": INT, "message": NULL_TEXT,
        "errors": {"type": "array", "items": obj({"row": INT, "line": null(INT),
                                                  "field": null(STR), "message": STR})},
        "write_datetime": DATETIME, "finished_datetime": NULL_DATETIME,
    }, ["import_id", "status", "rows", "stored", "duplicates", "error_count", "errors"]),
}

# Which component describes each object and its bodies; objects missing here get generic ones.
OBJECT_SCHEMAS = {
    "customer": ("Customer", "CustomerCreate", "CustomerUpdate"),
    "user": ("User", "UserCreate", "UserUpdate"),
    "item": ("Item", "ItemCreate", "ItemUpdate"),
    "package": ("Package", "PackageCreate", "PackageUpdate"),
    "usage": ("Usage", "UsageCreate", None),
    "invoice": ("Invoice", "InvoiceCreate", "InvoiceUpdate"),
    "transaction": ("Transaction", "TransactionCreate", None),
    "usage_import": ("UsageImport", None, None),
}
# Objects whose create answers 200 (not 201) to an idempotent retry.
CREATE_REPLAYS = {"usage": "A retry (same external_key, same content): the original record, "
                           "counted once"}
# (object, action): (payload, response schema, description)
ACTION_SCHEMAS = {
    ("package", "cancel"): ("PackageCancel", ACTION_DONE, "Cancel the package now, or at a "
                            "future cancel_datetime (scheduled: it stays active until then), "
                            "or only the lines listed."),
    ("package", "uncancel"): ("Empty", ACTION_DONE, "Withdraw a scheduled cancel."),
    ("package", "hold"): ("PackageHold", ACTION_DONE, "No invoice before holduntil_datetime "
                          "(before the first invoice; afterwards use suspend)."),
    ("package", "paycycle"): ("PackagePaycycle", ACTION_DONE, "Change the paycycle (before "
                              "the first invoice)."),
    ("package", "welcome"): ("PackageWelcome", ACTION_DONE, "Queue the welcome e-mail to the "
                             "billing contact (message_id accepted: there is one message)."),
    ("user", "login"): ("Empty", {"type": "string", "description": "a URL that logs the user "
                        "into the customer portal (valid 10 minutes)"},
                        "A one-time login link to the customer portal."),
    ("user", "reset_password"): ("UserResetPassword", ACTION_DONE, "Set password, or e-mail a "
                                 "link to choose one."),
    ("package", "suspend"): ("PackageSuspend", ACTION_DONE, "Suspend from suspendfrom_datetime "
                             "(default now) until suspendto_datetime (default: until "
                             "unsuspended): those days' base and non-metered charges are "
                             "prorated out; usage is still billed."),
    ("package", "unsuspend"): ("PackageUnsuspend", ACTION_DONE, "End the suspension now (or at "
                               "suspendto_datetime); one not yet begun is withdrawn."),
    ("package", "upgrade"): ("PackageUpgrade", ACTION_DONE, "Add, replace, re-price, change "
                             "the quantity of or cancel line items."),
    ("package", "invoice"): ("Empty", obj({"id": null(INT), "invoice_ids": {
        "type": "array", "items": INT}}, ["id", "invoice_ids"]),
        "Bill what is due as of now; answers the new invoice ids (id = the first or null)."),
    ("invoice", "void"): ("Empty", ACTION_DONE, "Void the invoice; its charges are billed "
                          "again by the next run."),
    ("invoice", "pay"): ("InvoicePay", BOOL, "Apply the customer's available credit (no card "
                         "is charged): true when credit was applied, false when there was none."),
    ("invoice", "approve"): ("Empty", ACTION_DONE, "Invoices are issued when written: true."),
    ("invoice", "credit"): ("InvoiceCredit", obj({"id": INT, "credit_note_id": INT}, ["id"]),
                            "Issue a credit memo (credit note) applied to this invoice; "
                            "answers the cre transaction's id."),
    ("invoice", "schedule"): ("Empty", ACTION_DONE, "Not supported (no payment gateway): 400."),
    ("invoice", "print"): ("Empty", ACTION_DONE, "Not supported (no print service): 400."),
    ("transaction", "refund"): ("TransactionRefund", ref("Id"), "Record money paid back; "
                                "answers the ref transaction's id."),
    ("transaction", "void"): ("Empty", ACTION_DONE, "Void it: its applications are reversed."),
    ("transaction", "email"): ("InvoiceEmail", ACTION_DONE, "Queue a receipt e-mail."),
    ("transaction", "changeAppliedAmounts"): ("TransactionApply", ACTION_DONE,
                                              "Set how much is applied to each invoice named."),
    ("usage_import", "confirm"): (None, ACTION_DONE, "Import the good rows of a dry-run "
                                  "upload (status validated), in the background."),
    ("invoice", "email"): ("InvoiceEmail", ACTION_DONE, "Queue the invoice e-mail to the billing "
                           "contact (or email)."),
}


# Collection actions (`/<obj>/_action/<name>`): request bodies, query parameters, answer.
USAGE_LIST = {"type": "array", "minItems": 1, "maxItems": 1000, "items": ref("UsageCreate")}
COLLECTION_SCHEMAS = {
    ("usage", "bulk"): {
        "summary": "Store up to 1000 usage records; one result per record, in order",
        "content": {"application/json": {"schema": {"oneOf": [
            USAGE_LIST, obj({"usage": USAGE_LIST}, ["usage"])]}}},
        "parameters": [],
        "response": {"type": "array", "items": ref("UsageRecordResult")},
        "details": obj({"stored": INT, "duplicates": INT, "errors": INT}),
    },
    ("transaction", "pay"): {
        "summary": "Pay invoices from the customer's unapplied credit (also POST "
                   "/transaction?action=pay); a card to charge is a 400",
        "content": {"application/json": {"schema": ref("TransactionPay")}},
        "parameters": [], "response": ACTION_DONE, "details": {"type": "object"},
    },
    ("usage", "import"): {
        "summary": "Upload a usage CSV file (the request body, text/csv), imported in the "
                   "background: 202 with the id and Location of its usage_import",
        "content": {media: {"schema": {"type": "string", "examples": [
            "line_item_id,usage_value,from,to,external_key\n"
            "1,42.5,2015-09-15 00:00:00,2015-09-15 23:59:59,evt-1\n"]}}
            for media in ("text/csv", "text/plain")},
        "parameters": [{"name": "dry_run", "in": "query", "required": False,
                        "schema": {"type": "boolean", "default": False},
                        "description": "Check every row and report, store nothing."}],
        "code": 202,
        "response": ref("Id"),
        "details": {"type": "object"},
    },
}


OBJECT_SCHEMAS.update(integrations.OBJECT_SCHEMAS)
ACTION_SCHEMAS.update(integrations.ACTION_SCHEMAS)


def schemas() -> dict:
    """Every named schema of the document."""
    return {**COMMON, **OBJECTS, **INPUTS, **ACTIONS, **integrations.OBJECTS, **integrations.INPUTS}

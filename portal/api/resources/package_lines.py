"""A package's line items in the API: their shape, and the entries of create and upgrade."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from portal.api.body import get_bool, get_int, get_str
from portal.api.fields import custom_fields, policy
from portal.api.format import dt
from portal.api.resources.items import TIERSET_POLICY, serialize_tierset
from portal.billing.errors import ValidationError
from portal.billing.money import parse_decimal
from portal.billing.pricemodel import validate_pricemodel
from portal.extensions import db
from portal.models import Item, LineItem, Package
from portal.services import merchant_tz
from portal.services.catalog import EVERY_CYCLE, parse_pricemodel, pricemodel_of
from portal.services.packages import (
    LineDraft, cancel_line, change_line_quantity, package_line, replace_line, subscribe_line,
)
from portal.services.usage_pulls import carry_pull_url, line_pulls, pull_url, set_pull_url
from portal.timeutil import parse_datetime

MAX_ID = 2**31 - 1  # ids are 32-bit; a larger number cannot name a row (nor reach SQLite)
LINE_CUSTOM = custom_fields(5)  # ChargeOver's custom_1 .. custom_5 of a line item
NO_MONEY_CHANGE = "it would change what is billed and Meterbill does not support it"
LINE_POLICY = policy(
    "line item",
    stored=("item_id", "line_item_id", "line_quantity", "descrip", "external_key", "trial_days",
            "tierset", "paycycle", "subscribe_prorate", "cancel_prorate", "cancel",
            "cancel_datetime", "effective_datetime", "usage_url", *LINE_CUSTOM),
    read_only=("item_name", "item_external_key", "item_units", "subscribe_datetime",
               "tierset_id", "item_accounting_sku", "usage_pull"),
    unsupported={
        "expire_datetime": NO_MONEY_CHANGE, "expire_recurs": NO_MONEY_CHANGE,
        "trial_recurs": "trials are given in days (trial_days)",
        "subscribe_prorate_cycle": NO_MONEY_CHANGE, "cancel_prorate_cycle": NO_MONEY_CHANGE,
        "line_rate": "a package line is priced by its tierset (give tierset)",
        "discount": NO_MONEY_CHANGE,
    })



def serialize_line(line: LineItem) -> dict:
    """A line item as ChargeOver's, with the tierset in force."""
    custom = line.custom_fields or {}
    return {
        "line_item_id": line.id, "item_id": line.item_id, "item_name": line.item.name,
        "item_external_key": line.item.external_key, "item_units": line.item.units,
        "external_key": line.external_key, "descrip": line.descrip,
        "line_quantity": line.line_quantity, "trial_days": line.trial_days,
        "paycycle": line.tierset.paycycle or EVERY_CYCLE,
        "subscribe_datetime": dt(line.subscribe_at), "cancel_datetime": dt(line.cancel_at),
        "subscribe_prorate": line.prorate_subscribe, "cancel_prorate": line.prorate_cancel,
        **{name: custom.get(name) for name in LINE_CUSTOM},
        "tierset_id": line.tierset.id, "tierset": serialize_tierset(line.tierset),
        **serialize_pull(line),
    }


def serialize_pull(line: LineItem) -> dict:
    """The line's pulled usage URL and its latest pull (the error that holds an invoice)."""
    source, pulls = pull_url(line.id), line_pulls(line.id, 1)
    pull = pulls[0] if pulls else None
    return {"usage_url": source.url if source else None, "usage_pull": None if pull is None else {
        "status": pull.status, "from_datetime": dt(pull.period_start), "to_datetime": dt(pull.period_end),
        "attempts": pull.attempts, "error": pull.last_error,
        "next_attempt_datetime": dt(pull.next_attempt_at) if pull.status == "pending" else None,
        "usage_amount": pull.usage_amount}}


def instant(data: dict, *fields: str) -> datetime | None:
    """The first of `fields` given, as an instant (naive = merchant time zone)."""
    for field in fields:
        value = data.get(field)
        if value is None or value == "":
            continue
        try:
            moment = parse_datetime(value, field, merchant_tz())
        except OverflowError:
            moment = None
        if moment is None or not 1970 <= moment.year <= 9000:
            raise ValidationError(field, "must be between 1970 and 9000")
        return moment
    return None


def lookup(model, data: dict, field: str, what: str):
    """The row named by an id field, or a 400 naming the field."""
    object_id = get_int(data, field, required=True)
    found = db.session.get(model, object_id) if 0 < object_id <= MAX_ID else None
    if found is None:
        raise ValidationError(field, f"no {what} {object_id}")
    return found


def _tierset(entry: dict, item: Item, line: LineItem | None):
    """The line's own price model: the tierset given, and/or the item's with the line's
    `paycycle` (a line billed on its own cycle)."""
    tierset = entry.get("tierset")
    if isinstance(tierset, dict):
        TIERSET_POLICY.check(tierset, "tierset")
    pricing = parse_pricemodel(tierset, prefix="tierset") if tierset is not None else None
    paycycle = get_str(entry, "paycycle", max_length=3)
    if paycycle is None:
        return pricing
    base = pricing or pricemodel_of(line.tierset if line is not None and item is line.item
                                    else item.tierset)
    own = replace(base, paycycle=None if paycycle == EVERY_CYCLE else paycycle)
    validate_pricemodel(own)  # an unknown paycycle is refused, naming `paycycle`
    return own


def draft(entry: dict, line: LineItem | None = None) -> LineDraft:
    """A new line from a body entry; a replaced `line` supplies the defaults."""
    LINE_POLICY.check(entry)
    item = lookup(Item, entry, "item_id", "item") if entry.get("item_id") is not None else line.item
    quantity = entry.get("line_quantity")
    trial_days = get_int(entry, "trial_days")
    custom = {n: get_str(entry, n, max_length=1000) for n in LINE_CUSTOM if n in entry}
    if line is not None:
        custom = {**(line.custom_fields or {}), **custom}
    return LineDraft(
        item=item,
        line_quantity=(parse_decimal(quantity, "line_quantity") if quantity not in (None, "")
                       else line.line_quantity if line else 1),
        descrip=get_str(entry, "descrip", max_length=10000) or (line.descrip if line else None),
        external_key=get_str(entry, "external_key"),
        trial_days=0 if trial_days is None else trial_days,
        tierset=_tierset(entry, item, line),
        prorate_subscribe=get_bool(entry, "subscribe_prorate", default=True),
        custom_fields={k: v for k, v in custom.items() if v is not None},
    )


def entries(data: dict, required: bool) -> list[dict]:
    """The body's `line_items` list (each entry an object)."""
    found = data.get("line_items")
    if found is None and not required:
        return []
    if not isinstance(found, list) or (required and not found):
        raise ValidationError("line_items", "must be a non-empty list of line items")
    for index, entry in enumerate(found):
        if not isinstance(entry, dict):
            raise ValidationError(f"line_items[{index}]", "must be an object")
    return found


def change(package: Package, entry: dict, at: datetime | None) -> None:
    """One upgrade entry: cancel, replace, change quantity, or add a line."""
    if entry.get("line_item_id") is None:
        if entry.get("item_id") is None:
            raise ValidationError("item_id", "is required to add a line (or give line_item_id)")
        added = subscribe_line(package, draft(entry), at)
        if "usage_url" in entry:
            set_pull_url(added, get_str(entry, "usage_url", max_length=2000))
        return
    LINE_POLICY.check(entry)
    line = package_line(package, get_int(entry, "line_item_id"))
    changes = ("cancel", "item_id", "tierset", "paycycle", "line_quantity", *LINE_CUSTOM)
    if "usage_url" in entry and not any(entry.get(name) not in (None, "") for name in changes):
        set_pull_url(line, get_str(entry, "usage_url", max_length=2000))
        return
    prorate = get_bool(entry, "cancel_prorate", default=True)
    if get_bool(entry, "cancel", default=False):
        cancel_line(line, instant(entry, "cancel_datetime", "cancel_date") or at, prorate)
        _set_url(line, entry)
    elif any(entry.get(k) is not None for k in ("item_id", "tierset", "paycycle", *LINE_CUSTOM)):
        _replace(line, entry, at, prorate)
    elif entry.get("line_quantity") not in (None, ""):
        change_line_quantity(line, parse_decimal(entry["line_quantity"], "line_quantity"), at)
        _set_url(line, entry)
    else:
        raise ValidationError("line_item_id", "nothing to change: give line_quantity, item_id, "
                                              "tierset, paycycle, usage_url or cancel")


def _replace(line: LineItem, entry: dict, at: datetime | None, prorate: bool) -> None:
    """Replace the line; its pulled usage URL follows it to the new line (a line replaced by
    one of a metered item must not lose the usage its invoices wait for)."""
    new = replace_line(line, draft(entry, line), at, cancel_prorate=prorate)
    if "usage_url" in entry:
        set_pull_url(new, get_str(entry, "usage_url", max_length=2000))
    else:
        carry_pull_url(line.id, new)


def _set_url(line: LineItem, entry: dict) -> None:
    if "usage_url" in entry:
        set_pull_url(line, get_str(entry, "usage_url", max_length=2000))

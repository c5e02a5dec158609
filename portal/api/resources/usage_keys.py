"""Usage addressed as ChargeOver's bulk uploads may address it, and its field policy.

A record names its line by `line_item_id` or `line_item_external_key`, or by the customer
(`customer_id` / `customer_external_key`) and the item (`item_id` / `item_external_key`):
the one open line of that item in that customer's open packages. Fields ChargeOver
documents that Meterbill does not store are refused by name (never dropped).
"""
from __future__ import annotations

from sqlalchemy import false, or_, select

from portal.api.envelope import ApiError
from portal.api.fields import custom_fields, policy
from portal.billing.vocabulary import PackageStatus
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Customer, Item, LineItem, Package

NOT_STORED = "Meterbill stores no extra data on a usage record"
POLICY = policy(
    "usage",
    stored=("line_item_id", "line_item_external_key", "usage_value", "from", "to", "type",
            "external_key", "customer_id", "customer_external_key", "item_id",
            "item_external_key"),
    read_only=("usage_id", "usage_history_id", "source", "write_datetime"),
    unsupported={"options": NOT_STORED, **{name: NOT_STORED for name in custom_fields(5)},
                 "usage_date": "give from (and to) instead"})
BY_CUSTOMER = ("customer_id", "customer_external_key")
MAX_ID = 2**31 - 1
BY_ITEM = ("item_id", "item_external_key")


def addressed(raw) -> dict:
    """The record with its line resolved from customer and item, if it names them that way
    (an ApiError 400 naming the field otherwise); other records unchanged."""
    if not isinstance(raw, dict):
        return raw
    POLICY.check(raw)
    given = [k for k in (*BY_CUSTOMER, *BY_ITEM) if raw.get(k) not in (None, "")]
    if not given:
        return raw
    if raw.get("line_item_id") not in (None, "") or raw.get("line_item_external_key"):
        raise ApiError(400, f"{given[0]}: give either the line item or the customer and the "
                            "item, not both", {"field": given[0]})
    customer = _condition(raw, BY_CUSTOMER, Customer)
    item = _condition(raw, BY_ITEM, Item)
    now = utcnow()
    lines = db.session.scalars(
        select(LineItem.id).join(Package, LineItem.package_id == Package.id)
        .join(Customer, Package.customer_id == Customer.id).join(Item, LineItem.item_id == Item.id)
        .where(customer, item, or_(LineItem.cancel_at.is_(None), LineItem.cancel_at > now),
               Package.status.in_((PackageStatus.CURRENT, PackageStatus.TRIAL,
                                   PackageStatus.OVERDUE, PackageStatus.SUSPENDED)))
        .order_by(LineItem.id).limit(2)).all()
    if len(lines) != 1:
        what = "no open line" if not lines else "more than one open line"
        raise ApiError(400, f"{BY_ITEM[1]}: {what} of this item for this customer; send "
                            "line_item_id instead", {"field": BY_ITEM[1]})
    rest = {k: v for k, v in raw.items() if k not in (*BY_CUSTOMER, *BY_ITEM)}
    return {**rest, "line_item_id": lines[0]}


def _condition(raw: dict, names: tuple[str, str], model):
    id_name, key_name = names
    if raw.get(id_name) not in (None, ""):
        value = raw[id_name]
        if isinstance(value, bool) or not str(value).isascii() or not str(value).isdigit():
            raise ApiError(400, f"{id_name}: must be an id", {"field": id_name})
        if int(value) > MAX_ID:  # beyond the 32-bit id column: no row (and no overflow)
            return false()
        return model.id == int(value)
    if raw.get(key_name) in (None, ""):
        raise ApiError(400, f"{key_name}: is required with {names[0].split('_')[0]} addressing "
                            f"(or give {id_name})", {"field": key_name})
    return model.external_key == str(raw[key_name])

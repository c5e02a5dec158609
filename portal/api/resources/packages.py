"""`package`: subscriptions of customers, their line items, and the package actions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.api.body import get_bool, get_int, get_str
from portal.api.format import dt, money
from portal.api.query import Field, as_datetime, as_int, as_text
from portal.api.registry import Resource, register
from portal.api.resources.items import nested, serialize_tierset
from portal.billing.errors import ValidationError
from portal.billing.money import parse_decimal
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Customer, Invoice, Item, LineItem, Package, Tierset
from portal.services import merchant_tz
from portal.services.catalog import parse_pricemodel
from portal.services.packages import (
    LineDraft, cancel_line, cancel_package, change_line_quantity, create_package, package_line,
    replace_line, require_open, subscribe_line, update_package, withdraw_cancel,
)
from portal.services.suspensions import pending_suspension, suspend_package, unsuspend_package
from portal.timeutil import parse_datetime

STATUS_NAMES = {
    "active-current": "Current", "active-trial": "Trial", "active-overdue": "Overdue",
    "suspended-suspended": "Suspended", "canceled-manual": "Canceled manually",
    "canceled-nonpayment": "Canceled due to non-payment", "expired-expired": "Expired",
}
MAX_ID = 2**31 - 1  # ids are 32-bit; a larger number cannot name a row (nor reach SQLite)

FIELDS = {
    "package_id": Field(Package.id, as_int),
    "customer_id": Field(Package.customer_id, as_int),
    "external_key": Field(Package.external_key, as_text),
    "nickname": Field(Package.nickname, as_text),
    "paycycle": Field(Package.paycycle, as_text),
    "package_status_str": Field(Package.status, as_text),
    "next_invoice_datetime": Field(Package.next_invoice_at, as_datetime),
    "start_datetime": Field(Package.start_at, as_datetime),
    "cancel_datetime": Field(Package.cancel_at, as_datetime),
}


def _query():
    lines = selectinload(Package.line_items)
    return select(Package).options(
        lines.selectinload(LineItem.item).selectinload(Item.tierset).selectinload(Tierset.tiers),
        lines.selectinload(LineItem.tierset_override).selectinload(Tierset.tiers),
        selectinload(Package.customer))


def _totals(package: Package) -> tuple[int, int]:
    """(invoiced, paid) in minor units over the package's non-void invoices."""
    row = db.session.execute(
        select(func.coalesce(func.sum(Invoice.total_minor), 0),
               func.coalesce(func.sum(Invoice.paid_minor), 0))
        .where(Invoice.package_id == package.id, Invoice.status != "void-void")).one()
    return int(row[0]), int(row[1])


def serialize_line(line: LineItem) -> dict:
    """A line item as ChargeOver's, with the tierset in force."""
    return {
        "line_item_id": line.id, "item_id": line.item_id, "item_name": line.item.name,
        "item_external_key": line.item.external_key, "item_units": line.item.units,
        "external_key": line.external_key, "descrip": line.descrip,
        "line_quantity": line.line_quantity, "trial_days": line.trial_days,
        "subscribe_datetime": dt(line.subscribe_at), "cancel_datetime": dt(line.cancel_at),
        "tierset_id": line.tierset.id, "tierset": serialize_tierset(line.tierset),
    }


def _shown(package: Package, line: LineItem, now: datetime) -> bool:
    """ChargeOver drops a replaced or canceled line from GET; a canceled package keeps the
    lines it ended with."""
    if line.cancel_at is None or line.cancel_at > now:
        return True
    return package.cancel_at is not None and line.cancel_at >= package.cancel_at


def serialize(package: Package) -> dict:
    """A package as ChargeOver returns it (`?expand=line_items` is implied)."""
    c, now = package.customer.currency, utcnow()
    invoiced, paid = _totals(package)
    next_invoice = dt(package.next_invoice_at)
    suspension = pending_suspension(package, now)
    return {
        "package_id": package.id, "customer_id": package.customer_id,
        "external_key": package.external_key, "nickname": package.nickname or "",
        "paycycle": package.paycycle, "start_datetime": dt(package.start_at),
        "holduntil_datetime": dt(package.holduntil_at),
        # ChargeOver answers "" (not null) for a canceled package's next invoice.
        "next_invoice_datetime": "" if next_invoice is None and package.cancel_at else next_invoice,
        # A future cancel_datetime is a scheduled cancel (the package is still active).
        "cancel_datetime": dt(package.cancel_at),
        "suspendfrom_datetime": dt(suspension.start_at) if suspension else None,
        "suspendto_datetime": dt(suspension.end_at) if suspension else None,
        "package_status_str": package.status,
        "package_status_state": package.status[0], "package_status_name": STATUS_NAMES[package.status],
        "currency_iso4217": c, "amount_invoiced": money(invoiced, c),
        "amount_collected": money(paid, c), "amount_due": money(invoiced - paid, c),
        "write_datetime": dt(package.created_at),
        "line_items": [serialize_line(line) for line in package.line_items if _shown(package, line, now)],
    }


def _instant(data: dict, field: str) -> datetime | None:
    """An optional datetime of the body (naive = merchant time zone)."""
    value = data.get(field)
    if value is None or value == "":
        return None
    try:
        instant = parse_datetime(value, field, merchant_tz())
    except OverflowError:
        instant = None
    if instant is None or not 1970 <= instant.year <= 9000:
        raise ValidationError(field, "must be between 1970 and 9000")
    return instant


def _lookup(model, data: dict, field: str, what: str):
    """The row named by an id field, or a 400 naming the field."""
    object_id = get_int(data, field, required=True)
    found = db.session.get(model, object_id) if 0 < object_id <= MAX_ID else None
    if found is None:
        raise ValidationError(field, f"no {what} {object_id}")
    return found


def _draft(entry: dict, line: LineItem | None = None) -> LineDraft:
    """A new line from a body entry; a replaced `line` supplies the defaults."""
    item = _lookup(Item, entry, "item_id", "item") if entry.get("item_id") is not None else line.item
    quantity = entry.get("line_quantity")
    trial_days = get_int(entry, "trial_days")
    tierset = entry.get("tierset")
    return LineDraft(
        item=item,
        line_quantity=(parse_decimal(quantity, "line_quantity") if quantity not in (None, "")
                       else line.line_quantity if line else 1),
        descrip=get_str(entry, "descrip", max_length=10000) or (line.descrip if line else None),
        external_key=get_str(entry, "external_key"),
        trial_days=0 if trial_days is None else trial_days,
        tierset=parse_pricemodel(tierset, prefix="tierset") if tierset is not None else None,
    )


def _entries(data: dict, required: bool) -> list[dict]:
    """The body's `line_items` list (each entry an object)."""
    entries = data.get("line_items")
    if entries is None and not required:
        return []
    if not isinstance(entries, list) or (required and not entries):
        raise ValidationError("line_items", "must be a non-empty list of line items")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValidationError(f"line_items[{index}]", "must be an object")
    return entries


def create(data: dict) -> Package:
    """POST /package: a customer's subscription with its line items."""
    customer = _lookup(Customer, data, "customer_id", "customer")
    drafts = []
    for index, entry in enumerate(_entries(data, required=False)):
        with nested(f"line_items[{index}]"):
            if entry.get("item_id") is None:
                raise ValidationError("item_id", "is required")
            drafts.append(_draft(entry))
    return create_package(
        customer, drafts, paycycle=get_str(data, "paycycle") or "mon",
        start_at=_instant(data, "start_datetime"), holduntil_at=_instant(data, "holduntil_datetime"),
        nickname=get_str(data, "nickname"), external_key=get_str(data, "external_key"))


def update(package: Package, data: dict) -> None:
    """PUT /package/N: nickname, external_key; holduntil and paycycle until the first invoice."""
    if "customer_id" in data and get_int(data, "customer_id") != package.customer_id:
        raise ValidationError("customer_id", "a package cannot move to another customer")
    fields = {name: get_str(data, name) for name in ("nickname", "external_key", "paycycle")
              if name in data}
    if fields.get("paycycle") is None:
        fields.pop("paycycle", None)
    if "holduntil_datetime" in data:
        fields["holduntil_at"] = _instant(data, "holduntil_datetime")
    update_package(package, **fields)


def cancel(package: Package, data: dict) -> bool:
    """POST package/N/_action/cancel: the package (now or scheduled at a future
    cancel_datetime), or only the lines listed in `line_items`."""
    if data.get("line_items") is not None:
        return upgrade(package, data)
    cancel_package(package, _instant(data, "cancel_datetime"))
    return True


def uncancel(package: Package, data: dict) -> bool:
    """POST package/N/_action/uncancel: withdraw a scheduled cancel."""
    withdraw_cancel(package)
    return True


def suspend(package: Package, data: dict) -> bool:
    """POST package/N/_action/suspend: from suspendfrom_datetime until suspendto_datetime."""
    suspend_package(package, _instant(data, "suspendfrom_datetime"),
                    _instant(data, "suspendto_datetime"))
    return True


def unsuspend(package: Package, data: dict) -> bool:
    """POST package/N/_action/unsuspend: end the suspension now (or at suspendto_datetime)."""
    unsuspend_package(package, _instant(data, "suspendto_datetime"))
    return True


def _change(package: Package, entry: dict, at: datetime | None) -> None:
    """One upgrade entry: cancel, replace, change quantity, or add a line."""
    if entry.get("line_item_id") is None:
        if entry.get("item_id") is None:
            raise ValidationError("item_id", "is required to add a line (or give line_item_id)")
        subscribe_line(package, _draft(entry), at)
        return
    line = package_line(package, get_int(entry, "line_item_id"))
    if get_bool(entry, "cancel", default=False):
        cancel_line(line, _instant(entry, "cancel_datetime") or at)
    elif entry.get("item_id") is not None or entry.get("tierset") is not None:
        replace_line(line, _draft(entry, line), at)
    elif entry.get("line_quantity") not in (None, ""):
        change_line_quantity(line, parse_decimal(entry["line_quantity"], "line_quantity"), at)
    else:
        raise ValidationError("line_item_id", "nothing to change: give line_quantity, item_id, "
                                              "tierset or cancel")


def upgrade(package: Package, data: dict) -> bool:
    """POST package/N/_action/upgrade: change, replace, cancel or add line items."""
    require_open(package)
    at = _instant(data, "effective_datetime")
    for index, entry in enumerate(_entries(data, required=True)):
        with nested(f"line_items[{index}]"):
            _change(package, entry, _instant(entry, "effective_datetime") or at)
    return True


def invoice(package: Package, data: dict) -> dict:
    """POST package/N/_action/invoice: bill what is due now (the billing job commits each
    invoice; the route's commit has nothing left); answers the new invoice ids."""
    from portal.jobs.billing import bill_package_now

    documents = bill_package_now(package, utcnow())
    ids = [d.id for d in documents if not d.is_credit_note]
    answer = {"id": ids[0] if ids else None, "invoice_ids": ids}
    credit_note_ids = [d.id for d in documents if d.is_credit_note]
    if credit_note_ids:  # a negative result is a credit note (a `cre` transaction)
        answer["credit_note_ids"] = credit_note_ids
    return answer


register(Resource(
    name="package", model=Package, id_field="package_id", fields=FIELDS, serialize=serialize,
    create=create, update=update, query=_query,
    actions={"cancel": cancel, "uncancel": uncancel, "suspend": suspend, "unsuspend": unsuspend,
             "upgrade": upgrade, "invoice": invoice},
))

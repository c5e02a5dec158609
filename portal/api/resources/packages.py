"""`package`: subscriptions of customers, their line items, and the package actions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.api.body import get_int, get_str
from portal.api.fields import policy
from portal.api.format import dt, money
from portal.api.query import Field, as_datetime, as_int, as_text
from portal.api.registry import Resource, register
from portal.api.resources.items import nested
from portal.api.resources.package_lines import (
    change, draft, entries, instant, lookup, serialize_line,
)
from portal.billing.errors import ValidationError
from portal.billing.vocabulary import PackageStatus
from portal.db_types import utcnow
from portal.models import Customer, Item, LineItem, Package, Tierset
from portal.services.package_welcome import queue_welcome
from portal.services.balances import package_totals
from portal.services.packages import (
    cancel_package, create_package, is_invoiced, require_open, update_package, withdraw_cancel,
)
from portal.services.suspensions import pending_suspension, suspend_package, unsuspend_package
from portal.services.usage_pulls import set_pull_url

STATUS_NAMES = {
    PackageStatus.CURRENT: "Current", PackageStatus.TRIAL: "Trial", PackageStatus.OVERDUE: "Overdue",
    PackageStatus.SUSPENDED: "Suspended", PackageStatus.CANCELED: "Canceled manually",
    PackageStatus.CANCELED_NONPAYMENT: "Canceled due to non-payment", PackageStatus.EXPIRED: "Expired",
}
NO_GATEWAY = "Meterbill stores no payment methods: packages are paid by invoice"
POLICY = policy(
    "package",
    stored=("customer_id", "nickname", "external_key", "paycycle", "start_datetime",
            "holduntil_datetime", "line_items"),
    read_only=("package_id", "package_status_str", "package_status_state",
               "package_status_name", "currency_iso4217", "amount_invoiced",
               "amount_collected", "amount_due", "write_datetime", "next_invoice_datetime",
               "cancel_datetime", "suspendfrom_datetime", "suspendto_datetime"),
    unsupported={
        "coupon": "Meterbill has no coupons (a discount is a line with a discount item)",
        "paymethod": NO_GATEWAY, "creditcard_id": NO_GATEWAY, "ach_id": NO_GATEWAY,
        "tokenized_id": NO_GATEWAY, "terms_id": "payment terms are set per customer",
        "class_id": "Meterbill has no accounting classes", "admin_id": "no account managers",
        "brand_id": "Meterbill has no brands", "first_invoice_schedule_template_id":
        "Meterbill has no invoice schedules", "custom_1": "packages have no custom fields",
    })
UPGRADE_POLICY = policy("upgrade", stored=("line_items", "effective_datetime", "cancel_datetime",
                                           "cancel_date"))
SUSPEND_POLICY = policy("suspend", stored=("suspendfrom_datetime", "suspendto_datetime"))
CANCEL_POLICY = policy("cancel", stored=("cancel_datetime", "cancel_date", "line_items"),
                       unsupported={"cancel_reason_id": "Meterbill keeps no cancel reasons",
                                    "comment": "Meterbill keeps no cancel comments"})

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




def _pull_urls(lines: list[LineItem], entries: list[dict]) -> None:
    """Set the `usage_url` of each line whose body entry gives one."""
    for index, (line, entry) in enumerate(zip(lines, entries, strict=False)):
        if "usage_url" in entry:
            with nested(f"line_items[{index}]"):
                set_pull_url(line, get_str(entry, "usage_url", max_length=2000))


def _shown(package: Package, line: LineItem, now: datetime) -> bool:
    """ChargeOver drops a replaced or canceled line from GET; a canceled package keeps the
    lines it ended with."""
    if line.cancel_at is None or line.cancel_at > now:
        return True
    return package.cancel_at is not None and line.cancel_at >= package.cancel_at


def serialize(package: Package) -> dict:
    """A package as ChargeOver returns it (`?expand=line_items` is implied)."""
    c, now = package.customer.currency, utcnow()
    invoiced, paid = package_totals(package)
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


def create(data: dict) -> Package:
    """POST /package: a customer's subscription with its line items."""
    POLICY.check(data)
    customer = lookup(Customer, data, "customer_id", "customer")
    drafts, line_entries = [], entries(data, required=False)
    for index, entry in enumerate(line_entries):
        with nested(f"line_items[{index}]"):
            if entry.get("item_id") is None:
                raise ValidationError("item_id", "is required")
            drafts.append(draft(entry))
    package = create_package(
        customer, drafts, paycycle=get_str(data, "paycycle") or "mon",
        start_at=instant(data, "start_datetime"), holduntil_at=instant(data, "holduntil_datetime"),
        nickname=get_str(data, "nickname"), external_key=get_str(data, "external_key"))
    _pull_urls(list(package.line_items), line_entries)
    return package


def update(package: Package, data: dict) -> None:
    """PUT /package/N: nickname, external_key; holduntil and paycycle until the first invoice."""
    POLICY.check(data)
    if "customer_id" in data and get_int(data, "customer_id") != package.customer_id:
        raise ValidationError("customer_id", "a package cannot move to another customer")
    fields = {name: get_str(data, name) for name in ("nickname", "external_key", "paycycle")
              if name in data}
    if fields.get("paycycle") is None:
        fields.pop("paycycle", None)
    if "holduntil_datetime" in data:
        fields["holduntil_at"] = instant(data, "holduntil_datetime")
    update_package(package, **fields)


def cancel(package: Package, data: dict) -> bool:
    """POST package/N/_action/cancel: the package (now or scheduled at a future
    cancel_datetime), or only the lines listed in `line_items`."""
    CANCEL_POLICY.check(data)
    if data.get("line_items") is not None:
        return upgrade(package, data)
    cancel_package(package, instant(data, "cancel_datetime", "cancel_date"))
    return True


def uncancel(package: Package, data: dict) -> bool:
    """POST package/N/_action/uncancel: withdraw a scheduled cancel."""
    withdraw_cancel(package)
    return True


def suspend(package: Package, data: dict) -> bool:
    """POST package/N/_action/suspend: from suspendfrom_datetime until suspendto_datetime."""
    SUSPEND_POLICY.check(data)
    suspend_package(package, instant(data, "suspendfrom_datetime"),
                    instant(data, "suspendto_datetime"))
    return True


def unsuspend(package: Package, data: dict) -> bool:
    """POST package/N/_action/unsuspend: end the suspension now (or at suspendto_datetime)."""
    SUSPEND_POLICY.check(data)
    unsuspend_package(package, instant(data, "suspendto_datetime"))
    return True


def upgrade(package: Package, data: dict) -> bool:
    """POST package/N/_action/upgrade: change, replace, cancel or add line items."""
    UPGRADE_POLICY.check(data)
    require_open(package)
    at = instant(data, "effective_datetime")
    for index, entry in enumerate(entries(data, required=True)):
        with nested(f"line_items[{index}]"):
            change(package, entry, instant(entry, "effective_datetime") or at)
    return True


def hold(package: Package, data: dict) -> bool:
    """POST package/N?action=hold: no invoice before holduntil_datetime (until the first
    invoice; afterwards a pause is a suspension, which says what is not billed)."""
    policy("hold", stored=("holduntil_datetime",)).check(data)
    until = instant(data, "holduntil_datetime")
    if until is None:
        raise ValidationError("holduntil_datetime", "is required")
    if is_invoiced(package):
        raise ValidationError("holduntil_datetime", f"package {package.id} has been invoiced: "
                              "pause it with the suspend action (suspendfrom/suspendto) instead")
    update_package(package, holduntil_at=until)
    return True


def paycycle(package: Package, data: dict) -> bool:
    """POST package/N?action=paycycle: change the paycycle (before the first invoice)."""
    policy("paycycle", stored=("paycycle",)).check(data)
    code = get_str(data, "paycycle", required=True, max_length=3)
    if code != package.paycycle and is_invoiced(package):
        raise ValidationError("paycycle", f"package {package.id} has been invoiced: its periods "
                              "are fixed; cancel it and start a new package on the new paycycle")
    update_package(package, paycycle=code)
    return True


def welcome(package: Package, data: dict) -> bool:
    """POST package/N?action=welcome: e-mail the welcome message to the billing contact.
    `message_id` (a ChargeOver template) is accepted: Meterbill has one welcome message."""
    policy("welcome", stored=("message_id",)).check(data)
    get_int(data, "message_id")
    queue_welcome(package)
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
             "upgrade": upgrade, "invoice": invoice, "hold": hold, "paycycle": paycycle,
             "welcome": welcome},
))

"""Packages (subscriptions), their line items, and changes to them: cancel, upgrade.

Changes take effect at an instant (default now). It may not lie before the package's last
invoiced boundary: periods before it are settled, and a change there would never be billed;
nor at or after a scheduled cancel. Suspensions are in `portal.services.suspensions`.

A cancel dated in the future is *scheduled*: the package stays active (its lines too) and is
billed as usual until then; the billing run that reaches the instant ends it (`end_package`)
and writes its final invoice. Until then the cancel can be withdrawn (`withdraw_cancel`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, func, select

from portal.billing.errors import ValidationError
from portal.billing.money import MAX_USAGE_VALUE, to_micro
from portal.billing.periods import validate_paycycle
from portal.billing.pricing import PriceModel
from portal.billing.vocabulary import InvoiceStatus, PackageStatus
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Customer, Invoice, Item, LineItem, Package, QuantityChange
from portal.services.change_log import log_history_change
from portal.services.events import record_event
from portal.services import ensure_unique, merchant_tz
from portal.services.catalog import build_tierset, field_prefix
from portal.services.package_periods import (  # noqa: F401  (package_anchor: re-exported)
    boundary_at_or_after, first_boundary, package_anchor,
)
from portal.timeutil import format_datetime

CANCELED = PackageStatus.CANCELED
MAX_TRIAL_DAYS = 3650
PACKAGE_FIELDS = ("nickname", "external_key", "holduntil_at", "paycycle")


@dataclass(frozen=True)
class LineDraft:
    """What a new package line is made of."""

    item: Item
    line_quantity: Decimal = Decimal(1)
    descrip: str | None = None
    external_key: str | None = None
    trial_days: int = 0
    tierset: PriceModel | None = None
    prorate_subscribe: bool = True  # False: its first period is charged whole
    custom_fields: dict | None = None


def check_quantity(quantity: Decimal, field: str = "line_quantity") -> Decimal:
    """A line quantity: 0 ≤ q ≤ 10^12 with at most 6 decimals (stored in micro-units).

    :param quantity: the quantity.
    :param field: the field named in errors.
    """
    if quantity < 0:
        raise ValidationError(field, "must not be negative")
    if quantity > MAX_USAGE_VALUE:
        raise ValidationError(field, f"must be at most {MAX_USAGE_VALUE}")
    try:
        to_micro(quantity)
    except ValidationError:
        raise ValidationError(field, "must have at most 6 decimal places") from None
    return quantity


def create_package(customer: Customer, lines: list[LineDraft], *, paycycle: str = "mon",
                   start_at: datetime | None = None, holduntil_at: datetime | None = None,
                   nickname: str | None = None, external_key: str | None = None) -> Package:
    """Subscribe `customer` to a package; its first invoice is due at its first boundary.

    :param customer: the subscriber.
    :param lines: the package's line items (errors name them `line_items[i].field`).
    :param paycycle: billing cycle code (mon, yrl, ...).
    :param start_at: start instant (aware); default now.
    :param holduntil_at: no invoice before this instant; periods are anchored on it.
    :param external_key: the merchant's unique key for the package, or None.
    """
    validate_paycycle(paycycle)
    start = start_at or utcnow()
    if holduntil_at is not None and holduntil_at < start:
        raise ValidationError("holduntil_datetime", "must not be before start_datetime")
    ensure_unique(Package, "external_key", external_key)
    package = Package(customer=customer, paycycle=paycycle, start_at=start,
                      holduntil_at=holduntil_at, nickname=nickname, external_key=external_key)
    db.session.add(package)
    for index, draft in enumerate(lines):
        with field_prefix(f"line_items[{index}]"):
            add_line(package, draft, subscribe_at=start)
    package.next_invoice_at = first_boundary(package)
    db.session.flush()
    record_event(db.session, context="package", context_id=package.id, event="insert")
    return package


def add_line(package: Package, draft: LineDraft, *, subscribe_at: datetime) -> LineItem:
    """Add a line to `package`, with its first quantity on record for proration.

    :param package: the package the line belongs to.
    :param draft: the line's item (must be enabled), quantity and options.
    :param subscribe_at: when the line starts (charges are prorated from then).
    """
    if not draft.item.enabled:
        raise ValidationError("item_id",
                              f"item {draft.item.id} is disabled and cannot be added to a package")
    check_quantity(draft.line_quantity)
    if not 0 <= draft.trial_days <= MAX_TRIAL_DAYS:
        raise ValidationError("trial_days", f"must be between 0 and {MAX_TRIAL_DAYS}")
    ensure_unique(LineItem, "external_key", draft.external_key)
    with field_prefix("tierset"):
        override = build_tierset(draft.tierset) if draft.tierset else None
    line = LineItem(
        item=draft.item, line_quantity=draft.line_quantity, descrip=draft.descrip,
        external_key=draft.external_key, trial_days=draft.trial_days, subscribe_at=subscribe_at,
        tierset_override=override, prorate_subscribe=draft.prorate_subscribe,
        custom_fields=dict(draft.custom_fields or {}),
        quantity_changes=[QuantityChange(effective_at=subscribe_at, quantity=draft.line_quantity)],
    )
    package.line_items.append(line)
    return line


def is_invoiced(package: Package) -> bool:
    """Whether any invoice (even a void one) was written for the package."""
    return bool(db.session.scalar(select(exists().where(Invoice.package_id == package.id))))


def last_billed_boundary(package: Package) -> datetime | None:
    """The latest boundary of a non-void invoice of the package (None before the first)."""
    return db.session.scalar(select(func.max(Invoice.boundary_at)).where(
        Invoice.package_id == package.id, Invoice.status != InvoiceStatus.VOID))


def change_instant(package: Package, at: datetime | None, field: str, floor: datetime) -> datetime:
    """When a change takes effect: `at`, or now (but not before `floor`, e.g. the start),
    and before the package's (scheduled) cancel.

    :param package: the package changed.
    :param at: the instant asked for, or None for now.
    :param field: the field named in errors.
    :param floor: the earliest acceptable instant.
    """
    if at is None:
        at = max(utcnow(), floor)
    else:
        if at < floor:
            raise ValidationError(field, f"must not be before {format_datetime(floor, merchant_tz())}")
        billed = last_billed_boundary(package)
        if billed is not None and at < billed:
            raise ValidationError(field, f"must not be before {format_datetime(billed, merchant_tz())}, "
                                         "the package's last invoiced period boundary")
    if package.cancel_at is not None and at >= package.cancel_at:
        raise ValidationError(field, "must be before the package's cancel on "
                                     f"{format_datetime(package.cancel_at, merchant_tz())}")
    return at


def require_open(package: Package) -> None:
    """Refuse changes to a canceled or expired package.

    :param package: the package.
    """
    ended = package.cancel_at is not None and package.cancel_at <= utcnow()
    if ended or package.status.startswith(("canceled", "expired")):
        state = "canceled" if ended else package.status.split("-")[0]
        raise ValidationError("package_id", f"package {package.id} is {state} and cannot be changed")


def package_line(package: Package, line_item_id: int, field: str = "line_item_id") -> LineItem:
    """The package's line with this id, refused when unknown.

    :param package: the package.
    :param line_item_id: the line's id.
    :param field: the field named in errors.
    """
    line = next((line for line in package.line_items if line.id == line_item_id), None)
    if line is None:
        raise ValidationError(field, f"package {package.id} has no line item {line_item_id}")
    return line


def require_active(line: LineItem) -> None:
    """Refuse changes to a line of a closed package, or a line already canceled.

    :param line: the line item.
    """
    require_open(line.package)
    if line.cancel_at is not None:
        raise ValidationError("line_item_id", f"line item {line.id} is canceled")


def update_package(package: Package, **fields) -> Package:
    """Change nickname, external_key, and before the first invoice holduntil_at and paycycle.

    :param package: the package.
    :param fields: any of PACKAGE_FIELDS; holduntil_at and paycycle move the period anchor,
        so they are refused once an invoice exists.
    """
    unknown = set(fields) - set(PACKAGE_FIELDS)
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a package field")
    ensure_unique(Package, "external_key", fields.get("external_key"), package.id)
    schedule = {k: v for k, v in fields.items() if k in ("holduntil_at", "paycycle")
                and v != getattr(package, k)}
    if schedule:
        _check_schedule(package, schedule)
    for name, value in fields.items():
        setattr(package, name, value)
    if schedule:
        package.next_invoice_at = first_boundary(package)
    db.session.flush()
    record_event(db.session, context="package", context_id=package.id, event="update")
    return package


def _check_schedule(package: Package, schedule: dict) -> None:
    field = "holduntil_datetime" if "holduntil_at" in schedule else "paycycle"
    require_open(package)
    if is_invoiced(package):
        raise ValidationError(field, f"cannot change: package {package.id} has been invoiced")
    if "paycycle" in schedule:
        validate_paycycle(schedule["paycycle"])
    hold = schedule.get("holduntil_at")
    if hold is not None and hold < package.start_at:
        raise ValidationError("holduntil_datetime", "must not be before start_datetime")


def cancel_package(package: Package, at: datetime | None = None) -> Package:
    """Cancel the package: now (it ends at once) or scheduled at a future instant (it stays
    active until then). Either way the billing run reaching `at` writes the final invoice.
    A scheduled cancel may be moved by cancelling again.

    :param package: an open package.
    :param at: the cancel instant (default now); not before the start or the last invoice.
    """
    lock_package(package)
    require_open(package)
    if package.cancel_at is not None:
        _unschedule(package)
    instant = change_instant(package, at, "cancel_datetime", package.start_at)
    package.cancel_at = instant
    if at is None or instant <= utcnow():  # "now" ends even a package that has not started
        end_package(package)
    # Billing invoices up to the cancel instant, then stops (earlier boundaries still come first).
    if package.next_invoice_at is None or package.next_invoice_at > instant:
        package.next_invoice_at = instant
    db.session.flush()
    record_event(db.session, context="package", context_id=package.id, event="cancel")
    return package


def lock_package(package: Package) -> None:
    """Take the package's row lock and re-read it (PostgreSQL): a billing run that holds it
    finishes first, so a cancel never reads a next invoice date the run is replacing (the
    run would then bill a whole period past the cancel). SQLite has one writer at a time.

    :param package: the package about to change.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.flush()  # the caller's pending changes are written first, not lost
        # A bare row lock, then the re-read: a package the billing run loaded with its
        # relationships joined would refresh with them, and FOR UPDATE refuses outer joins.
        db.session.execute(select(Package.id).where(Package.id == package.id).with_for_update())
        db.session.refresh(package)


def end_package(package: Package) -> None:
    """The package's cancel takes effect: it and every line end at `cancel_at` (a scheduled
    cancel, when the billing run reaches it; an immediate one, at once).

    :param package: a package whose cancel_at is set and not in the future.
    """
    if not package.status.startswith(("canceled", "expired")):
        package.status = CANCELED
    for line in package.line_items:
        if line.cancel_at is None or line.cancel_at > package.cancel_at:
            line.cancel_at = max(package.cancel_at, line.subscribe_at)


def withdraw_cancel(package: Package) -> Package:
    """Withdraw a scheduled cancel: the package goes on as if it had never been cancelled.

    :param package: a package whose cancel lies in the future.
    """
    if package.status.startswith(("canceled", "expired")) or package.cancel_at is None \
            or package.cancel_at <= utcnow():
        raise ValidationError("cancel_datetime", f"package {package.id} has no scheduled cancel")
    _unschedule(package)
    db.session.flush()
    return package


def _unschedule(package: Package) -> None:
    """Forget a scheduled cancel; the next invoice is again the next boundary."""
    cancel, package.cancel_at = package.cancel_at, None
    log_history_change(package, cancel)  # the period it prorated is billed in full again
    if package.next_invoice_at == cancel:
        package.next_invoice_at = boundary_at_or_after(package, cancel)


def change_line_quantity(line: LineItem, quantity: Decimal,
                         at: datetime | None = None) -> QuantityChange:
    """Record a new quantity from `at` on; the billing core prorates by days.

    :param line: an active line of an open package.
    :param quantity: the new quantity (≥ 0, at most 6 decimals).
    :param at: when it takes effect (default now).
    """
    require_active(line)
    check_quantity(quantity)
    instant = change_instant(line.package, at, "effective_datetime", line.subscribe_at)
    change = next((c for c in line.quantity_changes if c.effective_at == instant), None)
    if change is None:
        change = QuantityChange(effective_at=instant, quantity=quantity)
        line.quantity_changes.append(change)
    change.quantity = quantity
    # line_quantity shows the latest quantity on record (a future-dated change included).
    line.line_quantity = max(line.quantity_changes, key=lambda c: c.effective_at).quantity
    db.session.flush()
    record_event(db.session, context="package", context_id=line.package_id, event="update")
    return change


def cancel_line(line: LineItem, at: datetime | None = None, prorate: bool = True) -> LineItem:
    """Cancel one line (usage after `at` is refused, its charges prorated to `at`).

    :param line: an active line of an open package.
    :param at: the cancel instant (default now).
    :param prorate: False charges the period of the cancel whole (ChargeOver's cancel_prorate).
    """
    require_active(line)
    line.cancel_at = change_instant(line.package, at, "cancel_datetime", line.subscribe_at)
    line.prorate_cancel = prorate
    db.session.flush()
    record_event(db.session, context="package", context_id=line.package_id, event="update")
    return line


def subscribe_line(package: Package, draft: LineDraft, at: datetime | None = None) -> LineItem:
    """Add a line to an open package from `at` (default now) on.

    :param package: the package.
    :param draft: the new line.
    :param at: when it starts.
    """
    require_open(package)
    start = change_instant(package, at, "effective_datetime", package.start_at)
    line = add_line(package, draft, subscribe_at=start)
    db.session.flush()
    record_event(db.session, context="package", context_id=package.id, event="update")
    return line


def replace_line(line: LineItem, draft: LineDraft, at: datetime | None = None,
                 cancel_prorate: bool = True) -> LineItem:
    """Replace a line by a new one (a new line_item_id) from `at` on, as ChargeOver's upgrade.

    The old line is canceled at `at`; its external_key moves to the new line (unless the
    draft has its own), so usage sent by that key follows the line in force.
    :param line: an active line of an open package.
    :param draft: the new line (item, quantity, tierset...).
    :param at: when the switch happens (default now).
    :param cancel_prorate: False charges the old line's period of the switch whole.
    """
    package = line.package
    require_active(line)
    instant = change_instant(package, at, "effective_datetime", line.subscribe_at)
    line.cancel_at = instant
    line.prorate_cancel = cancel_prorate
    key = line.external_key
    if key is not None and draft.external_key in (None, key):
        line.external_key = None
        db.session.flush()  # free the unique key before the new line takes it
        draft = replace(draft, external_key=key)
    new = add_line(package, draft, subscribe_at=instant)
    db.session.flush()
    record_event(db.session, context="package", context_id=package.id, event="update")
    return new

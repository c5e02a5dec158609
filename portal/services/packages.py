"""Packages (subscriptions) and their line items."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from portal.billing.errors import ValidationError
from portal.billing.periods import anchor_date, boundary, validate_paycycle
from portal.billing.pricing import PriceModel
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Customer, Item, LineItem, Package, QuantityChange
from portal.services import merchant_tz
from portal.services.catalog import build_tierset


@dataclass(frozen=True)
class LineDraft:
    """What a new package line is made of."""

    item: Item
    line_quantity: Decimal = Decimal(1)
    descrip: str | None = None
    external_key: str | None = None
    trial_days: int = 0
    tierset: PriceModel | None = None


def package_anchor(package: Package):
    """The local date the package's periods are counted from (holduntil, else start)."""
    return anchor_date(package.start_at, package.holduntil_at, merchant_tz())


def create_package(customer: Customer, lines: list[LineDraft], *, paycycle: str = "mon",
                   start_at: datetime | None = None, holduntil_at: datetime | None = None,
                   nickname: str | None = None, external_key: str | None = None) -> Package:
    """Subscribe `customer` to a package; its first invoice is due at its first boundary.

    :param customer: the subscriber.
    :param lines: the package's line items.
    :param paycycle: billing cycle code (mon, yrl, ...).
    :param start_at: start instant (aware); default now.
    :param holduntil_at: no invoice before this instant; periods are anchored on it.
    """
    validate_paycycle(paycycle)
    start = start_at or utcnow()
    if holduntil_at is not None and holduntil_at < start:
        raise ValidationError("holduntil_datetime", "must not be before start_datetime")
    package = Package(customer=customer, paycycle=paycycle, start_at=start,
                      holduntil_at=holduntil_at, nickname=nickname, external_key=external_key)
    db.session.add(package)
    for draft in lines:
        add_line(package, draft, subscribe_at=start)
    package.next_invoice_at = boundary(package_anchor(package), paycycle, 0, merchant_tz())
    db.session.flush()
    return package


def add_line(package: Package, draft: LineDraft, *, subscribe_at: datetime) -> LineItem:
    """Add a line to `package`, with its first quantity on record for proration.

    :param package: the package the line belongs to.
    :param draft: the line's item, quantity and options.
    :param subscribe_at: when the line starts (charges are prorated from then).
    """
    if draft.line_quantity < 0:
        raise ValidationError("line_quantity", "must not be negative")
    if draft.trial_days < 0:
        raise ValidationError("trial_days", "must not be negative")
    line = LineItem(
        item=draft.item, line_quantity=draft.line_quantity, descrip=draft.descrip,
        external_key=draft.external_key, trial_days=draft.trial_days, subscribe_at=subscribe_at,
        tierset_override=build_tierset(draft.tierset) if draft.tierset else None,
        quantity_changes=[QuantityChange(effective_at=subscribe_at, quantity=draft.line_quantity)],
    )
    package.line_items.append(line)
    return line

"""Packages (subscriptions), their line items, the history of line quantities, suspensions."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint, text, true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.billing.vocabulary import PackageStatus
from portal.db_types import MicroUnits, UTCDateTime, utcnow
from portal.extensions import db
from portal.models.catalog import PAYCYCLE_CODES, Item, Tierset, in_list
from portal.models.customers import Customer

PACKAGE_STATUSES = tuple(PackageStatus)


class Package(db.Model):
    """A customer's subscription; billed at each boundary of its paycycle."""

    __tablename__ = "packages"
    __table_args__ = (
        CheckConstraint(in_list("paycycle", PAYCYCLE_CODES), name="paycycle"),
        CheckConstraint(in_list("status", PACKAGE_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    external_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    nickname: Mapped[str | None] = mapped_column(String(255))
    paycycle: Mapped[str] = mapped_column(String(3), default="mon")
    status: Mapped[str] = mapped_column(String(30), default=PackageStatus.CURRENT)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    holduntil_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Indexed: the billing run selects packages whose next invoice is due.
    next_invoice_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # A future cancel_at is a scheduled cancel: the package stays active until then.
    cancel_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    customer: Mapped[Customer] = relationship()
    line_items: Mapped[list[LineItem]] = relationship(
        back_populates="package", order_by="LineItem.id", cascade="all, delete-orphan"
    )
    suspensions: Mapped[list[Suspension]] = relationship(
        back_populates="package", order_by="Suspension.start_at", cascade="all, delete-orphan"
    )


class Suspension(db.Model):
    """The package was (or will be) suspended over [start_at, end_at); end_at None = until
    unsuspended. Kept forever: past suspensions still prorate their periods' charges."""

    __tablename__ = "package_suspensions"
    __table_args__ = (
        UniqueConstraint("package_id", "start_at"),
        CheckConstraint("end_at IS NULL OR end_at > start_at", name="interval"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    package: Mapped[Package] = relationship(back_populates="suspensions")


class LineItem(db.Model):
    """One item on a package; its id (`line_item_id`) is where usage is sent."""

    __tablename__ = "line_items"
    __table_args__ = (
        CheckConstraint("line_quantity >= 0", name="line_quantity"),
        CheckConstraint("trial_days >= 0", name="trial_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    # A line may override its item's price model, as ChargeOver allows.
    tierset_id: Mapped[int | None] = mapped_column(ForeignKey("tiersets.id"))
    external_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    descrip: Mapped[str | None] = mapped_column(Text)
    line_quantity: Mapped[Decimal] = mapped_column(MicroUnits(), default=Decimal(1))
    trial_days: Mapped[int] = mapped_column(Integer, default=0)
    subscribe_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancel_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # False: the period the line starts (ends) in is charged whole, not by days
    # (ChargeOver's subscribe_prorate / cancel_prorate on an upgrade).
    prorate_subscribe: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    prorate_cancel: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # ChargeOver's custom_1 .. custom_5 of a line item.
    custom_fields: Mapped[dict] = mapped_column(JSON, default=dict, server_default=text("'{}'"))

    package: Mapped[Package] = relationship(back_populates="line_items")
    item: Mapped[Item] = relationship()
    tierset_override: Mapped[Tierset | None] = relationship()
    quantity_changes: Mapped[list[QuantityChange]] = relationship(
        back_populates="line_item", order_by="QuantityChange.effective_at",
        cascade="all, delete-orphan",
    )

    @property
    def tierset(self) -> Tierset:
        """The price model in force: the line's override, else its item's."""
        return self.tierset_override or self.item.tierset


class QuantityChange(db.Model):
    """From `effective_at` on, the line's quantity is `quantity` (drives day proration)."""

    __tablename__ = "quantity_changes"
    __table_args__ = (
        UniqueConstraint("line_item_id", "effective_at"),
        CheckConstraint("quantity >= 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("line_items.id", ondelete="CASCADE"))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    quantity: Mapped[Decimal] = mapped_column(MicroUnits())

    line_item: Mapped[LineItem] = relationship(back_populates="quantity_changes")

"""The catalog: items (products) and their price models (tiersets with tiers)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.billing.vocabulary import Paycycle, UsageType
from portal.db_types import DecimalText, MicroUnits, UTCDateTime, utcnow
from portal.extensions import db

PRICEMODELS = ("fla", "uni", "tie", "vol", "stp", "pkg", "pas")
PAYCYCLE_CODES = tuple(Paycycle)
ITEM_TYPES = ("service", "product", "discount")
USAGE_TYPES = tuple(UsageType)


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL text of a CHECK that `column` takes one of `values`."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Tierset(db.Model):
    """A price model; owned by an item, or by a package line that overrides its item's."""

    __tablename__ = "tiersets"
    __table_args__ = (
        CheckConstraint(in_list("pricemodel", PRICEMODELS), name="pricemodel"),
        CheckConstraint(
            f"paycycle IS NULL OR {in_list('paycycle', PAYCYCLE_CODES)}", name="paycycle"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pricemodel: Mapped[str] = mapped_column(String(3))
    base: Mapped[Decimal] = mapped_column(DecimalText(), default=Decimal(0))
    setup: Mapped[Decimal] = mapped_column(DecimalText(), default=Decimal(0))
    minimum: Mapped[Decimal | None] = mapped_column(DecimalText())
    block_size: Mapped[Decimal | None] = mapped_column(MicroUnits())
    paycycle: Mapped[str | None] = mapped_column(String(3))
    # A discount line's percent of the package's other charges (ChargeOver's `percent`).
    percent: Mapped[Decimal | None] = mapped_column(DecimalText())

    tiers: Mapped[list[Tier]] = relationship(
        back_populates="tierset", order_by="Tier.position", cascade="all, delete-orphan"
    )


class Tier(db.Model):
    """One tier; quantities in micro-units, prices as exact decimal text."""

    __tablename__ = "tiers"
    __table_args__ = (UniqueConstraint("tierset_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tierset_id: Mapped[int] = mapped_column(ForeignKey("tiersets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    unit_from: Mapped[Decimal] = mapped_column(MicroUnits(), default=Decimal(0))
    unit_to: Mapped[Decimal | None] = mapped_column(MicroUnits())
    amount: Mapped[Decimal] = mapped_column(DecimalText(), default=Decimal(0))
    flat: Mapped[Decimal] = mapped_column(DecimalText(), default=Decimal(0))

    tierset: Mapped[Tierset] = relationship(back_populates="tiers")


class Item(db.Model):
    """A product or service the merchant sells; metered items receive usage."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint(in_list("item_type", ITEM_TYPES), name="item_type"),
        CheckConstraint(in_list("usage_type", USAGE_TYPES), name="usage_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    item_type: Mapped[str] = mapped_column(String(20), default="service")
    units: Mapped[str | None] = mapped_column(String(60))
    units_plural: Mapped[str | None] = mapped_column(String(60))
    external_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    is_metered: Mapped[bool] = mapped_column(Boolean, default=False)
    usage_type: Mapped[str] = mapped_column(String(3), default="add")
    tierset_id: Mapped[int] = mapped_column(ForeignKey("tiersets.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    tierset: Mapped[Tierset] = relationship()

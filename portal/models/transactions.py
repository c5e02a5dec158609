"""Payments recorded by the merchant and how they are applied to invoices."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Date, ForeignKey, String, UniqueConstraint, false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.billing.vocabulary import PaymentMethod, TransactionType
from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db
from portal.models.catalog import in_list

TRANSACTION_TYPES = tuple(TransactionType)
PAYMENT_METHODS = tuple(PaymentMethod)


class Transaction(db.Model):
    """A payment (or refund/credit) of a customer; no card processing, recording only."""

    __tablename__ = "transactions"
    __table_args__ = (
        CheckConstraint(in_list("transaction_type", TRANSACTION_TYPES), name="type"),
        CheckConstraint(in_list("method", PAYMENT_METHODS), name="method"),
        CheckConstraint("amount_minor > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    transaction_type: Mapped[str] = mapped_column(String(3), default=TransactionType.PAYMENT)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    transaction_date: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20), default=PaymentMethod.OTHER)
    reference: Mapped[str | None] = mapped_column(String(255))
    # A `cre` transaction is the money side of one credit note (its amount = the credit).
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), unique=True)
    # A `ref` transaction: the payment or credit memo whose unapplied money it paid back
    # (None: the customer's credit, oldest first).
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"), index=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    applications: Mapped[list[TransactionApplication]] = relationship(
        back_populates="transaction", cascade="all, delete-orphan"
    )


class TransactionApplication(db.Model):
    """The part of a transaction (payment or credit note) applied to one invoice."""

    __tablename__ = "transaction_applications"
    __table_args__ = (
        UniqueConstraint("transaction_id", "invoice_id"),
        CheckConstraint("amount_minor > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id", ondelete="CASCADE"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # Made by the automatic credit application (not chosen by the merchant): a void of the
    # invoice may reverse it.
    automatic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    transaction: Mapped[Transaction] = relationship(back_populates="applications")

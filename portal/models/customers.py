"""Customers and their contacts (ChargeOver `customer` and `user`)."""
from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db_types import DecimalText, UTCDateTime, utcnow
from portal.extensions import db


def new_token() -> str:
    """A random token (ChargeOver's 32-character customer token)."""
    return secrets.token_hex(16)


class Customer(db.Model):
    """A company billed by the merchant."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    company: Mapped[str] = mapped_column(String(255))
    external_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    bill_addr1: Mapped[str | None] = mapped_column(String(255))
    bill_addr2: Mapped[str | None] = mapped_column(String(255))
    bill_addr3: Mapped[str | None] = mapped_column(String(255))
    bill_city: Mapped[str | None] = mapped_column(String(120))
    bill_state: Mapped[str | None] = mapped_column(String(120))
    bill_postcode: Mapped[str | None] = mapped_column(String(40))
    bill_country: Mapped[str | None] = mapped_column(String(120))
    ship_addr1: Mapped[str | None] = mapped_column(String(255))
    ship_addr2: Mapped[str | None] = mapped_column(String(255))
    ship_addr3: Mapped[str | None] = mapped_column(String(255))
    ship_city: Mapped[str | None] = mapped_column(String(120))
    ship_state: Mapped[str | None] = mapped_column(String(120))
    ship_postcode: Mapped[str | None] = mapped_column(String(40))
    ship_country: Mapped[str | None] = mapped_column(String(120))
    parent_customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    # ChargeOver's customer token (findByToken): random, unique, never changes.
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    superuser_name: Mapped[str | None] = mapped_column(String(255))
    superuser_email: Mapped[str | None] = mapped_column(String(255))
    superuser_phone: Mapped[str | None] = mapped_column(String(60))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # None = the merchant's default tax rate / payment terms.
    tax_rate: Mapped[Decimal | None] = mapped_column(DecimalText())
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    custom_fields: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", order_by="Contact.id", cascade="all, delete-orphan"
    )


class Contact(UserMixin, db.Model):
    """A person of a customer; may log into the customer portal."""

    __tablename__ = "contacts"
    __table_args__ = (
        # One billing contact per customer: the single answer to "who receives invoices".
        Index("uq_contacts_billing", "customer_id", unique=True,
              postgresql_where=text("is_billing_contact"), sqlite_where=text("is_billing_contact")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    external_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    # ChargeOver's login name; the portal's login stays the e-mail address.
    username: Mapped[str | None] = mapped_column(String(255), unique=True)
    phone: Mapped[str | None] = mapped_column(String(60))
    is_billing_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="contacts")

    def get_id(self) -> str:
        """Flask-Login session id: prefixed because staff users log in too, versioned."""
        from portal.models.accounts import session_version

        return f"contact:{self.id}:{session_version(self.password_hash)}"

    @property
    def is_active(self) -> bool:
        """A contact can log in once a password was set (through an invitation)."""
        return self.password_hash is not None

    @property
    def name(self) -> str:
        """First and last name joined, or the email when both are empty."""
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return full or (self.email or "")

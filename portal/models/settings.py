"""Merchant-wide settings (one row) and named counters (invoice refnumbers)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from portal.db_types import DecimalText
from portal.extensions import db


class MerchantSettings(db.Model):
    """The merchant's identity, invoice design and defaults; always the row with id 1."""

    __tablename__ = "merchant_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("payment_terms_days >= 0", name="terms"),
        CheckConstraint("mail_rate_per_minute IS NULL OR mail_rate_per_minute > 0", name="mail_rate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    company_name: Mapped[str] = mapped_column(String(255), default="Meterbill Demo Merchant")
    address: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(60))
    default_currency: Mapped[str] = mapped_column(String(3), default="USD")
    default_tax_rate: Mapped[Decimal] = mapped_column(DecimalText(), default=Decimal(0))
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_mimetype: Mapped[str | None] = mapped_column(String(60))
    accent_colour: Mapped[str] = mapped_column(String(7), default="#2563eb")
    footer_text: Mapped[str | None] = mapped_column(Text)
    terms_text: Mapped[str | None] = mapped_column(Text)
    # A zero-total invoice (e.g. metered usage of nothing) is recorded; e-mailed only if set.
    email_zero_invoices: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # E-mails sent per minute at most (the mail server's limit); None: MAIL_RATE_PER_MINUTE.
    mail_rate_per_minute: Mapped[int | None] = mapped_column(Integer)


class Counter(db.Model):
    """A named gap-free sequence (e.g. invoice refnumbers), advanced under a row lock."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)

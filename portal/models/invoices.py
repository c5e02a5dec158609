"""Invoices, their lines, and the e-mail deliveries of invoices."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON, BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, LargeBinary,
    String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.billing.vocabulary import DeliveryStatus, DocType, InvoiceStatus
from portal.db_types import DecimalText, MicroUnits, UTCDateTime, utcnow
from portal.extensions import db
from portal.models.catalog import in_list

INVOICE_STATUSES = tuple(InvoiceStatus)
# "adjustment": late changes of a package whose final invoice is already issued.
INVOICE_KINDS = ("recurring", "final", "manual", "adjustment")
# A credit note is a document row of this table (its lines count as billed amounts, negative,
# in the reconciliation); it has its own refnumber sequence, shown as CN-0001.
DOC_TYPES = tuple(DocType)
LINE_KINDS = ("setup", "base", "quantity", "usage")
DELIVERY_STATUSES = tuple(DeliveryStatus)
DELIVERY_KINDS = ("invoice", "message")


def new_token() -> str:
    """A random token, as ChargeOver gives each invoice."""
    return secrets.token_hex(8)


class Invoice(db.Model):
    """An invoice; amounts are integers of the currency's minor unit."""

    __tablename__ = "invoices"
    __table_args__ = (
        # Exactly one invoice per (package, boundary): concurrent runs and retries collide here.
        UniqueConstraint("package_id", "boundary_at"),
        # Invoices and credit notes are numbered by separate gap-free sequences.
        UniqueConstraint("doc_type", "refnumber"),
        CheckConstraint(in_list("doc_type", DOC_TYPES), name="doc_type"),
        # A credit note's total is negative, and so is the part of its credit already applied.
        CheckConstraint("doc_type = 'invoice' OR total_minor < 0", name="credit_total"),
        CheckConstraint(in_list("status", INVOICE_STATUSES), name="status"),
        CheckConstraint(in_list("kind", INVOICE_KINDS), name="kind"),
        CheckConstraint("total_minor = subtotal_minor + taxes_minor", name="total"),
        CheckConstraint("(doc_type = 'invoice' AND paid_minor >= 0) OR "
                        "(doc_type = 'credit_note' AND paid_minor <= 0)", name="paid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(12), default="invoice", server_default="invoice")
    refnumber: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))
    kind: Mapped[str] = mapped_column(String(10), default="recurring")
    # The period boundary D the invoice is dated at (the cancel instant for a final invoice).
    boundary_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    currency: Mapped[str] = mapped_column(String(3))
    date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    terms_days: Mapped[int] = mapped_column(Integer, default=30)
    cycle_pre_from_date: Mapped[date | None] = mapped_column(Date)
    cycle_pre_to_date: Mapped[date | None] = mapped_column(Date)
    cycle_post_from_date: Mapped[date | None] = mapped_column(Date)
    cycle_post_to_date: Mapped[date | None] = mapped_column(Date)
    sum_base_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    sum_usage_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    taxes_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Invoice: payments and credits applied to it. Credit note: minus the credit applied to
    # invoices, so total_minor - paid_minor is what is still owed (negative: credit left).
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_rate: Mapped[Decimal] = mapped_column(DecimalText(), default=Decimal(0))
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.OPEN)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped to rotate the invoice's signed link: links of an earlier version stop working.
    link_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What the invoice shows besides its lines (seller, buyer, contact, terms, tax, design),
    # frozen at issue: see portal/services/invoice_snapshot.py.
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    # ChargeOver's unique token and the merchant's own key of the invoice.
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    external_key: Mapped[str | None] = mapped_column(String(255), unique=True)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position", cascade="all, delete-orphan"
    )

    @property
    def balance_minor(self) -> int:
        """What is still owed (0 for a void document; negative: a credit note's credit left)."""
        return 0 if self.status == InvoiceStatus.VOID else self.total_minor - self.paid_minor

    @property
    def is_credit_note(self) -> bool:
        """Whether this document is a credit note."""
        return self.doc_type == "credit_note"

    @property
    def number(self) -> str:
        """The printed number: the refnumber, or CN-0001 for a credit note."""
        return f"CN-{self.refnumber:04d}" if self.is_credit_note else str(self.refnumber)


class InvoiceLine(db.Model):
    """One charge: the (line item, period, kind) it settles and its rounded amount."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        CheckConstraint(in_list("kind", LINE_KINDS), name="kind"),
        # Serves "what was already billed for this line and period" in every billing run.
        Index("ix_invoice_lines_charge", "line_item_id", "period_start", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    line_item_id: Mapped[int | None] = mapped_column(ForeignKey("line_items.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    kind: Mapped[str] = mapped_column(String(10))
    is_adjustment: Mapped[bool] = mapped_column(Boolean, default=False)
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    descrip: Mapped[str] = mapped_column(Text, default="")
    line_rate: Mapped[Decimal | None] = mapped_column(DecimalText())
    line_quantity: Mapped[Decimal] = mapped_column(MicroUnits(), default=Decimal(0))
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Tier breakdown of a tiered usage charge, for the PDF: [{"tier", "quantity", "amount"}].
    tiers: Mapped[list] = mapped_column(JSON, default=list)
    # The price model the charge was computed with (`pricemodel_to_data`): a billed period
    # keeps the model of its first charge, whatever the catalog says later.
    pricing: Mapped[dict | None] = mapped_column(JSON)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceLogo(db.Model):
    """A logo as printed on issued invoices, stored once by content (snapshots name it)."""

    __tablename__ = "invoice_logos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mimetype: Mapped[str] = mapped_column(String(60))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class EmailDelivery(db.Model):
    """One e-mail to send; retried with backoff until sent or given up."""

    __tablename__ = "email_deliveries"
    __table_args__ = (
        CheckConstraint(in_list("status", DELIVERY_STATUSES), name="status"),
        CheckConstraint(in_list("kind", DELIVERY_KINDS), name="kind"),
        Index("ix_email_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "invoice": rendered from the invoice at send time, PDF attached; "message": the
    # stored bodies (invitations, password resets).
    kind: Mapped[str] = mapped_column(String(10), default="invoice", server_default="invoice")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    to_address: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Message-ID header, unique: a receiver can tell a resend of the same delivery.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

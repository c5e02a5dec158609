"""The codes Meterbill stores and speaks: one `StrEnum` per vocabulary.

Every status, paycycle, payment method and usage type is named here once; models build their
CHECK constraints from these, services and faces compare against the members instead of string
literals. Members are `str`, so a member equals its stored code (`InvoiceStatus.VOID ==
"closed-void"`) and reads back from the database as the plain code. The words shown for each
code live in the presentation module (`portal/presentation.py`), not here.

Names follow ChargeOver where it has them: `<state>-<status>` for invoices and packages, the
first letter being the state (`o` open, `c` closed, `a` active, `s` suspended, ...).
"""
from __future__ import annotations

from enum import StrEnum


class InvoiceStatus(StrEnum):
    """An invoice's (or a credit note's) status; credit notes share the column."""

    OPEN = "open-unpaid"
    PAID = "closed-paid"
    VOID = "closed-void"


class PackageStatus(StrEnum):
    """A package's status (ChargeOver's `package_status_str`)."""

    CURRENT = "active-current"
    TRIAL = "active-trial"
    OVERDUE = "active-overdue"
    SUSPENDED = "suspended-suspended"
    CANCELED = "canceled-manual"
    CANCELED_NONPAYMENT = "canceled-nonpayment"
    EXPIRED = "expired-expired"


# A package in one of these is running and billed as usual.
ACTIVE_PACKAGE_STATUSES = (PackageStatus.CURRENT, PackageStatus.TRIAL, PackageStatus.OVERDUE)


class DocType(StrEnum):
    """What an `invoices` row is: an invoice or a credit note."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class TransactionType(StrEnum):
    """A transaction: a payment, a refund or a credit (ChargeOver's `transaction_type`)."""

    PAYMENT = "pay"
    REFUND = "ref"
    CREDIT = "cre"


class PaymentMethod(StrEnum):
    """How a recorded payment was made (no card is ever charged by Meterbill): ours, then
    ChargeOver's `gateway_method` values of a payment received elsewhere."""

    CHECK = "check"
    ACH = "ach"
    CARD = "card"
    CASH = "cash"
    OTHER = "other"
    VISA = "visa"
    MASTERCARD = "mastercard"
    AMERICAN_EXPRESS = "american-express"
    DISCOVER = "discover"
    PAYPAL = "paypal"
    CREDIT = "credit"


class Paycycle(StrEnum):
    """How often a package (or an item's price) is billed; steps in `billing/periods.py`."""

    DAILY = "dly"
    WEEKLY = "1wk"
    BIWEEKLY = "2wk"
    FOUR_WEEKS = "4wk"
    MONTHLY = "mon"
    TWO_MONTHS = "2mn"
    QUARTERLY = "qtr"
    SIX_MONTHS = "six"
    YEARLY = "yrl"
    TWO_YEARS = "2yr"
    THREE_YEARS = "3yr"


class UsageType(StrEnum):
    """How a period's usage records become one quantity (`billing/aggregation.py`)."""

    SUM = "add"
    MAXIMUM = "max"
    LATEST = "lat"


class UsageSource(StrEnum):
    """The channel a usage record came through."""

    API = "api"
    BULK = "bulk"
    CSV = "csv"
    URL = "url"
    PORTAL = "portal"


class DeliveryStatus(StrEnum):
    """An e-mail delivery's status."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class ImportStatus(StrEnum):
    """A CSV import's status: checked (preview pass), then imported (confirm pass)."""

    UPLOADED = "uploaded"
    VALIDATED = "validated"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobStatus(StrEnum):
    """A background job's status."""

    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

"""Recording payments (no card processing) and applying payments and credit to invoices.

A payment may be split over several invoices; each application is at most the invoice's
balance. What is not applied stays on the customer as credit (it lowers the customer's
balance), like the credit of a credit note (its `cre` transaction). Credit never waits while
an invoice is open: `apply_customer_credit` applies it, oldest credit first to the oldest
open invoice, whenever an invoice is written, a credit note issued, a payment recorded or a
document voided; each application is a row (source transaction → invoice, amount, time).
An invoice whose applications reach its total becomes `closed-paid`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from portal.billing.errors import ValidationError
from portal.billing.money import exact_minor, from_minor, parse_money
from portal.billing.vocabulary import DocType, InvoiceStatus, PaymentMethod, TransactionType
from portal.extensions import db
from portal.services.events import record_event
from portal.models import Customer, Invoice, Transaction, TransactionApplication
from portal.models.transactions import PAYMENT_METHODS
from portal.services import balances


METHOD_ALIASES = {"crd": "card", "credit card": "card", "creditcard": "card", "chk": "check"}


def payment_method(raw: str | None) -> str:
    """ChargeOver's gateway_method/paymethod spellings, or ours, as one of PAYMENT_METHODS.

    :param raw: what the client sent (None = "other").
    """
    method = METHOD_ALIASES.get((raw or "other").strip().lower(), (raw or "other").strip().lower())
    if method not in PAYMENT_METHODS:
        raise ValidationError("method", f"must be one of {', '.join(PAYMENT_METHODS)}")
    return method


@dataclass(frozen=True)
class Application:
    """Apply `amount` (None = as much as the invoice's balance) to `invoice`."""

    invoice: Invoice
    amount: Decimal | None = None


def settle_invoice(invoice: Invoice) -> None:
    """Recompute paid amount and status from the invoice's applications."""
    paid = db.session.scalar(select(func.coalesce(func.sum(TransactionApplication.amount_minor), 0))
                             .where(TransactionApplication.invoice_id == invoice.id))
    invoice.paid_minor = int(paid)
    was_paid = invoice.status == InvoiceStatus.PAID
    if invoice.status != InvoiceStatus.VOID:
        invoice.status = InvoiceStatus.PAID if invoice.paid_minor >= invoice.total_minor else InvoiceStatus.OPEN
    if invoice.status == InvoiceStatus.PAID and not was_paid:
        record_event(db.session, context="invoice", context_id=invoice.id, event="paid")


def settle_credit_note(credit_note: Invoice) -> None:
    """A credit note's applied credit (as minus paid_minor) and status: closed when used up."""
    applied = db.session.scalar(
        select(func.coalesce(func.sum(TransactionApplication.amount_minor), 0))
        .join(Transaction, Transaction.id == TransactionApplication.transaction_id)
        .where(Transaction.credit_note_id == credit_note.id))
    credit_note.paid_minor = -int(applied)
    if credit_note.status != InvoiceStatus.VOID:
        used_up = credit_note.paid_minor <= credit_note.total_minor
        credit_note.status = InvoiceStatus.PAID if used_up else InvoiceStatus.OPEN


def _applied_by_transaction(customer_id: int) -> dict[int, int]:
    rows = db.session.execute(
        select(TransactionApplication.transaction_id, func.sum(TransactionApplication.amount_minor))
        .join(Transaction, Transaction.id == TransactionApplication.transaction_id)
        .where(Transaction.customer_id == customer_id).group_by(TransactionApplication.transaction_id))
    return {transaction_id: int(total) for transaction_id, total in rows}


def _refunded_by_source(customer_id: int) -> tuple[dict[int, int], int]:
    """Refunds of the customer: minor units per refunded transaction, and the total of
    refunds that name no transaction (they pay back the oldest credit)."""
    rows = db.session.execute(
        select(Transaction.refund_of_id, func.sum(Transaction.amount_minor))
        .where(Transaction.customer_id == customer_id, Transaction.transaction_type == TransactionType.REFUND,
               Transaction.voided_at.is_(None)).group_by(Transaction.refund_of_id))
    named = {source_id: int(total) for source_id, total in rows}
    return named, named.pop(None, 0)


def available_credit(customer_id: int) -> list[tuple[Transaction, int]]:
    """(payment or credit-note transaction, unapplied minor units), oldest first; money
    refunded from a transaction is not available.

    :param customer_id: the customer.
    """
    return [(source, left) for source, left, _ in credit_allocation(customer_id) if left > 0]


def credit_allocation(customer_id: int) -> list[tuple[Transaction, int, int]]:
    """(source, credit left, taken by refunds that name no transaction) per payment or
    credit memo, oldest first: such refunds pay back the oldest credit first.

    :param customer_id: the customer.
    """
    applied = _applied_by_transaction(customer_id)
    refunded, unnamed = _refunded_by_source(customer_id)
    sources = db.session.scalars(
        select(Transaction).where(Transaction.customer_id == customer_id,
                                  Transaction.transaction_type.in_((TransactionType.PAYMENT, TransactionType.CREDIT)),
                                  Transaction.voided_at.is_(None))
        .order_by(Transaction.transaction_date, Transaction.id))
    result = []
    for source in sources:
        left = source.amount_minor - applied.get(source.id, 0) - refunded.get(source.id, 0)
        taken = min(max(left, 0), unnamed)
        unnamed -= taken
        result.append((source, left - taken, taken))
    return result


def customer_credit_minor(customer_id: int) -> int:
    """The customer's credit not applied yet (unapplied payments and credit notes)."""
    return sum(amount for _, amount in available_credit(customer_id))


def _add_application(source: Transaction, invoice: Invoice, amount: int) -> None:
    """Apply `amount` more of `source` to `invoice` (one row per pair, as the key wants)."""
    existing = db.session.scalar(select(TransactionApplication).where(
        TransactionApplication.transaction_id == source.id,
        TransactionApplication.invoice_id == invoice.id))
    if existing is not None:
        existing.amount_minor += amount
    else:
        db.session.add(TransactionApplication(transaction_id=source.id, invoice_id=invoice.id,
                                              amount_minor=amount, automatic=True))


def _lock_customer(customer_id: int) -> None:
    """Serialise credit application per customer: two runs billing two packages of one
    customer at once must not both spend the same credit (SQLite has a single writer)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


def apply_customer_credit(customer_id: int) -> int:
    """Apply the customer's available credit to their open invoices; flushes.

    Oldest credit first (by date, then id) to the oldest open invoice (by date, then
    refnumber), each application at most the invoice's balance.
    :param customer_id: the customer.
    :returns: the minor units applied.
    """
    _lock_customer(customer_id)
    sources = available_credit(customer_id)
    if not sources:
        return 0
    invoices = list(db.session.scalars(
        select(Invoice).where(Invoice.customer_id == customer_id, Invoice.doc_type == DocType.INVOICE,
                              Invoice.status == InvoiceStatus.OPEN)
        .order_by(Invoice.date, Invoice.refnumber)))
    total, touched = 0, set()
    for invoice in invoices:
        balance = invoice.total_minor - invoice.paid_minor
        while balance > 0 and sources:
            source, left = sources[0]
            amount = min(balance, left)
            _add_application(source, invoice, amount)
            balance, total = balance - amount, total + amount
            touched.add(source.credit_note_id)
            sources[0] = (source, left - amount)
            if left == amount:
                sources.pop(0)
        if total:
            db.session.flush()
            settle_invoice(invoice)
    _settle_credit_notes(touched)
    db.session.flush()
    return total


def apply_credit_to_invoice(invoice: Invoice, limit_minor: int | None = None) -> int:
    """Apply the customer's available credit to this one invoice (ChargeOver's `pay` with
    the customer's balance), oldest credit first; flushes.

    :param invoice: an open invoice.
    :param limit_minor: apply at most this much (None: up to the invoice's balance).
    :returns: the minor units applied (0 when the customer has no credit).
    """
    if invoice.status != InvoiceStatus.OPEN or invoice.doc_type != DocType.INVOICE:
        raise ValidationError("invoice_id", f"invoice {invoice.id} is {invoice.status}, not open")
    _lock_customer(invoice.customer_id)
    db.session.refresh(invoice)
    wanted = invoice.total_minor - invoice.paid_minor
    wanted = wanted if limit_minor is None else min(wanted, limit_minor)
    total, touched = 0, set()
    for source, left in available_credit(invoice.customer_id):
        if total >= wanted:
            break
        amount = min(left, wanted - total)
        _add_application(source, invoice, amount)
        total += amount
        touched.add(source.credit_note_id)
    db.session.flush()
    settle_invoice(invoice)
    _settle_credit_notes(touched)
    db.session.flush()
    return total


def _settle_credit_notes(ids) -> None:
    for credit_note_id in ids:
        if credit_note_id is not None:
            settle_credit_note(db.session.get(Invoice, credit_note_id))


def reverse_applications(applications: list[TransactionApplication]) -> None:
    """Undo applications (a void): their invoices and credit notes are settled again."""
    invoice_ids = {a.invoice_id for a in applications}
    credit_note_ids = {a.transaction.credit_note_id for a in applications}
    for application in applications:
        db.session.delete(application)
    db.session.flush()
    for invoice_id in invoice_ids:
        settle_invoice(db.session.get(Invoice, invoice_id))
    _settle_credit_notes(credit_note_ids)
    db.session.flush()


def _apply(payment: Transaction, application: Application, remaining: int, index: int) -> int:
    """Apply part of `payment` to one invoice; returns the minor units applied."""
    invoice = application.invoice
    field = f"applied_to[{index}]"
    if invoice.customer_id != payment.customer_id:
        raise ValidationError(field, f"invoice {invoice.id} belongs to another customer")
    if invoice.status == InvoiceStatus.VOID:
        raise ValidationError(field, f"invoice {invoice.id} is void")
    if invoice.doc_type != DocType.INVOICE:
        raise ValidationError(field, f"{invoice.id} is a credit note, not an invoice")
    balance = invoice.total_minor - invoice.paid_minor
    wanted = (balance if application.amount is None else
              exact_minor(parse_money(application.amount, f"{field}.amount"), payment.currency, f"{field}.amount"))
    if wanted > balance:
        raise ValidationError(f"{field}.amount", f"is more than invoice {invoice.id}'s balance")
    amount = min(wanted, remaining)
    if amount > 0:
        payment.applications.append(TransactionApplication(invoice_id=invoice.id, amount_minor=amount))
    return amount


def record_payment(customer: Customer, *, amount, paid_on: date, method: str = PaymentMethod.OTHER,
                   reference: str | None = None,
                   applications: list[Application] | None = None) -> Transaction:
    """Record a payment of `customer` and apply it to invoices; flushes.

    :param customer: who paid.
    :param amount: the amount received (exact decimal, > 0, in the customer's currency).
    :param paid_on: the payment's date.
    :param method: check, ach, card, cash or other.
    :param reference: check number, bank reference, ...
    :param applications: invoices to apply it to, in order; None = applied automatically
        (oldest open invoice first). What is left is credit for the next invoices.
    """
    value = parse_money(amount, "amount")
    if value <= 0:
        raise ValidationError("amount", "must be more than 0")
    amount_minor = exact_minor(value, customer.currency, "amount")  # checked before any lock
    if method not in PAYMENT_METHODS:
        raise ValidationError("method", f"must be one of {', '.join(PAYMENT_METHODS)}")
    _lock_customer(customer.id)  # a run applying credit to these invoices finishes first
    for application in applications or []:
        db.session.refresh(application.invoice)  # their balances as of the lock
    payment = Transaction(customer_id=customer.id, transaction_type=TransactionType.PAYMENT, currency=customer.currency,
                          amount_minor=amount_minor, transaction_date=paid_on,
                          method=method, reference=reference)
    db.session.add(payment)
    remaining = payment.amount_minor
    for index, application in enumerate(applications or []):
        remaining -= _apply(payment, application, remaining, index)
    db.session.flush()
    for application in applications or []:
        settle_invoice(application.invoice)
    db.session.flush()
    if applications is None or remaining > 0:
        apply_customer_credit(customer.id)
    record_event(db.session, context="transaction", context_id=payment.id, event="insert")
    return payment


def pay_invoice(invoice: Invoice, *, paid_on: date, method: str = PaymentMethod.OTHER,
                amount=None, reference: str | None = None) -> Transaction:
    """Record a payment of one invoice: its whole balance unless `amount` is given.

    :param invoice: an open invoice.
    :param amount: a partial amount, or None for the balance.
    """
    if invoice.status != InvoiceStatus.OPEN or invoice.doc_type != DocType.INVOICE:
        raise ValidationError("invoice_id", f"invoice {invoice.id} is {invoice.status}, not open")
    value = (parse_money(amount, "amount") if amount is not None
             else from_minor(invoice.balance_minor, invoice.currency))
    customer = db.session.get(Customer, invoice.customer_id)
    return record_payment(customer, amount=value, paid_on=paid_on, method=method,
                          reference=reference, applications=[Application(invoice, value)])


def customer_balance_minor(customer: Customer) -> int:
    """What the customer owes (negative: credit it has); see services/balances.py."""
    return balances.customer_balance_minor(customer)

"""What happens to a recorded transaction afterwards: refunds, voids and moving its
applications between invoices (ChargeOver's `refund`, `void`, `changeAppliedAmounts`).

A refund (`ref`) records money paid back to the customer outside Meterbill. It pays back
unapplied credit: a refund of a named payment or credit memo first takes what of it is not
applied, then takes back its applications, newest first (those invoices are open again);
a refund that names no transaction pays back the customer's oldest credit. Refunds never
exceed what is there to refund.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from portal.billing.errors import ValidationError
from portal.billing.vocabulary import DocType, InvoiceStatus, TransactionType
from portal.billing.money import exact_minor, parse_money
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Customer, Invoice, Transaction, TransactionApplication
from portal.services.invoices import void_invoice
from portal.services.payments import (
    _lock_customer, apply_customer_credit, available_credit, credit_allocation,
    reverse_applications, settle_credit_note, settle_invoice,
)


def refunded_minor(source: Transaction) -> int:
    """Minor units refunded from `source` by refunds that are not void."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Transaction.amount_minor), 0))
        .where(Transaction.refund_of_id == source.id, Transaction.voided_at.is_(None))))


def paid_back_minor(source: Transaction) -> int:
    """Minor units of `source` paid back: its own refunds, and the part of its credit that
    refunds naming no transaction took (they pay back the oldest credit first)."""
    taken = next((t for s, _, t in credit_allocation(source.customer_id) if s.id == source.id), 0)
    return refunded_minor(source) + taken


def _applied(source: Transaction) -> int:
    return sum(a.amount_minor for a in source.applications)


def _minor(amount, currency: str, field: str) -> int:
    value = exact_minor(parse_money(amount, field), currency, field)
    if value <= 0:
        raise ValidationError(field, "must be more than 0")
    return value


def _take_back(source: Transaction, amount: int) -> None:
    """Lower the applications of `source` by `amount` in all, newest first."""
    touched = set()
    for application in sorted(source.applications, key=lambda a: (a.created_at, a.id), reverse=True):
        if amount <= 0:
            break
        part = min(amount, application.amount_minor)
        amount -= part
        touched.add(application.invoice_id)
        if part == application.amount_minor:
            db.session.delete(application)
        else:
            application.amount_minor -= part
    db.session.flush()
    db.session.expire(source, ["applications"])
    for invoice_id in touched:
        settle_invoice(db.session.get(Invoice, invoice_id))


def refund_transaction(source: Transaction, *, amount=None, refunded_on: date,
                       method: str | None = None, reference: str | None = None) -> Transaction:
    """Refund (part of) a payment or credit memo; flushes.

    :param source: a `pay` or `cre` transaction that is not void.
    :param amount: how much (None: all that is not refunded yet).
    :returns: the new `ref` transaction.
    """
    if source.transaction_type not in (TransactionType.PAYMENT, TransactionType.CREDIT) or source.voided_at is not None:
        raise ValidationError("transaction_id", f"transaction {source.id} cannot be refunded "
                              f"({source.transaction_type}{', void' if source.voided_at else ''})")
    _lock_customer(source.customer_id)
    refundable = source.amount_minor - paid_back_minor(source)
    wanted = refundable if amount is None else _minor(amount, source.currency, "amount")
    if wanted <= 0 or wanted > refundable:
        raise ValidationError("amount", f"at most {refundable} minor units of transaction "
                              f"{source.id} can be refunded")
    unapplied = refundable - _applied(source)
    if wanted > unapplied:
        _take_back(source, wanted - unapplied)
    refund = Transaction(customer_id=source.customer_id, transaction_type=TransactionType.REFUND,
                         currency=source.currency, amount_minor=wanted, transaction_date=refunded_on,
                         method=method or source.method, reference=reference, refund_of_id=source.id)
    db.session.add(refund)
    db.session.flush()
    if source.credit_note_id is not None:
        settle_credit_note(db.session.get(Invoice, source.credit_note_id))
    apply_customer_credit(source.customer_id)  # reopened invoices take other credit
    return refund


def record_refund(customer: Customer, *, amount, refunded_on: date, method: str = "other",
                  reference: str | None = None) -> Transaction:
    """Record money paid back from the customer's credit (oldest credit first); flushes.

    :param amount: at most the customer's unapplied credit.
    """
    _lock_customer(customer.id)
    wanted = _minor(amount, customer.currency, "amount")
    credit = sum(left for _, left in available_credit(customer.id))
    if wanted > credit:
        raise ValidationError("amount", f"is more than the customer's unapplied credit "
                              f"({credit} minor units); a refund pays back credit only")
    refund = Transaction(customer_id=customer.id, transaction_type=TransactionType.REFUND, currency=customer.currency,
                         amount_minor=wanted, transaction_date=refunded_on, method=method,
                         reference=reference)
    db.session.add(refund)
    db.session.flush()
    return refund


def void_transaction(transaction: Transaction) -> Transaction:
    """Void a payment, refund or credit memo; flushes.

    A payment's applications are reversed (its invoices are open again); a payment with
    refunds is refused (void the refunds first); a voided refund returns its money to the
    customer's credit; a credit memo voids its credit note.
    """
    if transaction.voided_at is not None:
        raise ValidationError("transaction_id", f"transaction {transaction.id} is already void")
    if transaction.transaction_type != TransactionType.REFUND and paid_back_minor(transaction):
        raise ValidationError("transaction_id", f"transaction {transaction.id} has refunds "
                              "(its own, or of the customer's credit it holds); void them first")
    if transaction.credit_note_id is not None:  # its credit note's charges are released too
        void_invoice(db.session.get(Invoice, transaction.credit_note_id))
        return transaction
    reverse_applications(list(transaction.applications))
    transaction.voided_at = utcnow()
    db.session.flush()
    apply_customer_credit(transaction.customer_id)
    return transaction


@dataclass(frozen=True)
class AppliedAmount:
    """Apply exactly `amount` (0 removes the application) of a transaction to `invoice`."""

    invoice: Invoice
    amount: object


def change_applied_amounts(transaction: Transaction, changes: list[AppliedAmount]) -> Transaction:
    """Set how much of a payment or credit memo is applied to each named invoice; the
    invoices not named keep their applications. Everything is checked before anything
    changes. Flushes.

    Each amount is at most the invoice's balance plus what the transaction already applied
    to it, and all applications together at most the transaction's unrefunded amount.
    Credit freed here is not applied elsewhere automatically by this change.
    """
    applicable = (TransactionType.PAYMENT, TransactionType.CREDIT)
    if transaction.transaction_type not in applicable or transaction.voided_at is not None:
        raise ValidationError("transaction_id", f"transaction {transaction.id} cannot be applied")
    _lock_customer(transaction.customer_id)
    current = {a.invoice_id: a for a in transaction.applications}
    wanted = {a.invoice_id: a.amount_minor for a in current.values()}
    for index, change in enumerate(changes):
        wanted[change.invoice.id] = _checked_amount(transaction, current, change, f"applied_to[{index}]")
    if sum(wanted.values()) > transaction.amount_minor - paid_back_minor(transaction):
        raise ValidationError("applied_to", f"applies more than transaction {transaction.id}'s amount")
    for invoice_id, amount in wanted.items():
        existing = current.get(invoice_id)
        if existing is not None and amount == 0:
            db.session.delete(existing)
        elif existing is not None and existing.amount_minor != amount:
            existing.amount_minor, existing.automatic = amount, False
        elif existing is None and amount:
            db.session.add(TransactionApplication(transaction_id=transaction.id, invoice_id=invoice_id,
                                                  amount_minor=amount, automatic=False))
    db.session.flush()
    db.session.expire(transaction, ["applications"])
    for invoice_id in {change.invoice.id for change in changes}:
        settle_invoice(db.session.get(Invoice, invoice_id))
    if transaction.credit_note_id is not None:
        settle_credit_note(db.session.get(Invoice, transaction.credit_note_id))
    db.session.flush()
    return transaction


def _checked_amount(transaction: Transaction, current: dict, change: AppliedAmount, field: str) -> int:
    """The minor units `change` asks for, checked against its invoice."""
    invoice = change.invoice
    if invoice.customer_id != transaction.customer_id:
        raise ValidationError(f"{field}.invoice_id", f"invoice {invoice.id} belongs to another customer")
    if invoice.doc_type != DocType.INVOICE or invoice.status == InvoiceStatus.VOID:
        raise ValidationError(f"{field}.invoice_id", f"invoice {invoice.id} is not an open invoice")
    amount = exact_minor(parse_money(change.amount, f"{field}.applied"), transaction.currency,
                         f"{field}.applied")
    if amount < 0:
        raise ValidationError(f"{field}.applied", "must not be negative")
    existing = current.get(invoice.id)
    already = existing.amount_minor if existing is not None else 0
    if amount > invoice.total_minor - invoice.paid_minor + already:
        raise ValidationError(f"{field}.applied", f"is more than invoice {invoice.id}'s balance")
    return amount


def pay_from_credit(customer: Customer, invoices: list[Invoice], amount_minor: int | None) -> int:
    """Pay invoices from the customer's unapplied credit only (Meterbill charges no stored
    payment method); all or nothing. Flushes.

    :param invoices: the invoices to pay, in order (empty: the open ones, oldest first).
    :param amount_minor: how much (None: their balances).
    :returns: the minor units applied.
    """
    from portal.services.payments import apply_credit_to_invoice

    _lock_customer(customer.id)
    targets = invoices or list(db.session.scalars(
        select(Invoice).where(Invoice.customer_id == customer.id, Invoice.doc_type == DocType.INVOICE,
                              Invoice.status == InvoiceStatus.OPEN).order_by(Invoice.date, Invoice.refnumber)))
    wanted = amount_minor if amount_minor is not None else sum(i.balance_minor for i in targets)
    credit = sum(left for _, left in available_credit(customer.id))
    if wanted <= 0:
        raise ValidationError("amount", "nothing to pay: the invoices have no balance")
    if wanted > credit:
        raise ValidationError("amount", f"Meterbill charges no stored payment method, and the "
                              f"customer's unapplied credit ({credit} minor units) does not cover "
                              f"{wanted}; record a payment received as a transaction (type pay)")
    remaining = wanted
    for invoice in targets:
        if remaining <= 0:
            break
        remaining -= apply_credit_to_invoice(invoice, remaining)
    return wanted - remaining


def email_receipt(transaction: Transaction, to_address: str | None = None):
    """Queue a receipt of the transaction to the customer's billing contact (or
    `to_address`); flushes."""
    from portal.billing.money import from_minor
    from portal.services.customers import billing_email
    from portal.services.mail import queue_message
    from portal.services.settings import ensure_settings

    customer = db.session.get(Customer, transaction.customer_id)
    address = to_address or billing_email(customer)
    if not address:
        raise ValidationError("email", f"customer {customer.id} has no billing e-mail address")
    kind = {"pay": "Payment", "ref": "Refund", "cre": "Credit"}[transaction.transaction_type]
    amount = f"{from_minor(transaction.amount_minor, transaction.currency)} {transaction.currency}"
    applied = "".join(f"\n  invoice {a.invoice_id}: "
                      f"{from_minor(a.amount_minor, transaction.currency)} {transaction.currency}"
                      for a in transaction.applications)
    company = ensure_settings().company_name
    text = (f"{kind} receipt from {company}\n\n{kind} #{transaction.id} of {transaction.transaction_date}: "
            f"{amount}" + (f"\nApplied to:{applied}" if applied else "") + "\n")
    return queue_message(address, f"{kind} receipt #{transaction.id} from {company}", text)

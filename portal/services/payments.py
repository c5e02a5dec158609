"""Recording payments (no card processing) and applying them to invoices.

A payment may be split over several invoices; each application is at most the invoice's
balance. What is not applied stays on the customer as credit (it lowers the customer's
balance). An invoice whose payments reach its total becomes `closed-paid`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from portal.billing.errors import ValidationError
from portal.billing.money import from_minor, parse_money, to_minor
from portal.extensions import db
from portal.models import Customer, Invoice, Transaction, TransactionApplication
from portal.models.transactions import PAYMENT_METHODS


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


def _settle(invoice: Invoice) -> None:
    """Recompute paid amount and status from the invoice's applications."""
    paid = db.session.scalar(select(func.coalesce(func.sum(TransactionApplication.amount_minor), 0))
                             .where(TransactionApplication.invoice_id == invoice.id))
    invoice.paid_minor = int(paid)
    if invoice.status != "void-void":
        invoice.status = "closed-paid" if invoice.paid_minor >= invoice.total_minor else "open-unpaid"


def _apply(payment: Transaction, application: Application, remaining: int, index: int) -> int:
    """Apply part of `payment` to one invoice; returns the minor units applied."""
    invoice = application.invoice
    field = f"applied_to[{index}]"
    if invoice.customer_id != payment.customer_id:
        raise ValidationError(field, f"invoice {invoice.id} belongs to another customer")
    if invoice.status == "void-void":
        raise ValidationError(field, f"invoice {invoice.id} is void")
    balance = invoice.total_minor - invoice.paid_minor
    wanted = (balance if application.amount is None else
              to_minor(parse_money(application.amount, f"{field}.amount"), payment.currency))
    if wanted > balance:
        raise ValidationError(f"{field}.amount", f"is more than invoice {invoice.id}'s balance")
    amount = min(wanted, remaining)
    if amount > 0:
        payment.applications.append(TransactionApplication(invoice_id=invoice.id, amount_minor=amount))
    return amount


def record_payment(customer: Customer, *, amount, paid_on: date, method: str = "other",
                   reference: str | None = None,
                   applications: list[Application] | None = None) -> Transaction:
    """Record a payment of `customer` and apply it to invoices; flushes.

    :param customer: who paid.
    :param amount: the amount received (exact decimal, > 0, in the customer's currency).
    :param paid_on: the payment's date.
    :param method: check, ach, card, cash or other.
    :param reference: check number, bank reference, ...
    :param applications: invoices to apply it to, in order; None = no application (credit).
    """
    value = parse_money(amount, "amount")
    if value <= 0:
        raise ValidationError("amount", "must be more than 0")
    if method not in PAYMENT_METHODS:
        raise ValidationError("method", f"must be one of {', '.join(PAYMENT_METHODS)}")
    payment = Transaction(customer_id=customer.id, transaction_type="pay", currency=customer.currency,
                          amount_minor=to_minor(value, customer.currency), transaction_date=paid_on,
                          method=method, reference=reference)
    db.session.add(payment)
    remaining = payment.amount_minor
    for index, application in enumerate(applications or []):
        remaining -= _apply(payment, application, remaining, index)
    db.session.flush()
    for application in applications or []:
        _settle(application.invoice)
    db.session.flush()
    return payment


def pay_invoice(invoice: Invoice, *, paid_on: date, method: str = "other",
                amount=None, reference: str | None = None) -> Transaction:
    """Record a payment of one invoice: its whole balance unless `amount` is given.

    :param invoice: an open invoice.
    :param amount: a partial amount, or None for the balance.
    """
    if invoice.status != "open-unpaid":
        raise ValidationError("invoice_id", f"invoice {invoice.id} is {invoice.status}, not open")
    value = (parse_money(amount, "amount") if amount is not None
             else from_minor(invoice.balance_minor, invoice.currency))
    customer = db.session.get(Customer, invoice.customer_id)
    return record_payment(customer, amount=value, paid_on=paid_on, method=method,
                          reference=reference, applications=[Application(invoice, value)])


def customer_balance_minor(customer: Customer) -> int:
    """What the customer owes: open invoice balances minus unapplied payments."""
    invoiced = db.session.scalar(select(func.coalesce(func.sum(Invoice.total_minor), 0))
                                 .where(Invoice.customer_id == customer.id, Invoice.status != "void-void"))
    paid = db.session.scalar(select(func.coalesce(func.sum(Transaction.amount_minor), 0))
                             .where(Transaction.customer_id == customer.id, Transaction.transaction_type == "pay"))
    return int(invoiced) - int(paid)

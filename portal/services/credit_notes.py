"""Credit notes: what a negative reconciliation issues instead of a negative invoice.

A credit note is a document row of the invoices table (`doc_type = "credit_note"`), so its
lines count, negative, among the charges already billed and the next run never bills the
credit again. It is numbered by its own gap-free sequence (CN-0001, ...), and its money side
is a `cre` transaction (ChargeOver's credit memo) whose applications to invoices are rows
like a payment's. Voiding a credit note reverses its applications (the invoices it paid
are open again), voids its transaction and releases its lines for the next run.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.billing.vocabulary import DocType, InvoiceStatus, PaymentMethod, TransactionType
from portal.db_types import utcnow
from portal.extensions import db
from portal.billing.errors import ValidationError
from portal.billing.money import from_minor
from portal.models import Customer, Invoice, InvoiceLine, Transaction, TransactionApplication
from portal.presentation.formatting import format_money
from portal.presentation.labels import CREDIT_NOTE_STATUS_LABELS
from portal.services import merchant_tz
from portal.services.counters import next_number
from portal.services.invoice_snapshot import snapshot_invoice
from portal.services.invoice_view import invoice_context
from portal.services.payments import (
    apply_customer_credit, reverse_applications, settle_credit_note, settle_invoice,
)
from portal.services.events import record_event

CREDIT_NOTE_SEQUENCE = "credit_note_number"


def issue_credit_note(document: Invoice, apply_to: Invoice | None = None) -> Invoice:
    """Make the written, negative `document` a credit note and apply its credit; flushes.

    :param document: a document with its lines and a negative total, not numbered yet.
    :param apply_to: an open invoice that gets the credit first (up to its balance); what
        is left goes to the customer's open invoices, oldest first.
    """
    document.doc_type = DocType.CREDIT_NOTE
    document.refnumber = next_number(CREDIT_NOTE_SEQUENCE)
    document.due_date = document.date  # nothing is due on a credit note
    db.session.add(document)
    db.session.flush()
    memo = Transaction(
        customer_id=document.customer_id, transaction_type=TransactionType.CREDIT, currency=document.currency,
        amount_minor=-document.total_minor, transaction_date=document.date, method=PaymentMethod.OTHER,
        reference=document.number, credit_note_id=document.id)
    db.session.add(memo)
    db.session.flush()
    if apply_to is not None and apply_to.balance_minor > 0:
        memo.applications.append(TransactionApplication(
            invoice_id=apply_to.id, amount_minor=min(apply_to.balance_minor, memo.amount_minor)))
        db.session.flush()
        settle_invoice(apply_to)
    apply_customer_credit(document.customer_id)
    settle_credit_note(document)
    db.session.flush()
    record_event(db.session, context="creditnote", context_id=document.id, event="insert")
    return document


def issue_manual_credit(customer: Customer, amount_minor: int, *, descrip: str, on: date,
                        apply_to: Invoice | None = None) -> Invoice:
    """A credit memo of `customer` for `amount_minor` (a credit note with one line, no
    package period), applied to `apply_to` first; flushes.

    :param on: the credit note's date.
    """
    if amount_minor <= 0:
        raise ValidationError("amount", "must be more than 0")
    document = Invoice(customer_id=customer.id, kind="manual", currency=customer.currency, date=on,
                       due_date=on, terms_days=0, status=InvoiceStatus.OPEN, tax_rate=0,
                       sum_base_minor=-amount_minor, sum_usage_minor=0, subtotal_minor=-amount_minor,
                       taxes_minor=0, total_minor=-amount_minor)
    document.lines = [InvoiceLine(position=0, kind="quantity", descrip=descrip,
                                  line_rate=-from_minor(amount_minor, customer.currency),
                                  line_quantity=1, amount_minor=-amount_minor)]
    snapshot_invoice(document, customer)
    return issue_credit_note(document, apply_to=apply_to)


def credit_note_transaction(credit_note: Invoice) -> Transaction | None:
    """The `cre` transaction carrying the credit note's credit."""
    return db.session.scalar(select(Transaction).where(Transaction.credit_note_id == credit_note.id))


def void_credit_note(credit_note: Invoice) -> Invoice:
    """Void a credit note: reverse its applications, void its credit, release its lines.

    :param credit_note: a credit note that is not void.
    """
    transaction = credit_note_transaction(credit_note)
    now = utcnow()
    if transaction is not None:
        reverse_applications(list(transaction.applications))
        transaction.voided_at = now
    credit_note.status, credit_note.voided_at = InvoiceStatus.VOID, now
    credit_note.paid_minor = 0
    db.session.flush()
    record_event(db.session, context="creditnote", context_id=credit_note.id, event="voided")
    return credit_note


def credit_applications(credit_note: Invoice) -> list[tuple[TransactionApplication, Invoice]]:
    """Where the credit note's credit went: (application, invoice), oldest first."""
    return list(db.session.execute(
        select(TransactionApplication, Invoice)
        .join(Transaction, Transaction.id == TransactionApplication.transaction_id)
        .join(Invoice, Invoice.id == TransactionApplication.invoice_id)
        .where(Transaction.credit_note_id == credit_note.id)
        .order_by(TransactionApplication.created_at, TransactionApplication.id)).tuples())


def customer_credit_notes(customer_id: int) -> list[Invoice]:
    """The customer's credit notes, newest first."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.customer_id == customer_id, Invoice.doc_type == DocType.CREDIT_NOTE)
        .order_by(Invoice.date.desc(), Invoice.refnumber.desc())))


def all_credit_notes(limit: int = 200) -> list[Invoice]:
    """The latest credit notes of every customer, newest first."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.doc_type == DocType.CREDIT_NOTE)
        .order_by(Invoice.date.desc(), Invoice.refnumber.desc()).limit(limit)))


def customer_companies(credit_notes: list[Invoice]) -> dict[int, str]:
    """Company names of the customers of these credit notes, by customer id."""
    ids = {note.customer_id for note in credit_notes}
    if not ids:
        return {}
    return dict(db.session.execute(select(Customer.id, Customer.company).where(Customer.id.in_(ids))).all())


def _period_text(line) -> str:
    """The local dates of the period a credit note line adjusts ("2015-10-01 – 2015-10-31")."""
    if line.period_start is None:
        return ""
    tz = merchant_tz()
    first: date = line.period_start.astimezone(tz).date()
    if line.period_end is None:
        return first.isoformat()
    last = (line.period_end.astimezone(tz) - timedelta(microseconds=1)).date()
    return f"{first.isoformat()} – {last.isoformat()}"


def credit_note_context(credit_note: Invoice) -> dict:
    """Template context of a credit note: the invoice context, plus the credit's figures,
    each line's adjusted period and where the credit was applied."""
    context = invoice_context(credit_note)
    c = credit_note.currency
    credit = -credit_note.total_minor
    applied = -credit_note.paid_minor
    context.update(
        credit_note=credit_note, status_label=CREDIT_NOTE_STATUS_LABELS[credit_note.status],
        line_periods=[_period_text(line) for line in credit_note.lines],
        credit=format_money(credit, c), applied=format_money(applied, c),
        credit_left=format_money(credit_note.balance_minor * -1, c),
        applications=[(format_money(a.amount_minor, c), invoice, a.created_at)
                      for a, invoice in credit_applications(credit_note)],
    )
    return context

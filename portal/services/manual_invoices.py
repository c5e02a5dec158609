"""One-off invoices (kind `manual`): written with their own lines (an item or free text, a
quantity and a rate), changed while unpaid, deleted while nobody can have seen them, and
credited with a credit memo.

A one-off invoice bills no package line, so the billing runs' reconciliation never counts
its lines. It is numbered from the same gap-free sequence as every invoice; it is issued
(`open-unpaid`) when written — there is no draft state — and the customer's available
credit is applied to it like to any invoice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, or_, select, update

from portal.billing.errors import ValidationError
from portal.billing.vocabulary import DeliveryStatus, DocType, InvoiceStatus
from portal.billing.invoicing import due_date as compute_due_date
from portal.billing.money import from_minor, quantize_money, to_minor
from portal.extensions import db
from portal.models import (
    Counter, Customer, EmailDelivery, Invoice, InvoiceLine, Item, TransactionApplication,
)
from portal.services.billing_context import RunContext
from portal.services.counters import next_number
from portal.services.invoice_snapshot import snapshot_invoice
from portal.services.invoices import REFNUMBER_SEQUENCE
from portal.services.payments import apply_customer_credit, reverse_applications

BILL_FIELDS = ("bill_addr1", "bill_addr2", "bill_addr3", "bill_city", "bill_state",
               "bill_postcode", "bill_country")
SHIP_FIELDS = ("ship_addr1", "ship_addr2", "ship_addr3", "ship_city", "ship_state",
               "ship_postcode", "ship_country")
EXTRA_FIELDS = ("memo", "bill_notes", "ship_notes", "custom_1", "custom_2", "custom_3",
                "custom_4", "custom_5")


@dataclass(frozen=True)
class ManualLine:
    """One line of a one-off invoice; `keep` names an existing line kept as it is."""

    item: Item | None = None
    descrip: str | None = None
    rate: Decimal = Decimal(0)
    quantity: Decimal = Decimal(1)
    keep: InvoiceLine | None = None


@dataclass(frozen=True)
class InvoiceDetails:
    """What an invoice shows besides its lines (None: not given, left as it is)."""

    external_key: str | None = None
    bill: dict | None = None   # bill_* overriding the customer's address on this invoice
    ship: dict | None = None   # ship_*
    extra: dict | None = None  # memo, notes, custom_1..5


def _line(draft: ManualLine, currency: str, position: int) -> InvoiceLine:
    if draft.keep is not None:
        draft.keep.position = position
        return draft.keep
    if draft.quantity < 0:
        raise ValidationError(f"line_items[{position}].line_quantity", "must not be negative")
    descrip = draft.descrip if draft.descrip is not None else (draft.item.name if draft.item else "")
    if not descrip and draft.item is None:
        raise ValidationError(f"line_items[{position}].descrip", "a line needs an item_id or a descrip")
    amount = quantize_money(draft.rate * draft.quantity, currency)
    return InvoiceLine(position=position, item_id=draft.item.id if draft.item else None,
                       kind="quantity", descrip=descrip, line_rate=draft.rate,
                       line_quantity=draft.quantity, amount_minor=to_minor(amount, currency))


def _fill_lines(invoice: Invoice, drafts: list[ManualLine]) -> None:
    """Lines and totals: each line rounded half-up, tax once on the subtotal."""
    if not drafts:
        raise ValidationError("line_items", "an invoice needs at least one line")
    invoice.lines = [_line(d, invoice.currency, i) for i, d in enumerate(drafts)]
    subtotal = sum(line.amount_minor for line in invoice.lines)
    if subtotal < 0:
        raise ValidationError("line_items", "the total is negative: credit the customer with a "
                              "credit memo (invoice action credit, or a cre transaction) instead")
    taxes = to_minor(quantize_money(from_minor(subtotal, invoice.currency) * invoice.tax_rate,
                                    invoice.currency), invoice.currency)
    invoice.sum_base_minor, invoice.sum_usage_minor = subtotal, 0
    invoice.subtotal_minor, invoice.taxes_minor = subtotal, taxes
    invoice.total_minor = subtotal + taxes


def _apply_details(invoice: Invoice, details: InvoiceDetails) -> None:
    if details.external_key is not None:
        taken = db.session.scalar(select(Invoice.id).where(Invoice.external_key == details.external_key,
                                                           Invoice.id != invoice.id))
        if taken is not None:
            raise ValidationError("external_key", f"is already used by invoice {taken}")
        invoice.external_key = details.external_key
    snapshot = dict(invoice.snapshot or {})
    if details.bill:
        snapshot["buyer"] = {**snapshot.get("buyer", {}), **details.bill}
    if details.ship:
        snapshot["ship"] = {**snapshot.get("ship", {}), **details.ship}
    if details.extra:
        snapshot["extra"] = {**snapshot.get("extra", {}), **details.extra}
    invoice.snapshot = snapshot


def create_manual_invoice(customer: Customer, lines: list[ManualLine], *, invoice_date: date,
                          due: date | None = None, details: InvoiceDetails = InvoiceDetails()) -> Invoice:
    """Write a one-off invoice of `customer`, numbered and open; flushes.

    :param lines: its lines, in order.
    :param invoice_date: its date; the due date follows from the customer's terms unless `due`.
    """
    ctx = RunContext.load()
    terms = ctx.terms_days(customer)
    due = due or compute_due_date(invoice_date, terms)
    if due < invoice_date:
        raise ValidationError("due_date", "must not be before the invoice date")
    invoice = Invoice(customer_id=customer.id, kind="manual", currency=customer.currency,
                      date=invoice_date, due_date=due, terms_days=(due - invoice_date).days,
                      tax_rate=ctx.tax_rate(customer), status=InvoiceStatus.OPEN)
    _fill_lines(invoice, lines)
    snapshot_invoice(invoice, customer)
    _apply_details(invoice, details)
    invoice.refnumber = next_number(REFNUMBER_SEQUENCE)
    db.session.add(invoice)
    db.session.flush()
    apply_customer_credit(customer.id)
    return invoice


def _editable(invoice: Invoice, what: str) -> None:
    """Refuse changing the charges of an invoice that is void, paid by the merchant or billed
    by a run (its lines are the reconciliation's billed charges: void it instead)."""
    if invoice.doc_type != DocType.INVOICE or invoice.status != InvoiceStatus.OPEN:
        raise ValidationError("invoice_id", f"invoice {invoice.id} is {invoice.status}: it cannot be {what}")
    if invoice.kind != "manual":
        raise ValidationError("line_items", f"invoice {invoice.id} was billed from package "
                              f"{invoice.package_id}: void it instead (the next run bills again)")
    applications = _applications(invoice)
    if any(not a.automatic for a in applications):
        raise ValidationError("invoice_id", f"invoice {invoice.id} has payments applied: it "
                              f"cannot be {what}")
    reverse_applications(applications)  # automatic credit goes back to its sources


def _applications(invoice: Invoice) -> list[TransactionApplication]:
    return list(db.session.scalars(select(TransactionApplication)
                                   .where(TransactionApplication.invoice_id == invoice.id)))


def update_invoice(invoice: Invoice, *, lines: list[ManualLine] | None = None,
                   invoice_date: date | None = None, due: date | None = None,
                   details: InvoiceDetails = InvoiceDetails()) -> Invoice:
    """Change an open invoice; flushes. Lines, date and due date only of an unpaid one-off
    invoice (its automatic credit is applied again afterwards); what it shows of any invoice.

    :param lines: the new list of lines (existing ones named with `keep`), or None.
    """
    if invoice.doc_type != DocType.INVOICE:
        raise ValidationError("invoice_id", f"{invoice.id} is a credit note")
    changes_money = lines is not None or invoice_date is not None or due is not None
    if changes_money:
        _editable(invoice, "changed")
        invoice.date = invoice_date or invoice.date
        invoice.due_date = due or (compute_due_date(invoice.date, invoice.terms_days)
                                   if invoice_date else invoice.due_date)
        if invoice.due_date < invoice.date:
            raise ValidationError("due_date", "must not be before the invoice date")
        invoice.terms_days = (invoice.due_date - invoice.date).days
        if lines is not None:
            _fill_lines(invoice, lines)
    _apply_details(invoice, details)
    db.session.flush()
    if changes_money:
        apply_customer_credit(invoice.customer_id)
    return invoice


def delete_invoice(invoice: Invoice) -> None:
    """Delete a one-off invoice that nobody can have seen; flushes.

    Allowed while it is unpaid (automatic credit goes back), was never e-mailed, and holds
    the last invoice number (the numbering stays without gaps); otherwise void it.
    """
    _editable(invoice, "deleted")
    # A delivery the mail job has tried (claimed, sent or failed after SMTP took it) may have
    # reached the customer: only never-attempted deliveries go with the invoice.
    if db.session.scalar(select(EmailDelivery.id).where(
            EmailDelivery.invoice_id == invoice.id,
            or_(EmailDelivery.status != DeliveryStatus.PENDING, EmailDelivery.attempts > 0))):
        raise ValidationError("invoice_id", f"invoice {invoice.id} was e-mailed: void it instead")
    last = db.session.execute(update(Counter).where(Counter.name == REFNUMBER_SEQUENCE,
                                                    Counter.value == invoice.refnumber)
                              .values(value=Counter.value - 1))
    if last.rowcount != 1:
        raise ValidationError("invoice_id", f"invoice {invoice.id} is not the last invoice number: "
                              "void it instead (numbers run without gaps)")
    # A claim between the check above and this delete leaves its row: refuse then.
    db.session.execute(delete(EmailDelivery).where(
        EmailDelivery.invoice_id == invoice.id, EmailDelivery.status == DeliveryStatus.PENDING,
        EmailDelivery.attempts == 0))
    if db.session.scalar(select(EmailDelivery.id).where(EmailDelivery.invoice_id == invoice.id)):
        raise ValidationError("invoice_id", f"invoice {invoice.id} is being e-mailed: void it instead")
    db.session.delete(invoice)
    db.session.flush()
    apply_customer_credit(invoice.customer_id)

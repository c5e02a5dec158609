"""`invoice`: read invoices, and the actions void, pay and email."""
from __future__ import annotations

from sqlalchemy import select

from portal.api.body import get_amount, get_local_date, get_str
from portal.api.format import day, dt, money
from portal.api.query import Field, as_datetime, as_int, as_text
from portal.api.registry import Resource, register
from portal.db_types import utcnow
from portal.models import Invoice, InvoiceLine
from portal.services import merchant_tz
from portal.services.invoices import void_invoice
from portal.services.links import invoice_links
from portal.services.events import register_snapshot
from portal.services.payments import pay_invoice, payment_method

STATUS_NAMES = {"open-unpaid": "Unpaid", "closed-paid": "Paid", "void-void": "Void"}

FIELDS = {
    "invoice_id": Field(Invoice.id, as_int),
    "refnumber": Field(Invoice.refnumber, as_int),
    "customer_id": Field(Invoice.customer_id, as_int),
    "package_id": Field(Invoice.package_id, as_int),
    "invoice_status_str": Field(Invoice.status, as_text),
    "date": Field(Invoice.date, lambda v, f: as_datetime(v, f).date()),
    "due_date": Field(Invoice.due_date, lambda v, f: as_datetime(v, f).date()),
    "write_datetime": Field(Invoice.created_at, as_datetime),
}


def serialize_line(line: InvoiceLine, currency: str) -> dict:
    """An invoice line as ChargeOver's, plus the period it settles."""
    return {
        "invoice_line_id": line.id, "line_item_id": line.line_item_id,
        "package_line_id": line.line_item_id, "item_id": line.item_id, "descrip": line.descrip,
        "line_rate": line.line_rate, "line_quantity": line.line_quantity,
        "line_total": money(line.amount_minor, currency), "kind": line.kind,
        "is_base": line.kind == "base", "is_setup": line.kind == "setup",
        "is_usage": line.kind == "usage", "is_adjustment": line.is_adjustment,
        "period_from": dt(line.period_start), "period_to": dt(line.period_end),
        "tiers": line.tiers,
    }


def serialize(invoice: Invoice) -> dict:
    """An invoice as ChargeOver returns it."""
    c = invoice.currency
    return {
        "invoice_id": invoice.id, "refnumber": str(invoice.refnumber),
        "customer_id": invoice.customer_id, "package_id": invoice.package_id,
        "date": day(invoice.date), "due_date": day(invoice.due_date), "terms_days": invoice.terms_days,
        "cycle_pre_from_date": day(invoice.cycle_pre_from_date),
        "cycle_pre_to_date": day(invoice.cycle_pre_to_date),
        "cycle_post_from_date": day(invoice.cycle_post_from_date),
        "cycle_post_to_date": day(invoice.cycle_post_to_date),
        "currency_iso4217": c, "sum_base": money(invoice.sum_base_minor, c),
        "sum_usage": money(invoice.sum_usage_minor, c), "subtotal": money(invoice.subtotal_minor, c),
        "taxes": money(invoice.taxes_minor, c), "total": money(invoice.total_minor, c),
        "payments": money(invoice.paid_minor, c), "balance": money(invoice.balance_minor, c),
        "invoice_status_str": invoice.status, "invoice_status_state": invoice.status[0],
        "invoice_status_name": STATUS_NAMES[invoice.status],
        "is_paid": invoice.status == "closed-paid", "is_void": invoice.status == "void-void",
        "void_datetime": dt(invoice.voided_at), "write_datetime": dt(invoice.created_at),
        **invoice_links(invoice.id),
        "line_items": [serialize_line(line, c) for line in invoice.lines],
    }


def void(invoice: Invoice, data: dict) -> bool:
    """POST invoice/N/_action/void: release its charges for the next run."""
    void_invoice(invoice)
    return True


def pay(invoice: Invoice, data: dict) -> dict:
    """POST invoice/N/_action/pay: record a payment of the balance (or `amount`)."""
    paid_on = (get_local_date(data, "date", "transaction_date")
               or utcnow().astimezone(merchant_tz()).date())
    payment = pay_invoice(
        invoice, paid_on=paid_on,
        method=payment_method(get_str(data, "method") or get_str(data, "gateway_method")),
        amount=get_amount(data, "amount"), reference=get_str(data, "reference"),
    )
    return {"id": payment.id}


def email(invoice: Invoice, data: dict) -> dict:
    """POST invoice/N/_action/email: queue the invoice e-mail (sent by the mail job)."""
    from portal.services.mail import queue_invoice_email

    delivery = queue_invoice_email(invoice, to_address=get_str(data, "email"))
    return {"id": delivery.id}


def invoices_only():
    """Credit notes are rows of the same table, shown as `cre` transactions instead."""
    return select(Invoice).where(Invoice.doc_type == "invoice")


register(Resource(
    name="invoice", model=Invoice, id_field="invoice_id", fields=FIELDS, serialize=serialize,
    actions={"void": void, "pay": pay, "email": email}, query=invoices_only,
))
# A credit note's webhook `data` shows it as the invoice API does (doc_type credit_note).
def _credit_note_snapshot(session, note_id: int) -> dict | None:
    note = session.get(Invoice, note_id)
    return None if note is None else serialize(note)


register_snapshot("creditnote", _credit_note_snapshot)

"""`transaction`: payments recorded by the merchant, and credit memos (`cre`: the credit
notes the billing runs issue), with the invoices each was applied to."""
from __future__ import annotations

from portal.api.body import get_amount, get_int, get_local_date, get_str
from portal.api.envelope import ApiError
from portal.api.format import day, dt, money
from portal.api.query import Field, as_datetime, as_int, as_text, get_by_id
from portal.api.registry import Resource, register
from portal.billing.vocabulary import TransactionType
from portal.db_types import utcnow
from portal.models import Customer, Invoice, Transaction
from portal.services import merchant_tz
from portal.services.links import invoice_links
from portal.services.payments import Application, payment_method, record_payment

TYPE_NAMES = {"pay": "Payment", "cre": "Credit memo", "ref": "Refund"}
METHOD_NAMES = {"check": "Paid by Check", "ach": "Paid by ACH", "card": "Paid by Card",
                "cash": "Paid in Cash", "other": "Paid"}

FIELDS = {
    "transaction_id": Field(Transaction.id, as_int),
    "customer_id": Field(Transaction.customer_id, as_int),
    "transaction_type": Field(Transaction.transaction_type, as_text),
    "gateway_method": Field(Transaction.method, as_text),
    "transaction_date": Field(Transaction.transaction_date, lambda v, f: as_datetime(v, f).date()),
    "credit_note_id": Field(Transaction.credit_note_id, as_int),
}


def serialize(payment: Transaction) -> dict:
    """A payment or credit memo as ChargeOver's transaction (applications with their time)."""
    c = payment.currency
    applied = sum(a.amount_minor for a in payment.applications)
    is_credit = payment.transaction_type == TransactionType.CREDIT
    return {
        "transaction_id": payment.id, "customer_id": payment.customer_id,
        "transaction_type": payment.transaction_type,
        "transaction_type_name": TYPE_NAMES[payment.transaction_type],
        "amount": money(payment.amount_minor, c), "currency_iso4217": c,
        "applied": money(applied, c), "unapplied": money(payment.amount_minor - applied, c),
        "transaction_date": day(payment.transaction_date), "gateway_method": payment.method,
        "transaction_method": "Credit memo" if is_credit else METHOD_NAMES[payment.method],
        "gateway_transid": payment.reference, "credit_note_id": payment.credit_note_id,
        "credit_note_number": payment.reference if is_credit else None,
        "url_pdflink": _credit_note_pdf(payment) if is_credit else None,
        "is_void": payment.voided_at is not None, "void_datetime": dt(payment.voided_at),
        "transaction_datetime": dt(payment.created_at),
        "applied_to": [{"invoice_id": str(a.invoice_id), "applied": money(a.amount_minor, c)}
                       for a in payment.applications],
        # The same applications with when they were made and whether automatically.
        "applications": [{"invoice_id": a.invoice_id, "applied": money(a.amount_minor, c),
                          "applied_datetime": dt(a.created_at), "automatic": a.automatic}
                         for a in payment.applications],
    }


def _credit_note_pdf(credit_memo: Transaction) -> str | None:
    """The signed PDF link of the credit memo's credit note."""
    return invoice_links(credit_memo.credit_note_id)["url_pdflink"] if credit_memo.credit_note_id else None


def _applications(data: dict, customer: Customer) -> list[Application]:
    """`applied_to: [{"invoice_id", "amount"?}]` as applications (invoices must exist)."""
    entries = data.get("applied_to")
    entries = [] if entries is None or entries == "" else entries
    if not isinstance(entries, list):  # {} too: the document says an array
        raise ApiError(400, "applied_to: must be a list of {invoice_id, amount}", {"field": "applied_to"})
    applications = []
    for index, entry in enumerate(entries):
        field = f"applied_to[{index}].invoice_id"
        if not isinstance(entry, dict):
            raise ApiError(400, f"applied_to[{index}]: must be an object", {"field": field})
        invoice = get_by_id(Invoice, get_int(entry, "invoice_id", required=True))
        if invoice is None:
            raise ApiError(400, f"{field}: no invoice {entry['invoice_id']}", {"field": field})
        applications.append(Application(invoice, get_amount(entry, "amount",
                                                            f"applied_to[{index}].amount")))
    return applications


def create(data: dict) -> Transaction:
    """POST /transaction: record a payment of `customer_id` and apply it."""
    kind = get_str(data, "transaction_type") or "pay"
    if kind != "pay":
        raise ApiError(400, "transaction_type: only 'pay' (a received payment) can be created; "
                       "credit memos ('cre') are issued by the billing runs", {"field": "transaction_type"})
    customer = get_by_id(Customer, get_int(data, "customer_id", required=True))
    if customer is None:
        raise ApiError(400, "customer_id: no such customer", {"field": "customer_id"})
    paid_on = get_local_date(data, "transaction_date") or utcnow().astimezone(merchant_tz()).date()
    return record_payment(
        customer, amount=get_amount(data, "amount"), paid_on=paid_on,
        method=payment_method(get_str(data, "gateway_method") or get_str(data, "method")),
        reference=get_str(data, "gateway_transid") or get_str(data, "reference"),
        applications=_applications(data, customer) if "applied_to" in data else None,
    )


register(Resource(
    name="transaction", model=Transaction, id_field="transaction_id", fields=FIELDS,
    serialize=serialize, create=create,
))

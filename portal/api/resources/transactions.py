"""`transaction`: payments received (`pay`), credit memos (`cre`: credit notes), refunds
(`ref`), with the invoices each was applied to; writes are in `transaction_input`."""
from __future__ import annotations

from sqlalchemy import BigInteger, exists

from portal.api.format import day, dt, money
from portal.api.query import Field, as_datetime, as_int, as_text
from portal.api.registry import Resource, register
from portal.api.resources import transaction_input
from portal.api.resources.money_input import currency_symbol
from portal.models import Transaction, TransactionApplication
from portal.billing.vocabulary import TransactionType
from portal.services.links import invoice_links

TYPE_NAMES = {"pay": "Payment", "cre": "Credit memo", "ref": "Refund"}
METHOD_NAMES = {"check": "Check", "ach": "ACH", "card": "Card", "cash": "Cash", "other": "Other",
                "visa": "Visa", "mastercard": "MasterCard", "american-express": "American Express",
                "discover": "Discover", "paypal": "PayPal", "credit": "Credit"}


class AppliedToInvoice:
    """`applied_to.invoice_id` in `where`: true when any application of the transaction
    matches (an EXISTS per comparison, so lists and counts stay one row per transaction)."""

    type = BigInteger()
    _column = TransactionApplication.__table__.c.invoice_id  # a Core column (no descriptor)

    def _any(self, clause):
        return exists().where(TransactionApplication.transaction_id == Transaction.id, clause)

    def __eq__(self, value):  # type: ignore[override]
        return self._any(self._column == value)

    def __ne__(self, value):  # type: ignore[override]
        return ~self._any(self._column == value)

    def __lt__(self, value):
        return self._any(self._column < value)

    def __le__(self, value):
        return self._any(self._column <= value)

    def __gt__(self, value):
        return self._any(self._column > value)

    def __ge__(self, value):
        return self._any(self._column >= value)

    def is_(self, _none):
        return ~self._any(self._column.isnot(None))

    def isnot(self, _none):
        return self._any(self._column.isnot(None))

    def asc(self):
        return Transaction.id.asc()

    def desc(self):
        return Transaction.id.desc()

    __hash__ = object.__hash__


FIELDS = {
    "transaction_id": Field(Transaction.id, as_int),
    "customer_id": Field(Transaction.customer_id, as_int),
    "transaction_type": Field(Transaction.transaction_type, as_text),
    "gateway_method": Field(Transaction.method, as_text),
    "gateway_transid": Field(Transaction.reference, as_text),
    "transaction_date": Field(Transaction.transaction_date, lambda v, f: as_datetime(v, f).date()),
    "credit_note_id": Field(Transaction.credit_note_id, as_int),
    "applied_to.invoice_id": Field(AppliedToInvoice(), as_int),
}


def _applied_to(payment: Transaction) -> list[dict]:
    c = payment.currency
    return [{"invoice_id": str(a.invoice_id), "applied": money(a.amount_minor, c)}
            for a in payment.applications]


def serialize(payment: Transaction) -> dict:
    """A transaction as ChargeOver's (a refund's amount is negative), with applications."""
    c = payment.currency
    applied = sum(a.amount_minor for a in payment.applications)
    refunded = transaction_input.refunded(payment)
    is_credit = payment.transaction_type == TransactionType.CREDIT
    is_refund = payment.transaction_type == TransactionType.REFUND
    void = payment.voided_at is not None
    return {
        "transaction_id": payment.id, "customer_id": payment.customer_id,
        "transaction_type": payment.transaction_type,
        "transaction_type_name": TYPE_NAMES[payment.transaction_type],
        "amount": money(-payment.amount_minor if is_refund else payment.amount_minor, c),
        "currency_iso4217": c, "currency_symbol": currency_symbol(c),
        "applied": money(applied, c),
        "unapplied": money(0 if is_refund or void else payment.amount_minor - applied - refunded, c),
        "refunded": money(refunded, c), "refund_of_transaction_id": payment.refund_of_id,
        "transaction_date": day(payment.transaction_date), "gateway_method": payment.method,
        "gateway_status": 1, "gateway_transid": payment.reference,
        "transaction_method": "Credit memo" if is_credit else METHOD_NAMES[payment.method],
        "credit_note_id": payment.credit_note_id,
        "credit_note_number": payment.reference if is_credit else None,
        "url_pdflink": _credit_note_pdf(payment) if is_credit else None,
        "is_void": void, "void_datetime": dt(payment.voided_at),
        "transaction_datetime": dt(payment.created_at),
        "applied_to": _applied_to(payment),
        # The same applications with when they were made and whether automatically.
        "applications": [{"invoice_id": a.invoice_id, "applied": money(a.amount_minor, c),
                          "applied_datetime": dt(a.created_at), "automatic": a.automatic}
                         for a in payment.applications],
    }


def _credit_note_pdf(credit_memo: Transaction) -> str | None:
    """The signed PDF link of the credit memo's credit note."""
    return invoice_links(credit_memo.credit_note_id)["url_pdflink"] if credit_memo.credit_note_id else None


register(Resource(
    name="transaction", model=Transaction, id_field="transaction_id", fields=FIELDS,
    serialize=serialize, create=transaction_input.create, actions=transaction_input.ACTIONS,
    collection_actions={"pay": transaction_input.attempt_payment},
))

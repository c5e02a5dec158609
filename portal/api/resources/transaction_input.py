"""`transaction` writes: record a payment received, a refund paid back or a credit memo;
`transaction?action=pay` (from the customer's credit only); actions refund, void, email and
changeAppliedAmounts."""
from __future__ import annotations

from portal.api.body import get_amount, get_int, get_local_date, get_str, json_body
from portal.api.envelope import ApiError, respond
from portal.api.query import get_by_id
from portal.api.resources.money_input import refuse_charges, refuse_fields, refuse_other_currency
from portal.billing.money import exact_minor
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Customer, Invoice, Transaction
from portal.services import merchant_tz
from portal.services.credit_notes import credit_note_transaction, issue_manual_credit
from portal.services.payments import Application, payment_method, record_payment
from portal.services.transaction_actions import (
    AppliedAmount, change_applied_amounts, email_receipt, pay_from_credit, record_refund,
    refund_transaction, refunded_minor, void_transaction,
)

UNSUPPORTED = {"fee": "gateway fees are not recorded",
               "gateway_id": "Meterbill has no payment gateways"}


def refunded(transaction: Transaction) -> int:
    """Minor units refunded from a payment or credit memo."""
    return refunded_minor(transaction) if transaction.transaction_type != "ref" else 0


def _today():
    return utcnow().astimezone(merchant_tz()).date()


def _customer(data: dict) -> Customer:
    customer = get_by_id(Customer, get_int(data, "customer_id", required=True))
    if customer is None:
        raise ApiError(400, "customer_id: no such customer", {"field": "customer_id"})
    refuse_other_currency(data, customer.currency)
    return customer


def _entries(data: dict) -> list[tuple[int, dict, Invoice]]:
    """`applied_to: [{"invoice_id", ...}]` with each entry's invoice (which must exist)."""
    entries = data.get("applied_to")
    entries = [] if entries is None or entries == "" else entries
    if not isinstance(entries, list):  # {} too: the document says an array
        raise ApiError(400, "applied_to: must be a list of {invoice_id, applied}", {"field": "applied_to"})
    found = []
    for index, entry in enumerate(entries):
        field = f"applied_to[{index}].invoice_id"
        if not isinstance(entry, dict):
            raise ApiError(400, f"applied_to[{index}]: must be an object", {"field": field})
        invoice = get_by_id(Invoice, get_int(entry, "invoice_id", required=True))
        if invoice is None:
            raise ApiError(400, f"{field}: no invoice {entry['invoice_id']}", {"field": field})
        found.append((index, entry, invoice))
    return found


def _amount_of(entry: dict, index: int):
    """An application's amount: ChargeOver's `applied`, or our `amount`."""
    return (get_amount(entry, "applied", f"applied_to[{index}].applied")
            if entry.get("applied") not in (None, "")
            else get_amount(entry, "amount", f"applied_to[{index}].amount"))


def _method(data: dict) -> str:
    return payment_method(get_str(data, "gateway_method") or get_str(data, "method"))


def create(data: dict) -> Transaction:
    """POST /transaction: a payment received (`pay`), a refund paid back (`ref`) or a credit
    memo (`cre`) of `customer_id`."""
    refuse_charges(data)
    refuse_fields(data, UNSUPPORTED)
    kind = get_str(data, "transaction_type") or "pay"
    if kind == "spl":
        raise ApiError(400, "transaction_type: split transactions (spl) are not supported by "
                       "Meterbill; record each payment with its applied_to",
                       {"field": "transaction_type", "supported": False})
    if kind not in ("pay", "ref", "cre"):
        raise ApiError(400, "transaction_type: must be pay, ref or cre", {"field": "transaction_type"})
    status = get_int(data, "gateway_status")
    if status is not None and status != 1:
        raise ApiError(400, "gateway_status: a declined or failed payment (gateway_status 0) "
                       "moves no money and is not recorded", {"field": "gateway_status"})
    customer = _customer(data)
    on = get_local_date(data, "transaction_date") or _today()
    reference = get_str(data, "gateway_transid") or get_str(data, "reference")
    if kind == "ref":
        if data.get("applied_to"):
            raise ApiError(400, "applied_to: a refund pays back credit and is not applied to "
                           "invoices (use the payment's refund action)", {"field": "applied_to"})
        return record_refund(customer, amount=_required_amount(data), refunded_on=on,
                             method=_method(data), reference=reference)
    if kind == "cre":
        return _credit_memo(customer, data, on)
    entries = _entries(data) if "applied_to" in data else None
    return record_payment(
        customer, amount=_required_amount(data), paid_on=on, method=_method(data), reference=reference,
        applications=None if entries is None else [Application(inv, _amount_of(e, i)) for i, e, inv in entries],
    )


def _required_amount(data: dict):
    amount = get_amount(data, "amount")
    if amount is None:
        raise ApiError(400, "amount: is required", {"field": "amount"})
    return amount


def _credit_memo(customer: Customer, data: dict, on) -> Transaction:
    """A credit memo: a credit note of `amount`, applied to the one invoice named (if any)."""
    entries = _entries(data)
    if len(entries) > 1:
        raise ApiError(400, "applied_to: a credit memo is applied to one invoice here; the rest "
                       "of its credit goes to the oldest open invoices", {"field": "applied_to"})
    target = entries[0][2] if entries else None
    if target is not None and target.customer_id != customer.id:
        raise ApiError(400, "applied_to[0].invoice_id: belongs to another customer",
                       {"field": "applied_to[0].invoice_id"})
    note = issue_manual_credit(customer, exact_minor(_required_amount(data), customer.currency, "amount"), on=on,
                               descrip=get_str(data, "transaction_detail", max_length=10_000) or "Credit",
                               apply_to=target)
    return credit_note_transaction(note)


def attempt_payment():
    """POST /transaction?action=pay: pay invoices from the customer's credit only; a card or
    bank account to charge is a 400 (no gateway)."""
    data = json_body()
    refuse_charges(data)
    customer = _customer(data)
    amount = get_amount(data, "amount")
    invoices = [invoice for _, _, invoice in _entries(data)]
    for index, invoice in enumerate(invoices):
        if invoice.customer_id != customer.id:
            raise ApiError(400, f"applied_to[{index}].invoice_id: belongs to another customer",
                           {"field": f"applied_to[{index}].invoice_id"})
    pay_from_credit(customer, invoices, None if amount is None else exact_minor(amount, customer.currency, "amount"))
    db.session.commit()
    return respond(200, True)


def refund(transaction: Transaction, data: dict) -> dict:
    """POST transaction/N?action=refund: record money paid back (all, or `amount`)."""
    refuse_charges(data)
    new = refund_transaction(transaction, amount=get_amount(data, "amount"),
                             refunded_on=get_local_date(data, "transaction_date") or _today(),
                             reference=get_str(data, "gateway_transid"))
    return {"id": new.id}


def void(transaction: Transaction, data: dict) -> bool:
    """POST transaction/N?action=void."""
    void_transaction(transaction)
    return True


def email(transaction: Transaction, data: dict) -> bool:
    """POST transaction/N?action=email: queue a receipt."""
    email_receipt(transaction, get_str(data, "email"))
    return True


def change_applied(transaction: Transaction, data: dict) -> bool:
    """POST transaction/N?action=changeAppliedAmounts: set what is applied to each invoice."""
    entries = _entries(data)
    if not entries:
        raise ApiError(400, "applied_to: is required", {"field": "applied_to"})
    changes = []
    for index, entry, invoice in entries:
        amount = _amount_of(entry, index)
        if amount is None:
            raise ApiError(400, f"applied_to[{index}].applied: is required",
                           {"field": f"applied_to[{index}].applied"})
        changes.append(AppliedAmount(invoice, amount))
    change_applied_amounts(transaction, changes)
    return True


ACTIONS = {"refund": refund, "void": void, "email": email, "changeAppliedAmounts": change_applied}

"""`invoice` writes: one-off invoices (create, update, delete) and the actions pay, email,
void, approve, credit, schedule and print."""
from __future__ import annotations

from portal.api.body import get_amount, get_bool, get_int, get_local_date, get_str
from portal.api.envelope import ApiError
from portal.api.query import get_by_id
from portal.api.resources.money_input import (
    refuse_charges, refuse_fields, refuse_other_currency,
)
from portal.billing.money import exact_minor, parse_decimal
from portal.billing.vocabulary import InvoiceStatus
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Customer, Invoice, Item
from portal.services import merchant_tz
from portal.services.credit_notes import credit_note_transaction, issue_manual_credit
from portal.services.invoices import void_invoice
from portal.services.manual_invoices import (
    BILL_FIELDS, EXTRA_FIELDS, SHIP_FIELDS, InvoiceDetails, ManualLine, create_manual_invoice,
    delete_invoice, update_invoice,
)
from portal.services.payments import apply_credit_to_invoice

UNSUPPORTED = {
    "terms_id": "payment terms are days: send due_date (or set the customer's terms)",
    "tax_id": "the tax rate is the customer's or the merchant's default",
    "taxes": "taxes are computed from the customer's tax rate",
    "total": "the total is the sum of the lines", "subtotal": "the subtotal is the sum of the lines",
    "package_id": "one-off invoices belong to no package; packages are billed by the runs",
}
LINE_UNSUPPORTED = {
    "tierset": "a one-off line has a rate and a quantity", "tierset_id": "a one-off line has a rate and a quantity",
    "line_total": "a line's total is its rate × quantity",
    "tax_id": "the tax rate is the customer's or the merchant's default",
}


def _today():
    return utcnow().astimezone(merchant_tz()).date()


def _lines(data: dict, invoice: Invoice | None = None) -> list[ManualLine] | None:
    """`line_items` as ManualLines; a line naming an existing `invoice_line_id` (or
    ChargeOver's `line_item_id` with that value) keeps it."""
    if "line_items" not in data:
        return None
    entries = data["line_items"]
    if not isinstance(entries, list):
        raise ApiError(400, "line_items: must be a list", {"field": "line_items"})
    existing = {line.id: line for line in invoice.lines} if invoice is not None else {}
    lines, kept = [], set()
    for index, entry in enumerate(entries):
        line = _line(entry, index, existing)
        if line.keep is not None:
            if line.keep.id in kept:  # kept twice would be counted twice in the total
                raise ApiError(400, f"line_items[{index}].line_item_id: invoice line {line.keep.id} "
                               "is listed twice", {"field": f"line_items[{index}].line_item_id"})
            kept.add(line.keep.id)
        lines.append(line)
    return lines


def _line(entry, index: int, existing: dict) -> ManualLine:
    name = f"line_items[{index}]"
    if not isinstance(entry, dict):
        raise ApiError(400, f"{name}: must be an object", {"field": name})
    refuse_fields({f"{name}.{k}": v for k, v in entry.items()},
                  {f"{name}.{k}": why for k, why in LINE_UNSUPPORTED.items()})
    keep_id = get_int(entry, "invoice_line_id") or get_int(entry, "line_item_id")
    if keep_id is not None and len([k for k in entry if entry[k] not in (None, "")]) == 1:
        if keep_id not in existing:
            raise ApiError(400, f"{name}.line_item_id: invoice line {keep_id} is not on this invoice",
                           {"field": f"{name}.line_item_id"})
        return ManualLine(keep=existing[keep_id])
    item = None
    item_id = get_int(entry, "item_id")
    if item_id is not None:
        item = get_by_id(Item, item_id)
        if item is None:
            raise ApiError(400, f"{name}.item_id: no item {item_id}", {"field": f"{name}.item_id"})
    rate = entry.get("line_rate")
    quantity = entry.get("line_quantity")
    return ManualLine(
        item=item, descrip=get_str(entry, "descrip", max_length=10_000),
        rate=parse_decimal(rate if rate not in (None, "") else _required(f"{name}.line_rate"),
                           f"{name}.line_rate"),
        quantity=parse_decimal(quantity, f"{name}.line_quantity") if quantity not in (None, "") else 1,
    )


def _required(field: str):
    raise ApiError(400, f"{field}: is required (the rate of a one-off line)", {"field": field})


def _details(data: dict) -> InvoiceDetails:
    def pick(names):
        given = {n: get_str(data, n, max_length=10_000) for n in names if n in data}
        return given or None
    return InvoiceDetails(external_key=get_str(data, "external_key"), bill=pick(BILL_FIELDS),
                          ship=pick(SHIP_FIELDS), extra=pick(EXTRA_FIELDS))


def create(data: dict) -> Invoice:
    """POST /invoice: a one-off invoice with its own lines, issued (open) at once."""
    refuse_fields(data, UNSUPPORTED)
    customer = get_by_id(Customer, get_int(data, "customer_id", required=True))
    if customer is None:
        raise ApiError(400, "customer_id: no such customer", {"field": "customer_id"})
    refuse_other_currency(data, customer.currency)
    lines = _lines(data)
    if not lines:
        raise ApiError(400, "line_items: an invoice needs at least one line", {"field": "line_items"})
    return create_manual_invoice(customer, lines, invoice_date=get_local_date(data, "date") or _today(),
                                 due=get_local_date(data, "due_date"), details=_details(data))


def update(invoice: Invoice, data: dict) -> Invoice:
    """PUT /invoice/N: lines and dates of an unpaid one-off invoice; what any invoice shows."""
    refuse_fields(data, UNSUPPORTED)
    if get_int(data, "customer_id") not in (None, invoice.customer_id):
        raise ApiError(400, "customer_id: an invoice stays with its customer", {"field": "customer_id"})
    refuse_other_currency(data, invoice.currency)
    return update_invoice(invoice, lines=_lines(data, invoice), invoice_date=get_local_date(data, "date"),
                          due=get_local_date(data, "due_date"), details=_details(data))


def delete(invoice: Invoice) -> None:
    """DELETE /invoice/N: an unpaid, unsent one-off invoice holding the last number."""
    delete_invoice(invoice)


def pay(invoice: Invoice, data: dict) -> bool:
    """POST invoice/N?action=pay: apply the customer's available credit (Meterbill charges no
    card); true when credit was applied, false when the customer has none."""
    refuse_charges(data)
    if get_bool(data, "use_customer_balance", True) is False:
        raise ApiError(400, "use_customer_balance: false would charge a stored payment method; "
                       "Meterbill has none and only applies the customer's credit",
                       {"field": "use_customer_balance"})
    amount = get_amount(data, "amount")
    if invoice.status == InvoiceStatus.PAID:
        return False  # nothing to apply: it is paid
    limit = None if amount is None else exact_minor(amount, invoice.currency, "amount")
    return apply_credit_to_invoice(invoice, limit) > 0


def email(invoice: Invoice, data: dict) -> bool:
    """POST invoice/N?action=email: queue the invoice e-mail (sent by the mail job)."""
    from portal.services.mail import queue_invoice_email

    queue_invoice_email(invoice, to_address=get_str(data, "email"))
    return True


def void(invoice: Invoice, data: dict) -> bool:
    """POST invoice/N?action=void: release its charges for the next run."""
    void_invoice(invoice)
    return True


def approve(invoice: Invoice, data: dict) -> bool:
    """POST invoice/N?action=approve: invoices are issued when written; nothing to approve."""
    if invoice.status == InvoiceStatus.VOID:
        raise ApiError(400, f"invoice_id: invoice {invoice.id} is void", {"field": "invoice_id"})
    return True


def credit(invoice: Invoice, data: dict) -> dict:
    """POST invoice/N?action=credit: a credit memo (credit note) of `amount` (default: the
    balance), applied to this invoice; answers the `cre` transaction's id."""
    amount = get_amount(data, "amount")
    minor = invoice.balance_minor if amount is None else exact_minor(amount, invoice.currency, "amount")
    if invoice.status != InvoiceStatus.OPEN:
        raise ApiError(400, f"invoice_id: invoice {invoice.id} is {invoice.status}, not open",
                       {"field": "invoice_id"})
    note = issue_manual_credit(db.session.get(Customer, invoice.customer_id), minor, on=_today(), apply_to=invoice,
                               descrip=get_str(data, "descrip", max_length=10_000)
                               or f"Credit for invoice #{invoice.refnumber}")
    return {"id": credit_note_transaction(note).id, "credit_note_id": note.id}


def schedule(invoice: Invoice, data: dict) -> bool:
    """POST invoice/N?action=schedule: a payment schedule needs a card gateway."""
    raise ApiError(400, "action: schedule sets when a stored payment method is charged; Meterbill "
                   "has no payment gateway (the customer pays by the due date)",
                   {"field": "action", "supported": False})


def print_(invoice: Invoice, data: dict) -> bool:
    """POST invoice/N?action=print: Meterbill mails no paper."""
    raise ApiError(400, "action: print mails a paper invoice; Meterbill has no print service "
                   "(url_pdflink is the PDF to print)", {"field": "action", "supported": False})


ACTIONS = {"pay": pay, "email": email, "void": void, "approve": approve, "credit": credit,
           "schedule": schedule, "print": print_}

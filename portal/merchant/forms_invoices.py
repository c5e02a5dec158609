"""Forms of invoices: record a payment, e-mail the invoice, and the list's filters."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import Length

from portal.billing.errors import ValidationError
from portal.billing.vocabulary import InvoiceStatus
from portal.merchant.forms_common import choices, parse_day, text_or_none
from portal.models.transactions import PAYMENT_METHODS
from portal.presentation.formatting import format_money
from portal.services.listings import INVOICE_FILTER_STATUSES

METHOD_LABELS = {"check": "Check", "ach": "ACH / bank transfer", "card": "Card", "cash": "Cash",
                 "other": "Other", "visa": "Visa", "mastercard": "Mastercard",
                 "american-express": "American Express", "discover": "Discover",
                 "paypal": "PayPal", "credit": "Credit"}
STATUS_FILTER_LABELS = {"": "All statuses", InvoiceStatus.OPEN: "Unpaid", "overdue": "Overdue",
                        InvoiceStatus.PAID: "Paid", InvoiceStatus.VOID: "Void"}


class PaymentForm(FlaskForm):
    """A payment received for one invoice (recorded, no card processing)."""

    amount = StringField("Amount", validators=[Length(max=40)],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    paid_on = StringField("Date received", render_kw={"type": "date"})
    method = SelectField("Method", choices=choices((m, METHOD_LABELS[m]) for m in PAYMENT_METHODS),
                         default="check")
    reference = StringField("Reference", validators=[Length(max=255)],
                            render_kw={"placeholder": "check number, bank reference…"})


class EmailForm(FlaskForm):
    """Send the invoice by e-mail (to the billing contact unless another address is given)."""

    to_address = EmailField("Send to", validators=[Length(max=255)])


def paid_on(form: PaymentForm) -> date:
    """The payment's date (errors name paid_on)."""
    day = parse_day(form.paid_on.data)
    if day is None:
        raise ValidationError("paid_on", "must be a date like 2025-10-01")
    return day


def payment_fields(form: PaymentForm) -> dict:
    """pay_invoice's keyword arguments from the form."""
    return {"paid_on": paid_on(form), "method": form.method.data,
            "amount": (form.amount.data or "").strip() or None,
            "reference": text_or_none(form.reference.data)}


def payment_outcome(invoice) -> str:
    """What a recorded payment left: the invoice paid, or its remaining balance."""
    if invoice.status == InvoiceStatus.PAID:
        return f"Payment recorded: invoice #{invoice.refnumber} is paid."
    left = format_money(invoice.balance_minor, invoice.currency)
    return f"Payment recorded: {left} of invoice #{invoice.refnumber} is still due."


@dataclass(frozen=True)
class InvoiceFilters:
    """The invoice list's filters, read from the query string (bad values are ignored)."""

    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    customer_id: int | None = None

    @classmethod
    def from_args(cls, args) -> InvoiceFilters:
        status = args.get("status", "")
        return cls(status=status if status in INVOICE_FILTER_STATUSES else "",
                   date_from=parse_day(args.get("date_from")), date_to=parse_day(args.get("date_to")),
                   customer_id=args.get("customer_id", type=int))

    def query_args(self) -> dict:
        """The filters as query-string arguments (for the pager's links)."""
        args = {"status": self.status, "customer_id": self.customer_id,
                "date_from": self.date_from.isoformat() if self.date_from else None,
                "date_to": self.date_to.isoformat() if self.date_to else None}
        return {name: value for name, value in args.items() if value}

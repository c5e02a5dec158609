"""Words shown for the codes of `portal/billing/vocabulary.py`: one dict per vocabulary, used
by the Jinja filters of both portals (`label`, `invoice_state`) and by the documents, so `ach`
reads "Bank transfer (ACH)" and `mon` reads "Monthly" everywhere. A code missing from its
vocabulary is shown as it is (never an error on a page)."""
from __future__ import annotations

from datetime import date

from portal.billing.vocabulary import InvoiceStatus, PackageStatus

# An invoice's stored status in words (its derived state, paid/overdue/..., is `invoice_state`).
INVOICE_STATUS_LABELS = {InvoiceStatus.OPEN: "Unpaid", InvoiceStatus.PAID: "Paid", InvoiceStatus.VOID: "Void"}
# A credit note's: open = credit left, paid = all of it applied.
CREDIT_NOTE_STATUS_LABELS = {InvoiceStatus.OPEN: "Open credit", InvoiceStatus.PAID: "Applied",
                             InvoiceStatus.VOID: "Void"}

VOCABULARIES: dict[str, dict[str, str]] = {
    "paycycle": {
        "dly": "Daily", "1wk": "Weekly", "2wk": "Every 2 weeks", "4wk": "Every 4 weeks",
        "mon": "Monthly", "2mn": "Every 2 months", "qtr": "Quarterly", "six": "Every 6 months",
        "yrl": "Yearly", "2yr": "Every 2 years", "3yr": "Every 3 years",
    },
    "paycycle_unit": {  # "per month", "billed every 2 weeks"
        "dly": "day", "1wk": "week", "2wk": "2 weeks", "4wk": "4 weeks", "mon": "month",
        "2mn": "2 months", "qtr": "quarter", "six": "6 months", "yrl": "year", "2yr": "2 years",
        "3yr": "3 years",
    },
    "payment_method": {"check": "Check", "ach": "Bank transfer (ACH)", "card": "Card", "cash": "Cash",
                       "other": "Other", "visa": "Visa", "mastercard": "Mastercard",
                       "american-express": "American Express", "discover": "Discover",
                       "paypal": "PayPal", "credit": "Credit"},
    "transaction_type": {"pay": "Payment", "ref": "Refund", "cre": "Credit"},
    "usage_type": {"add": "Sum", "max": "Maximum", "lat": "Latest value"},
    "pricemodel": {"fla": "Flat fee", "uni": "Per unit", "tie": "Tiered (graduated)", "vol": "Volume",
                   "stp": "Stair-step", "pkg": "Package (per block)",
                   "pas": "Pass-through (usage is the amount)"},
    "invoice_kind": {"recurring": "Recurring", "final": "Final", "manual": "Manual"},
    "delivery_status": {"pending": "Queued", "sent": "Sent", "failed": "Failed"},
    "usage_source": {"api": "API", "bulk": "API (bulk)", "csv": "CSV import", "url": "Usage URL",
                     "portal": "Portal"},
    "import_status": {"uploaded": "Checking", "validated": "Checked", "running": "Importing",
                      "done": "Done", "failed": "Failed"},
    "invoice_status": INVOICE_STATUS_LABELS,
    "credit_note_status": CREDIT_NOTE_STATUS_LABELS,
    "package_status": {
        PackageStatus.CURRENT: "Active", PackageStatus.TRIAL: "Trial", PackageStatus.OVERDUE: "Overdue",
        PackageStatus.SUSPENDED: "Suspended", PackageStatus.CANCELED: "Cancelled",
        PackageStatus.CANCELED_NONPAYMENT: "Cancelled (non-payment)", PackageStatus.EXPIRED: "Expired",
    },
    # What a reader needs to know of an invoice: derived from status, payments and due date.
    "invoice_state": {"paid": "Paid", "void": "Void", "unpaid": "Unpaid", "partly-paid": "Partly paid",
                      "overdue": "Overdue", "overdue-partly-paid": "Overdue, partly paid"},
}


def label(code: str | None, vocabulary: str) -> str:
    """The words for `code` in `vocabulary` ("" for None; the code itself when unknown).

    :param code: the stored code ("ach", "mon", ...).
    :param vocabulary: a key of VOCABULARIES.
    """
    if code is None:
        return ""
    return VOCABULARIES[vocabulary].get(code, code)


def invoice_state(invoice, today: date | None = None) -> str:
    """paid, void, unpaid, partly-paid, overdue or overdue-partly-paid.

    :param invoice: an Invoice (status, paid_minor, due_date).
    :param today: the merchant's local date (default: today in the merchant time zone).
    """
    if invoice.status == InvoiceStatus.PAID:
        return "paid"
    if invoice.status == InvoiceStatus.VOID:
        return "void"
    if today is None:
        from portal.db_types import utcnow
        from portal.services import merchant_tz

        today = utcnow().astimezone(merchant_tz()).date()
    overdue = invoice.due_date is not None and invoice.due_date < today
    partly = (invoice.paid_minor or 0) > 0
    return "-".join(part for part, on in (("overdue", overdue), ("partly-paid", partly)) if on) or "unpaid"

"""Words shown for the codes stored in the database: one dict per vocabulary, used by the
Jinja filters of both portals (`label`, `invoice_state`), so `ach` reads "Bank transfer
(ACH)" and `mon` reads "Monthly" everywhere. A code missing from its vocabulary is shown
as it is (never an error on a page)."""
from __future__ import annotations

from datetime import date

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
                       "other": "Other"},
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
    "package_status": {
        "active-current": "Active", "active-trial": "Trial", "active-overdue": "Overdue",
        "suspended-suspended": "Suspended", "canceled-manual": "Cancelled",
        "canceled-nonpayment": "Cancelled (non-payment)", "expired-expired": "Expired",
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
    if invoice.status == "closed-paid":
        return "paid"
    if invoice.status == "void-void":
        return "void"
    if today is None:
        from portal.db_types import utcnow
        from portal.services import merchant_tz

        today = utcnow().astimezone(merchant_tz()).date()
    overdue = invoice.due_date is not None and invoice.due_date < today
    partly = (invoice.paid_minor or 0) > 0
    return "-".join(part for part, on in (("overdue", overdue), ("partly-paid", partly)) if on) or "unpaid"

"""CSV exports of the merchant's data, streamed: constant memory whatever the row count.

Each export is a SELECT of plain columns, filtered as its list page is, read with
`yield_per` (a server-side cursor on PostgreSQL) and written a chunk of rows at a time, so a
million rows never sit in memory. Money is exact (minor units → Decimal text, never float);
text cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab
or carriage return) get a leading `'` (OWASP "CSV injection"). Numbers we write ourselves
(amounts, quantities, ids) are never escaped: a credit of -5.00 stays a number.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.billing.errors import ValidationError
from portal.billing.money import from_minor
from portal.billing.vocabulary import InvoiceStatus
from portal.extensions import db
from portal.models import (
    Customer, Invoice, InvoiceLine, Item, LineItem, Package, Transaction, UsageRecord,
)
from portal.services import merchant_tz
from portal.services.listings import INVOICE_FILTER_STATUSES, customer_conditions, invoice_conditions

YIELD_PER = 1000
CHUNK_ROWS = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TRANSACTION_TYPES = ("pay", "ref", "cre")
MAX_ID = 2**31 - 1


def escape_cell(value) -> str:
    """One cell as text: None → "", Decimal exact, datetimes ISO, formula-like text escaped.
    (Dispatch on the exact type first: this runs for every cell of millions of rows.)"""
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None:
        return ""
    if kind is bool:
        return "1" if value else "0"
    if kind is int:
        return str(value)
    if kind is Decimal:
        return format(value, "f")  # exact, never scientific notation
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class ExportFilters:
    """The filters of the list pages, as one export may use them."""

    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    customer_id: int | None = None
    q: str = ""
    line_id: int | None = None
    transaction_type: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ExportFilters:
        """Read the query string; a bad value is a ValidationError naming its field."""
        status = (args.get("status") or "").strip()
        if status and status not in INVOICE_FILTER_STATUSES:
            raise ValidationError("status", f"must be one of {', '.join(INVOICE_FILTER_STATUSES)}")
        kind = (args.get("type") or "").strip()
        if kind and kind not in TRANSACTION_TYPES:
            raise ValidationError("type", f"must be one of {', '.join(TRANSACTION_TYPES)}")
        return cls(status=status, date_from=_day(args, "date_from"), date_to=_day(args, "date_to"),
                   customer_id=_int(args, "customer_id"), q=(args.get("q") or "").strip(),
                   line_id=_int(args, "line_id"), transaction_type=kind)


def _day(args: Mapping[str, str], name: str) -> date | None:
    value = (args.get(name) or "").strip()
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        raise ValidationError(name, "must be a date (YYYY-MM-DD)") from None
    if day is not None and not 1900 <= day.year <= 9000:
        raise ValidationError(name, "must be a date between the years 1900 and 9000")
    return day


def _int(args: Mapping[str, str], name: str) -> int | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 10 or int(value) > MAX_ID:
        raise ValidationError(name, f"must be a whole number up to {MAX_ID}")
    return int(value)


def _money(minor: int, currency: str) -> Decimal:
    return from_minor(int(minor or 0), currency)


def _invoices(f: ExportFilters, today: date | None):
    stmt = (select(Invoice.id, Invoice.refnumber, Invoice.customer_id, Customer.company,
                   Invoice.package_id, Invoice.kind, Invoice.date, Invoice.due_date, Invoice.currency,
                   Invoice.subtotal_minor, Invoice.taxes_minor, Invoice.total_minor, Invoice.paid_minor,
                   Invoice.status, Invoice.voided_at)
            .join(Customer, Customer.id == Invoice.customer_id).where(Invoice.doc_type == "invoice")
            .where(*invoice_conditions(status=f.status, date_from=f.date_from, date_to=f.date_to,
                                       customer_id=f.customer_id, today=today))
            .order_by(Invoice.date.desc(), Invoice.refnumber.desc()))

    def row(r):
        c = r.currency
        balance = 0 if r.status == InvoiceStatus.VOID else r.total_minor - r.paid_minor
        return (r.id, r.refnumber, r.customer_id, r.company, r.package_id, r.kind, r.date, r.due_date,
                c, _money(r.subtotal_minor, c), _money(r.taxes_minor, c), _money(r.total_minor, c),
                _money(r.paid_minor, c), _money(balance, c), r.status, r.voided_at)
    header = ("invoice_id", "refnumber", "customer_id", "company", "package_id", "kind", "date",
              "due_date", "currency", "subtotal", "taxes", "total", "paid", "balance", "status",
              "voided_at")
    return header, stmt, row


def _invoice_lines(f: ExportFilters, today: date | None):
    stmt = (select(InvoiceLine.id, InvoiceLine.invoice_id, Invoice.refnumber, Invoice.date,
                   Invoice.customer_id, Customer.company, InvoiceLine.line_item_id, InvoiceLine.item_id,
                   InvoiceLine.kind, InvoiceLine.is_adjustment, InvoiceLine.descrip,
                   InvoiceLine.period_start, InvoiceLine.period_end, InvoiceLine.line_rate,
                   InvoiceLine.line_quantity, InvoiceLine.amount_minor, Invoice.currency)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .join(Customer, Customer.id == Invoice.customer_id).where(Invoice.doc_type == "invoice")
            .where(*invoice_conditions(status=f.status, date_from=f.date_from, date_to=f.date_to,
                                       customer_id=f.customer_id, today=today))
            .order_by(Invoice.date.desc(), Invoice.refnumber.desc(), InvoiceLine.position, InvoiceLine.id))

    def row(r):
        return (r.invoice_id, r.refnumber, r.date, r.customer_id, r.company, r.id, r.line_item_id,
                r.item_id, r.kind, r.is_adjustment, r.descrip, r.period_start, r.period_end,
                r.line_rate, r.line_quantity, _money(r.amount_minor, r.currency), r.currency)
    header = ("invoice_id", "refnumber", "invoice_date", "customer_id", "company", "invoice_line_id",
              "line_item_id", "item_id", "kind", "is_adjustment", "descrip", "period_start",
              "period_end", "line_rate", "line_quantity", "line_total", "currency")
    return header, stmt, row


def _payments(f: ExportFilters, today: date | None):
    stmt = (select(Transaction.id, Transaction.customer_id, Customer.company, Transaction.transaction_type,
                   Transaction.transaction_date, Transaction.currency, Transaction.amount_minor,
                   Transaction.method, Transaction.reference, Transaction.credit_note_id,
                   Transaction.voided_at)
            .join(Customer, Customer.id == Transaction.customer_id)
            .order_by(Transaction.transaction_date.desc(), Transaction.id.desc()))
    if f.transaction_type:
        stmt = stmt.where(Transaction.transaction_type == f.transaction_type)
    if f.customer_id is not None:
        stmt = stmt.where(Transaction.customer_id == f.customer_id)
    if f.date_from is not None:
        stmt = stmt.where(Transaction.transaction_date >= f.date_from)
    if f.date_to is not None:
        stmt = stmt.where(Transaction.transaction_date <= f.date_to)

    def row(r):
        return (r.id, r.customer_id, r.company, r.transaction_type, r.transaction_date, r.currency,
                _money(r.amount_minor, r.currency), r.method, r.reference, r.credit_note_id, r.voided_at)
    header = ("transaction_id", "customer_id", "company", "transaction_type", "date", "currency",
              "amount", "method", "reference", "credit_note_id", "voided_at")
    return header, stmt, row


def _credit_notes(f: ExportFilters, today: date | None):
    stmt = (select(Invoice.id, Invoice.refnumber, Invoice.customer_id, Customer.company, Invoice.date,
                   Invoice.currency, Invoice.total_minor, Invoice.paid_minor, Invoice.status,
                   Invoice.voided_at)
            .join(Customer, Customer.id == Invoice.customer_id).where(Invoice.doc_type == "credit_note")
            .where(*invoice_conditions(date_from=f.date_from, date_to=f.date_to,
                                       customer_id=f.customer_id))
            .order_by(Invoice.date.desc(), Invoice.refnumber.desc()))

    def row(r):
        c, left = r.currency, 0 if r.status == InvoiceStatus.VOID else r.total_minor - r.paid_minor
        return (r.id, f"CN-{r.refnumber:04d}", r.customer_id, r.company, r.date, c,
                _money(r.total_minor, c), _money(-r.paid_minor, c), _money(left, c), r.status, r.voided_at)
    header = ("credit_note_id", "number", "customer_id", "company", "date", "currency", "total",
              "applied", "credit_left", "status", "voided_at")
    return header, stmt, row


CUSTOMER_COLUMNS = ("id", "company", "external_key", "superuser_name", "superuser_email",
                    "superuser_phone", "bill_addr1", "bill_addr2", "bill_addr3", "bill_city",
                    "bill_state", "bill_postcode", "bill_country", "currency", "created_at")


def _customers(f: ExportFilters, today: date | None):
    stmt = (select(*(getattr(Customer, name) for name in CUSTOMER_COLUMNS))
            .where(*customer_conditions(f.q)).order_by(Customer.id))
    header = ("customer_id", *CUSTOMER_COLUMNS[1:])
    return header, stmt, tuple


def _usage(f: ExportFilters, today: date | None):
    stmt = (select(UsageRecord.id, UsageRecord.line_item_id, LineItem.package_id, Package.customer_id,
                   Customer.company, Item.name, UsageRecord.usage_value, UsageRecord.from_at,
                   UsageRecord.to_at, UsageRecord.usage_type, UsageRecord.external_key,
                   UsageRecord.source, UsageRecord.created_at)
            .join(LineItem, LineItem.id == UsageRecord.line_item_id).join(Item, Item.id == LineItem.item_id)
            .join(Package, Package.id == LineItem.package_id).join(Customer, Customer.id == Package.customer_id)
            .order_by(UsageRecord.id))
    if f.line_id is not None:
        stmt = stmt.where(UsageRecord.line_item_id == f.line_id)
    if f.customer_id is not None:
        stmt = stmt.where(Package.customer_id == f.customer_id)
    tz = merchant_tz()
    if f.date_from is not None:  # days in the merchant's time zone, like the usage pages
        stmt = stmt.where(UsageRecord.from_at >= datetime.combine(f.date_from, time(), tz))
    if f.date_to is not None:
        stmt = stmt.where(UsageRecord.from_at < datetime.combine(f.date_to + timedelta(days=1), time(), tz))
    header = ("usage_id", "line_item_id", "package_id", "customer_id", "company", "item",
              "usage_value", "from", "to", "type", "external_key", "source", "created_at")
    return header, stmt, tuple


EXPORTS: dict[str, Callable] = {"invoices": _invoices, "invoice_lines": _invoice_lines,
                                "payments": _payments, "credit_notes": _credit_notes,
                                "customers": _customers, "usage": _usage}


def export_rows(kind: str, filters: ExportFilters, today: date | None = None) -> Iterator[tuple]:
    """The header, then each row of an export as Python values (streamed from the database)."""
    if kind not in EXPORTS:
        raise ValidationError("export", f"must be one of {', '.join(EXPORTS)}")
    header, stmt, row = EXPORTS[kind](filters, today)
    yield header
    for record in db.session.execute(stmt.execution_options(yield_per=YIELD_PER)):
        yield row(record)


def stream_csv(kind: str, filters: ExportFilters, today: date | None = None) -> Iterator[str]:
    """The export as CSV text, a chunk of CHUNK_ROWS rows at a time (escaped cells)."""
    rows = export_rows(kind, filters, today)
    header = next(rows)  # raises ValidationError before the response starts
    return _chunks(header, rows)


def _chunks(header: tuple, rows: Iterator[tuple]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for n, row in enumerate(rows, 1):
        writer.writerow([escape_cell(value) for value in row])
        if n % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def export_filename(kind: str, today: date) -> str:
    """The download's name, e.g. invoices-2026-11-30.csv."""
    return f"{kind.replace('_', '-')}-{today.isoformat()}.csv"

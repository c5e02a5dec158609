"""Figures of the merchant dashboard: revenue, open balance, usage, due invoices, activity.

Every figure is one aggregate query (GROUP BY in the database), whatever the table sizes
(usage: one on the day rollups and one on the records of the days not rolled);
Python only formats the few rows that come back. Months are calendar months in the
merchant time zone: invoice and payment dates are already local dates, and usage instants
are compared with local midnights. Money stays in integer minor units, per currency.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, case, func, select

from portal.billing.periods import local_floor_date, local_midnight
from portal.billing.vocabulary import DocType, InvoiceStatus, TransactionType
from portal.extensions import db
from portal.models import CsvImport, Customer, Invoice, Item, LineItem, Transaction, UsageDayRollup, UsageRecord
from portal.services import merchant_tz
from portal.services.usage_rollup_reads import raw_part, rolled_days, rolled_part

DUE_SOON_DAYS = 14
CHART_MONTHS = 12
NOT_VOID = Invoice.status != InvoiceStatus.VOID
# A refund counts against what was collected; credits are not money received.
SIGNED_AMOUNT = case((Transaction.transaction_type == TransactionType.REFUND, -Transaction.amount_minor),
                     else_=Transaction.amount_minor)


@dataclass(frozen=True)
class UsageFigure:
    """One item's usage in a window: `total` (sum) and `peak` (largest single record)."""

    item_id: int
    name: str
    units: str
    usage_type: str
    total: Decimal
    peak: Decimal
    records: int


@dataclass(frozen=True)
class MonthRevenue:
    """What was invoiced and collected in one calendar month, in one currency."""

    month: date
    currency: str
    invoiced_minor: int
    collected_minor: int


def month_start(day: date, months_back: int = 0) -> date:
    """The first day of `day`'s month, `months_back` months earlier."""
    return day.replace(day=1) - relativedelta(months=months_back)


def local_today(now: datetime) -> date:
    """The merchant's local date at the instant `now`."""
    return now.astimezone(merchant_tz()).date()


def invoiced_by_currency(first: date, end: date) -> dict[str, int]:
    """Totals of non-void invoices dated in [first, end), per currency (minor units)."""
    rows = db.session.execute(
        select(Invoice.currency, func.sum(Invoice.total_minor))
        .where(NOT_VOID, Invoice.date >= first, Invoice.date < end).group_by(Invoice.currency))
    return {currency: int(total) for currency, total in rows}


def collected_by_currency(first: date, end: date) -> dict[str, int]:
    """Payments minus refunds dated in [first, end), per currency (minor units)."""
    rows = db.session.execute(
        select(Transaction.currency, func.sum(SIGNED_AMOUNT))
        .where(Transaction.transaction_type.in_((TransactionType.PAYMENT, TransactionType.REFUND)),
               Transaction.transaction_date >= first, Transaction.transaction_date < end)
        .group_by(Transaction.currency))
    return {currency: int(total) for currency, total in rows}


def open_balance_by_currency(today: date) -> dict[str, tuple[int, int, int]]:
    """Per currency: (balance owed on open invoices, open invoice count, overdue count)."""
    overdue = func.sum(case((Invoice.due_date < today, 1), else_=0))
    rows = db.session.execute(
        select(Invoice.currency, func.sum(Invoice.total_minor - Invoice.paid_minor),
               func.count(Invoice.id), overdue)
        .where(Invoice.status == InvoiceStatus.OPEN, Invoice.doc_type == DocType.INVOICE).group_by(Invoice.currency))
    return {currency: (int(owed), int(count), int(late or 0)) for currency, owed, count, late in rows}


def _item_rows(line, total, peak, records, where, part) -> list:
    """(item id, name, plural, units, usage type, total, peak, records, part) per item and
    `part` (1 marks the given day): summed per line first, then per item (fewer rows to join)."""
    per_line = select(line.label("line"), total.label("total"), peak.label("peak"), records.label("records"),
                      part.label("part")).where(where).group_by(line, "part").subquery()
    return list(db.session.execute(
        select(Item.id, Item.name, Item.units_plural, Item.units, Item.usage_type, func.sum(per_line.c.total),
               func.max(per_line.c.peak), func.sum(per_line.c.records), per_line.c.part)
        .join(LineItem, LineItem.id == per_line.c.line).join(Item, Item.id == LineItem.item_id)
        .group_by(Item.id, Item.name, Item.units_plural, Item.units, Item.usage_type, per_line.c.part)))


def _figures(rows) -> list[UsageFigure]:
    """Per item (largest total first), from partial sums, maxima and counts."""
    figures: dict[int, UsageFigure] = {}
    for item_id, name, plural, units, usage_type, value, peak, count, _ in rows:
        known = figures.get(item_id)
        if known is not None:
            value, peak, count = value + known.total, max(peak, known.peak), count + known.records
        figures[item_id] = UsageFigure(item_id, name, plural or units or "", usage_type, value, peak, int(count))
    return sorted(figures.values(), key=lambda figure: (-figure.total, figure.name))


def usage_month_and_day(start: datetime, end: datetime, day: date) -> tuple[list, list]:
    """Usage recorded for periods starting in [start, end) (local midnights) and on the local
    `day`, per item (largest total first).

    The rolled days come from their rollups, the rest from the records, each in ONE query
    whose groups also give the day's figures (the dashboard's month and today).
    """
    tz = merchant_tz()
    first, stop = local_floor_date(start, tz), local_floor_date(end, tz)
    rolled = rolled_days(first, stop)
    on_day = and_(UsageRecord.from_at >= local_midnight(day, tz),
                  UsageRecord.from_at < local_midnight(day + timedelta(days=1), tz))
    raw = and_(UsageRecord.from_at >= start, UsageRecord.from_at < end, raw_part(rolled, first, stop))
    rows = _item_rows(UsageRecord.line_item_id, func.sum(UsageRecord.usage_value),
                      func.max(UsageRecord.usage_value), func.count(UsageRecord.id), raw, case((on_day, 1), else_=0))
    if rolled.clean_end(first, stop) > first:
        rows += _item_rows(UsageDayRollup.line_item_id, func.sum(UsageDayRollup.total),
                           func.max(UsageDayRollup.peak), func.sum(UsageDayRollup.records),
                           rolled_part(rolled, first, stop), case((UsageDayRollup.day == day, 1), else_=0))
    return _figures(rows), _figures(row for row in rows if row.part == 1)


def usage_by_item(start: datetime, end: datetime) -> list[UsageFigure]:
    """Usage recorded for periods starting in [start, end) (local midnights), per item
    (largest total first): the rolled days from their rollups, the rest from the records."""
    return usage_month_and_day(start, end, local_floor_date(start, merchant_tz()))[0]


def invoices_due(today: date, days: int = DUE_SOON_DAYS, limit: int = 10) -> list:
    """Open invoices due from today to `days` days ahead: (invoice, company) by due date."""
    return list(db.session.execute(
        select(Invoice, Customer.company).join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.status == InvoiceStatus.OPEN, Invoice.due_date >= today,
               Invoice.due_date <= today + timedelta(days=days))
        .order_by(Invoice.due_date, Invoice.refnumber).limit(limit)))


def recent_invoices(limit: int = 5) -> list:
    """The latest invoices written: (invoice, company)."""
    return list(db.session.execute(
        select(Invoice, Customer.company).join(Customer, Customer.id == Invoice.customer_id)
        .order_by(Invoice.id.desc()).limit(limit)))


def recent_payments(limit: int = 5) -> list:
    """The latest transactions recorded: (transaction, company)."""
    return list(db.session.execute(
        select(Transaction, Customer.company).join(Customer, Customer.id == Transaction.customer_id)
        .order_by(Transaction.id.desc()).limit(limit)))


def recent_imports(limit: int = 5) -> list[CsvImport]:
    """The latest CSV usage imports."""
    return list(db.session.scalars(select(CsvImport).order_by(CsvImport.id.desc()).limit(limit)))


def _by_month(column, currency, amount, first: date, end: date, where) -> dict[tuple[date, str], int]:
    """Sums of `amount` per (month of the date `column`, currency) in [first, end)."""
    year, month = func.extract("year", column), func.extract("month", column)
    rows = db.session.execute(
        select(year, month, currency, func.sum(amount))
        .where(where, column >= first, column < end).group_by(year, month, currency))
    return {(date(int(y), int(m), 1), c): int(total) for y, m, c, total in rows}


def monthly_revenue(today: date, months: int = CHART_MONTHS) -> list[MonthRevenue]:
    """Invoiced and collected per calendar month (this month and the months - 1 before)."""
    first, end = month_start(today, months - 1), month_start(today, -1)
    invoiced = _by_month(Invoice.date, Invoice.currency, Invoice.total_minor, first, end, NOT_VOID)
    collected = _by_month(Transaction.transaction_date, Transaction.currency, SIGNED_AMOUNT, first, end,
                          Transaction.transaction_type.in_((TransactionType.PAYMENT, TransactionType.REFUND)))
    currencies = sorted({c for _, c in invoiced} | {c for _, c in collected})
    return [MonthRevenue(month_start(today, back), c, invoiced.get((month_start(today, back), c), 0),
                         collected.get((month_start(today, back), c), 0))
            for c in currencies for back in range(months - 1, -1, -1)]


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows, as of one instant."""

    today: date
    invoiced_this: dict[str, int]
    invoiced_last: dict[str, int]
    collected_this: dict[str, int]
    collected_last: dict[str, int]
    open_balance: dict[str, tuple[int, int, int]]
    usage_today: list[UsageFigure]
    usage_month: list[UsageFigure]
    due_soon: list
    latest_invoices: list
    latest_payments: list
    latest_imports: list[CsvImport]
    revenue: list[MonthRevenue]  # per month and currency, oldest first (the bar chart)

    @property
    def open_owed(self) -> dict[str, int]:
        """What open invoices still owe, per currency (minor units)."""
        return {currency: row[0] for currency, row in self.open_balance.items()}

    @property
    def open_count(self) -> int:
        """How many invoices are open."""
        return sum(row[1] for row in self.open_balance.values())

    @property
    def overdue_count(self) -> int:
        """How many open invoices are past their due date."""
        return sum(row[2] for row in self.open_balance.values())

    @property
    def usage_rows(self) -> list[tuple[UsageFigure, UsageFigure | None]]:
        """Each item used this month with its usage today (None when it has none today)."""
        today = {figure.item_id: figure for figure in self.usage_today}
        return [(figure, today.get(figure.item_id)) for figure in self.usage_month]


def dashboard(now: datetime) -> Dashboard:
    """The dashboard's figures as of `now` (this month = the local calendar month of now)."""
    tz, today = merchant_tz(), local_today(now)
    this, last, following = month_start(today), month_start(today, 1), month_start(today, -1)
    usage_month, usage_today = usage_month_and_day(local_midnight(this, tz), local_midnight(following, tz), today)
    return Dashboard(
        today=today,
        invoiced_this=invoiced_by_currency(this, following),
        invoiced_last=invoiced_by_currency(last, this),
        collected_this=collected_by_currency(this, following),
        collected_last=collected_by_currency(last, this),
        open_balance=open_balance_by_currency(today),
        usage_today=usage_today, usage_month=usage_month,
        due_soon=invoices_due(today),
        latest_invoices=recent_invoices(), latest_payments=recent_payments(),
        latest_imports=recent_imports(),
        revenue=monthly_revenue(today),
    )

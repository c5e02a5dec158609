"""An estimate of the current period's bill of a package, computed WITHOUT writing anything.

The billing core runs as if the current period ended now: the in-advance charges of the
current period and the usage of the period so far are reconciled against what is already
billed (the same `draft_lines` a billing run uses), which gives what the next invoice
would still add for this period. What the period's invoices already billed is read from
their lines. No invoice, no refnumber, no flush of anything: a customer may reload the
page as often as they like.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.billing.invoicing import invoice_totals
from portal.billing.money import from_minor, quantize_money
from portal.billing.periods import Period, boundary, period_containing
from portal.billing.vocabulary import InvoiceStatus
from portal.extensions import db
from portal.models import Invoice, InvoiceLine, Package
from portal.services import merchant_tz
from portal.services.billing import BILLABLE_STATUSES
from portal.services.billing_context import RunContext
from portal.services.invoices import draft_lines
from portal.services.packages import package_anchor


@dataclass(frozen=True)
class EstimateLine:
    """One charge of the period: already invoiced (with its invoice number) or still to come."""

    descrip: str
    kind: str
    quantity: Decimal
    amount: Decimal
    refnumber: int | None = None  # the invoice that billed it; None = not billed yet


@dataclass(frozen=True)
class Estimate:
    """The current period's charges of a package as of `as_of`, or why there are none."""

    as_of: datetime
    currency: str
    period: Period | None = None
    first_day: date | None = None
    last_day: date | None = None
    billed: tuple[EstimateLine, ...] = ()
    pending: tuple[EstimateLine, ...] = ()
    billed_subtotal: Decimal = Decimal(0)
    pending_subtotal: Decimal = Decimal(0)
    subtotal: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)
    taxes: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    unavailable: str | None = None  # why no estimate is given (cancelled, suspended, ...)


def _unavailable(package: Package, now: datetime) -> str | None:
    """Why the package has no current period to estimate, or None."""
    if package.status not in BILLABLE_STATUSES:
        return "This package is not billed at the moment (it has expired)."
    if package.cancel_at is not None and package.cancel_at <= now:
        return "This package is cancelled: its final invoice settles the last period."
    first = boundary(package_anchor(package), package.paycycle, 0, merchant_tz())
    if now < first:
        return f"Billing starts on {first.astimezone(merchant_tz()).date().isoformat()}."
    return None


def _billed_lines(package: Package, period: Period) -> list[EstimateLine]:
    """The period's charges on non-void invoices of the package's lines, oldest first."""
    line_ids = [line.id for line in package.line_items]
    if not line_ids:
        return []
    rows = db.session.execute(
        select(InvoiceLine, Invoice.refnumber, Invoice.currency)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.line_item_id.in_(line_ids), InvoiceLine.period_start == period.start,
               Invoice.status != InvoiceStatus.VOID, Invoice.customer_id == package.customer_id)
        .order_by(Invoice.date, Invoice.refnumber, InvoiceLine.position))
    return [EstimateLine(line.descrip, line.kind, line.line_quantity,
                         from_minor(line.amount_minor, currency), refnumber)
            for line, refnumber, currency in rows]


def estimate_current_period(package: Package, now: datetime,
                            ctx: RunContext | None = None) -> Estimate:
    """The bill of the period containing `now`, as if it ended now; writes nothing.

    :param package: the package (its lines, items and customer are loaded as needed).
    :param now: the instant the estimate is made (aware).
    :param ctx: merchant settings and price models (read once when not given).
    :returns: already billed and still-to-bill lines with totals; tax is the customer's
        rate applied once to the period's subtotal (invoices round it per invoice, so the
        real figures may differ by a cent).
    """
    currency = package.customer.currency
    reason = _unavailable(package, now)
    if reason is not None:
        return Estimate(as_of=now, currency=currency, unavailable=reason)
    ctx = ctx or RunContext.load()
    tz = merchant_tz()
    period = period_containing(package_anchor(package), package.paycycle, now, tz)
    so_far = Period(period.start, now, period.index)  # usage up to now, keyed by the period start
    with db.session.no_autoflush:  # reading only: nothing pending may be flushed by the queries
        drafts = draft_lines(package, (period,), (so_far,), ctx)
        billed = _billed_lines(package, period)
    pending = [EstimateLine(d.descrip, d.kind, d.quantity, d.amount) for d in drafts]
    rate = ctx.tax_rate(package.customer)
    totals = invoice_totals([*billed, *pending], rate, currency)
    return Estimate(
        as_of=now, currency=currency, period=period,
        first_day=period.start.astimezone(tz).date(),
        last_day=(period.end.astimezone(tz) - timedelta(microseconds=1)).date(),
        billed=tuple(billed), pending=tuple(pending),
        billed_subtotal=quantize_money(sum((b.amount for b in billed), Decimal(0)), currency),
        pending_subtotal=quantize_money(sum((p.amount for p in pending), Decimal(0)), currency),
        subtotal=totals.subtotal, tax_rate=rate, taxes=totals.taxes, total=totals.total,
    )

"""Writing invoices (or credit notes, when negative) from the billing core's draft lines,
and voiding them."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.billing.cycles import reconciled_starts
from portal.billing.errors import ValidationError
from portal.billing.invoicing import (
    BilledCharge, DraftLine, InvoiceRequest, LineSpec, compute_invoice_lines, due_date, invoice_totals,
)
from portal.billing.money import to_minor
from portal.billing.periods import Period
from portal.billing.pricemodel import pricemodel_to_data
from portal.billing.vocabulary import InvoiceStatus
from portal.db_types import utcnow
from portal.extensions import db
from portal.services.events import record_event
from portal.models import BillingChange, Customer, Invoice, InvoiceLine, Package, TransactionApplication
from portal.services import merchant_tz
from portal.services.billing_context import RunContext
from portal.services.billing_inputs import billed_charges, line_spec, usage_by_period
from portal.services.counters import next_number
from portal.services.credit_notes import issue_credit_note, void_credit_note
from portal.services.payments import apply_customer_credit, reverse_applications
from portal.services.invoice_snapshot import build_snapshot, stored_logo
from portal.services.packages import package_anchor

REFNUMBER_SEQUENCE = "invoice_refnumber"


def _local_dates(period: Period | None) -> tuple[date | None, date | None]:
    """A period's first and last local dates (its end is exclusive)."""
    if period is None:
        return None, None
    tz = merchant_tz()
    last = period.end.astimezone(tz) - timedelta(microseconds=1)
    return period.start.astimezone(tz).date(), last.date()


def line_specs(package: Package, ctx: RunContext) -> dict[int, LineSpec]:
    """The billing core's view of each line of the package, by line item id.

    :param package: the package (its lines, their items and quantity history loaded).
    :param ctx: the run's price models.
    """
    anchor = package_anchor(package)
    return {line.id: line_spec(line, ctx.pricing(line), anchor) for line in package.line_items}


def compute_drafts(package: Package, specs: dict[int, LineSpec], advance: tuple[Period, ...],
                   usage: tuple[Period, ...], instant: datetime | None,
                   usage_values: dict[tuple[int, datetime], Decimal],
                   billed: tuple[BilledCharge, ...]) -> list[DraftLine]:
    """The billing core's lines from inputs already read (pure: no statement is sent).

    :param package: the package (its customer loaded, for the currency).
    :param specs: `line_specs` of the package.
    :param advance: periods whose in-advance charges are reconciled.
    :param usage: periods whose usage charges are reconciled.
    :param instant: the invoice's instant.
    :param usage_values: aggregates by (line_item_id, period start), see `usage_by_period`.
    :param billed: the non-void charges already billed for these lines, in billing order.
    """
    return compute_invoice_lines(InvoiceRequest(
        currency=package.customer.currency, tz=merchant_tz(), lines=tuple(specs.values()),
        advance_periods=advance, usage_periods=usage, usage=usage_values, billed=billed,
        instant=instant,
    ))


def draft_lines(package: Package, advance: tuple[Period, ...], usage: tuple[Period, ...],
                ctx: RunContext, instant: datetime | None = None) -> list[DraftLine]:
    """The billing core's lines for these periods of the package.

    :param package: the package (its lines and customer loaded).
    :param advance: periods whose in-advance charges are reconciled.
    :param usage: periods whose usage charges are reconciled.
    :param ctx: the run's settings and price models.
    :param instant: the invoice's instant (None: the latest end of the usage periods).
    """
    specs, tz = line_specs(package, ctx), merchant_tz()
    instant = instant or max((p.end for p in usage), default=None)
    starts = reconciled_starts(specs.values(), advance, usage, instant, tz)
    return compute_drafts(
        package, specs, advance, usage, instant,
        usage_by_period(list(package.line_items), specs, usage, instant, tz),
        billed_charges(list(specs), package.customer.currency, starts))


def write_invoice(package: Package, instant: datetime, final: bool, advance: tuple[Period, ...],
                  usage: tuple[Period, ...], pre_period: Period | None,
                  post_period: Period | None, ctx: RunContext,
                  kind: str | None = None) -> Invoice | None:
    """Compute and store the invoice of `package` dated at `instant`; flushes.

    Returns None (and stores nothing) when there is nothing to bill. A negative total is
    issued as a credit note (own numbering); an invoice gets the customer's available
    credit applied.
    :param package: the package, locked by the caller.
    :param instant: the boundary (or cancel instant) the invoice is dated at.
    :param final: whether this is the package's final invoice.
    :param advance: periods whose in-advance charges are reconciled.
    :param usage: periods whose usage charges are reconciled.
    :param pre_period: the in-advance period shown on the invoice.
    :param post_period: the in-arrears period shown on the invoice.
    :param ctx: the run's settings and price models.
    :param kind: the invoice kind when not implied by `final` (e.g. "adjustment").
    """
    drafts = draft_lines(package, advance, usage, ctx, instant)
    if not drafts:
        return None
    invoice = build_invoice(package, instant, drafts, (pre_period, post_period), ctx,
                            kind or ("final" if final else "recurring"), stored_logo(ctx.seller))
    if invoice.total_minor < 0:
        return issue_credit_note(invoice)
    invoice.refnumber = next_number(REFNUMBER_SEQUENCE)
    db.session.add(invoice)
    db.session.flush()
    record_event(db.session, context="invoice", context_id=invoice.id, event="insert")
    apply_customer_credit(package.customer.id)
    return invoice


def build_invoice(package: Package, instant: datetime, drafts: list[DraftLine],
                  shown: tuple[Period | None, Period | None], ctx: RunContext, kind: str,
                  logo: str | None) -> Invoice:
    """The invoice of these draft lines, with its totals and snapshot, not yet numbered nor
    added to the session (no statement is sent).

    :param package: the package (its customer and contacts loaded).
    :param instant: the boundary (or cancel instant) the invoice is dated at.
    :param drafts: the billing core's lines (not empty).
    :param shown: the in-advance and in-arrears periods shown on the invoice.
    :param ctx: the run's settings.
    :param kind: "recurring", "final" or "adjustment".
    :param logo: the logo's content hash (`stored_logo`), or None.
    """
    customer = package.customer
    invoice = _new_invoice(customer, instant, shown[0], shown[1], ctx)
    invoice.package_id = package.id
    invoice.kind = kind
    _fill(invoice, drafts)
    # What the document shows is frozen at issue (the settings as the run read them).
    invoice.snapshot = build_snapshot(invoice, customer, ctx.seller, logo)
    return invoice


def _new_invoice(customer: Customer, instant: datetime, pre: Period | None,
                 post: Period | None, ctx: RunContext) -> Invoice:
    invoice_date = instant.astimezone(merchant_tz()).date()
    terms = ctx.terms_days(customer)
    pre_from, pre_to = _local_dates(pre)
    post_from, post_to = _local_dates(post)
    return Invoice(
        customer_id=customer.id,
        boundary_at=instant, currency=customer.currency, date=invoice_date,
        due_date=due_date(invoice_date, terms), terms_days=terms,
        cycle_pre_from_date=pre_from, cycle_pre_to_date=pre_to,
        cycle_post_from_date=post_from, cycle_post_to_date=post_to,
        tax_rate=ctx.tax_rate(customer), status=InvoiceStatus.OPEN,
    )


def _fill(invoice: Invoice, drafts: list[DraftLine]) -> None:
    """Lines and totals (each line rounded by the core; tax once on the subtotal)."""
    currency = invoice.currency
    totals = invoice_totals(drafts, invoice.tax_rate, currency)
    invoice.lines = [
        InvoiceLine(
            position=i, line_item_id=d.line_item_id, item_id=d.item_id, kind=d.kind,
            is_adjustment=d.is_adjustment, period_start=d.period.start, period_end=d.period.end,
            descrip=d.descrip, line_rate=d.rate, line_quantity=d.quantity,
            amount_minor=to_minor(d.amount, currency),
            tiers=[{"tier": t.tier_index, "quantity": str(t.quantity), "amount": str(t.amount)}
                   for t in d.tiers],
            pricing=None if d.pricing is None else pricemodel_to_data(d.pricing),
        )
        for i, d in enumerate(drafts)
    ]
    invoice.sum_base_minor = to_minor(totals.sum_base, currency)
    invoice.sum_usage_minor = to_minor(totals.sum_usage, currency)
    invoice.subtotal_minor = to_minor(totals.subtotal, currency)
    invoice.taxes_minor = to_minor(totals.taxes, currency)
    invoice.total_minor = to_minor(totals.total, currency)


def _applications(invoice: Invoice) -> list[TransactionApplication]:
    return list(db.session.scalars(select(TransactionApplication).where(
        TransactionApplication.invoice_id == invoice.id)))


def is_voidable(invoice: Invoice) -> bool:
    """Whether `void_invoice` accepts it: not void, and no payment applied by the merchant."""
    return invoice.status != InvoiceStatus.VOID and all(a.automatic for a in _applications(invoice))


def void_invoice(invoice: Invoice) -> Invoice:
    """Void an invoice or credit note: its charges are released and the next run bills
    them again. Automatic credit applications are reversed (the credit returns to its
    source and goes to the customer's other open invoices); a payment the merchant applied
    to the invoice refuses the void.

    :param invoice: an open invoice without payments applied by the merchant, or a credit note.
    """
    if invoice.status == InvoiceStatus.VOID:
        raise ValidationError("invoice_id", f"invoice {invoice.id} is already void")
    if invoice.is_credit_note:
        void_credit_note(invoice)
    else:
        applications = _applications(invoice)
        if any(not a.automatic for a in applications):
            raise ValidationError("invoice_id", f"invoice {invoice.id} has payments applied; "
                                  "refund them before voiding")
        reverse_applications(list(applications))
        invoice.status, invoice.voided_at = InvoiceStatus.VOID, utcnow()
        record_event(db.session, context="invoice", context_id=invoice.id, event="voided")
    _log_released(invoice)
    db.session.flush()
    apply_customer_credit(invoice.customer_id)
    return invoice


def _log_released(invoice: Invoice) -> None:
    """Log the periods whose charges the void released, so that the package's next
    reconciliation (or, after its final invoice, an adjustment invoice) bills them again."""
    if invoice.package_id is None:
        return
    released = {(line.line_item_id, line.period_start) for line in invoice.lines
                if line.period_start is not None}
    db.session.add_all(BillingChange(package_id=invoice.package_id, line_item_id=line_id, at=at)
                       for line_id, at in sorted(released, key=lambda pair: (pair[1], pair[0] or 0)))

"""The billing run's common case in chunks: packages due at one boundary each, billed with a
handful of statements per chunk instead of ~17 per invoice (docs/billing-rules.md §7).

`bill_chunk` locks the chunk's packages (a bare `FOR UPDATE SKIP LOCKED` on PostgreSQL, the
single-writer UPDATE on SQLite), loads them with their customers, lines and histories, reads
the change log, every usage aggregate and the billed charges of the periods the chunk's
invoices reconcile in one statement
per kind (`services/billing_chunk_inputs.py`), computes each invoice with the same pure code
as the per-package path (`billing_plan.plan_boundary`, `invoices.compute_drafts`,
`invoices.build_invoice`), and writes the invoices, their lines, their e-mail deliveries, the
consumed change-log rows and the packages' next dates with one executemany statement each;
it only flushes (`portal.jobs.billing` commits the chunk as one transaction).

Nothing of a package is written before the chunk's writes, so a package whose computation
fails is simply left to the per-package path (which then fails or succeeds alone), and a
failing write rolls the whole chunk back, whose packages then go one by one.

What the chunk leaves to the per-package path (`services/billing.invoice_next_boundary`),
which handles every case: packages not due at a boundary (adjustment invoices), final
invoices, catch-up (another boundary due after this one), credit notes (a negative total),
customers with credit to apply, and every package while a webhook endpoint subscribes to
new invoices (events are recorded one by one).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, inspect, insert, select, update
from sqlalchemy.orm import joinedload, selectinload

from portal.billing.cycles import line_usage_periods, reconciled_starts
from portal.extensions import db
from portal.billing.periods import Period
from portal.models import Counter, Customer, EmailDelivery, Invoice, InvoiceLine, LineItem, Package
from portal.services import invoices, merchant_tz
from portal.services.billing import still_due
from portal.services.billing_chunk_inputs import (
    Change, chunk_billed, chunk_usage, consume_chunk_changes, customers_with_credit, restore_changes,
)
from portal.services.billing_context import RunContext
from portal.services.billing_plan import BoundaryPlan, boundary_span, plan_boundary
from portal.services.counters import next_numbers
from portal.services.events import subscribers
from portal.services.invoice_snapshot import stored_logo
from portal.services.mail import issued_invoice_delivery

log = logging.getLogger("meterbill.billing")


@dataclass
class ChunkResult:
    """What `bill_chunk` did: the invoices it wrote, in order, and the packages it left."""

    invoice_ids: list[int] = field(default_factory=list)
    left: list[int] = field(default_factory=list)


@dataclass
class _Bill:
    """One package's invoice in the making."""

    package: Package
    changes: list[Change]
    plan: BoundaryPlan | None = None
    invoice: Invoice | None = None


def bill_chunk(package_ids: list[int], now: datetime, ctx: RunContext) -> ChunkResult:
    """Bill the packages of the chunk that are due at one boundary; flushes only.

    :param package_ids: the chunk, in the run's order (a package another run holds is skipped).
    :param now: the run's instant.
    :param ctx: the run's settings and price models.
    :returns: the invoices written and the packages left to the per-package path.
    """
    packages = _lock_and_load(package_ids, now)
    if subscribers(db.session, "invoice.insert"):  # each event is recorded per invoice
        return ChunkResult(left=[p.id for p in packages])
    windows = _windows(packages, now)
    changes = consume_chunk_changes(windows)
    bills = [_Bill(p, changes[p.id]) for p in packages if p.id in windows]
    bills = _number(_compute(_plan(bills), ctx))
    taken = {bill.package.id for bill in bills}
    restore_changes({k: found for k, found in changes.items() if k not in taken})
    result = ChunkResult(left=[p.id for p in packages if p.id not in taken])
    if bills:
        result.invoice_ids = _write(bills, ctx)
    return result


def _lock_and_load(package_ids: list[int], now: datetime) -> list[Package]:
    """The chunk's packages still due, locked for this transaction, with what invoices need
    (a few statements for the chunk), in the chunk's order."""
    due = (Package.id.in_(package_ids), still_due(now))
    if db.engine.dialect.name == "postgresql":
        locked = list(db.session.scalars(select(Package.id).where(*due).with_for_update(skip_locked=True)))
    else:  # the write makes this transaction SQLite's single writer until commit
        db.session.execute(update(Package.__table__).where(Package.__table__.c.id.in_(package_ids))
                           .values(id=Package.__table__.c.id))
        locked = list(db.session.scalars(select(Package.id).where(*due)))
    if not locked:
        return []
    lines = selectinload(Package.line_items)
    stmt = (select(Package).where(Package.id.in_(locked))
            .options(joinedload(Package.customer, innerjoin=True).selectinload(Customer.contacts),
                     selectinload(Package.suspensions),
                     lines.joinedload(LineItem.item, innerjoin=True),
                     lines.selectinload(LineItem.quantity_changes)))
    packages = db.session.scalars(stmt.execution_options(populate_existing=True)).unique()
    order = {package_id: k for k, package_id in enumerate(package_ids)}
    return sorted(packages, key=lambda p: order[p.id])


def _windows(packages: list[Package], now: datetime) -> dict[int, Period | None]:
    """The packages the chunk bills, each with the period that just ended (None for a
    first invoice): due at a boundary that is not its final invoice, no further boundary
    due (catch-up goes per package), and no credit to apply to its customer as far as can
    be seen before the customers are locked (checked again under the lock)."""
    credit = customers_with_credit(sorted({p.customer_id for p in packages}))
    windows = {}
    for package in packages:
        instant = package.next_invoice_at
        if instant is None or package.customer_id in credit or (
                package.cancel_at is not None and package.cancel_at <= instant):
            continue
        try:
            previous, following = boundary_span(package, instant)
        except Exception:  # the per-package path bills it, or fails on it alone and says why
            continue
        if following > now:
            windows[package.id] = previous
    return windows


def _plan(bills: list[_Bill]) -> list[_Bill]:
    """Each bill's periods (`billing_plan.plan_boundary`, as the per-package path)."""
    planned = []
    for bill in bills:
        try:
            bill.plan = plan_boundary(bill.package, bill.package.next_invoice_at, False,
                                      [at for _, at in bill.changes])
        except Exception:
            continue
        planned.append(bill)
    return planned


def _compute(bills: list[_Bill], ctx: RunContext) -> list[_Bill]:
    """Each bill's invoice (None: nothing to bill), from the chunk's inputs read at once; a
    bill whose computation fails or gives a credit note is dropped (per-package path)."""
    specs, wanted, starts = _inputs_wanted(bills, ctx)
    usage, billed = chunk_usage(wanted), chunk_billed([bill.package for bill in bills], starts)
    logo = stored_logo(ctx.seller)
    for bill in list(bills):
        package, plan = bill.package, bill.plan
        try:
            drafts = invoices.compute_drafts(package, specs[package.id], plan.advance, plan.usage,
                                             package.next_invoice_at, usage, billed[package.id])
            if drafts:
                bill.invoice = invoices.build_invoice(
                    package, package.next_invoice_at, drafts, (plan.pre_period, plan.post_period),
                    ctx, "recurring", logo)
        except Exception:
            bills.remove(bill)
            continue
        if bill.invoice is not None and bill.invoice.total_minor < 0:
            bills.remove(bill)  # a credit note: its own numbering and credit application
    return bills


def _inputs_wanted(bills: list[_Bill], ctx: RunContext):
    """Each bill's line specs, the usage windows and billed periods the chunk reads; a bill
    whose lines cannot be specified (a price model that fails to load, say) is dropped
    from `bills` (per-package path) rather than sending the whole chunk there."""
    tz, specs, wanted, starts = merchant_tz(), {}, [], set()
    for bill in list(bills):
        package, instant, plan = bill.package, bill.package.next_invoice_at, bill.plan
        try:
            mine = invoices.line_specs(package, ctx)
            windows = [(mine[line.id], line.item.usage_type, period)
                       for line in package.line_items if line.item.is_metered
                       for period in line_usage_periods(mine[line.id], plan.usage, instant, tz)]
            periods = reconciled_starts(mine.values(), plan.advance, plan.usage, instant, tz)
        except Exception:
            bills.remove(bill)
            continue
        specs[package.id] = mine
        wanted += windows
        starts |= periods
    return specs, wanted, starts


def _number(bills: list[_Bill]) -> list[_Bill]:
    """Lock the refnumber counter, then the customers (the order every invoice writer
    takes them in), drop the bills of customers with credit to apply, and number the rest
    in order with one counter update: the counter is held from here to the commit only.
    (SQLite: this transaction is the single writer since its first statement; the check
    before the consumption of the change log still holds.)"""
    if bills and db.engine.dialect.name == "postgresql":
        db.session.execute(select(Counter.value).where(Counter.name == invoices.REFNUMBER_SEQUENCE)
                           .with_for_update())
        customer_ids = sorted({bill.package.customer_id for bill in bills})
        # A payment locks its customer to apply credit: it waits for this chunk, or the
        # chunk sees its credit (and leaves that customer's packages to the per-package path).
        db.session.execute(select(Customer.id).where(Customer.id.in_(customer_ids))
                           .order_by(Customer.id).with_for_update(read=True))
        credit = customers_with_credit(customer_ids)
        bills = [bill for bill in bills if bill.package.customer_id not in credit]
    numbered = [bill.invoice for bill in bills if bill.invoice is not None]
    if numbered:
        last = next_numbers(invoices.REFNUMBER_SEQUENCE, len(numbered))
        for k, invoice in enumerate(numbered):
            invoice.refnumber = last - len(numbered) + 1 + k
    return bills


def _write(bills: list[_Bill], ctx: RunContext) -> list[int]:
    """Write the chunk: invoices, lines, deliveries, next dates."""
    written = [bill for bill in bills if bill.invoice is not None]
    ids = []
    if written:
        table = Invoice.__table__
        ids = list(db.session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                      [_columns(bill.invoice) for bill in written]))
        for bill, invoice_id in zip(written, ids, strict=True):
            bill.invoice.id = invoice_id
        _write_lines_and_mail(written, ctx)
    table = Package.__table__
    db.session.execute(update(table).where(table.c.id == bindparam("b_id"))
                       .values(next_invoice_at=bindparam("b_next")),
                       [{"b_id": bill.package.id, "b_next": bill.plan.next_at} for bill in bills])
    return ids


def _write_lines_and_mail(written: list[_Bill], ctx: RunContext) -> None:
    lines = [_columns(line) | {"invoice_id": bill.invoice.id}
             for bill in written for line in bill.invoice.lines]
    if lines:
        db.session.execute(insert(InvoiceLine.__table__), lines)
    deliveries = [issued_invoice_delivery(bill.invoice, customer=bill.package.customer,
                                          company_name=ctx.company_name, email_zero=ctx.email_zero_invoices)
                  for bill in written]
    deliveries = [d for d in deliveries if d is not None]
    if deliveries:
        db.session.execute(insert(EmailDelivery.__table__), deliveries)


def _columns(obj) -> dict:
    """The column values set on a transient ORM object (the table's defaults fill the rest,
    as they would when the session inserts it)."""
    state = obj.__dict__
    return {attr.columns[0].key: state[attr.key] for attr in inspect(type(obj)).column_attrs
            if attr.key in state}

"""The billing run: every due package gets its invoices, each in its own transaction.

Safety (docs/billing-rules.md §7): a package is taken under a row lock (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; on SQLite a write at the start of the transaction makes it the single writer),
and the unique key (package_id, boundary_at) refuses a second invoice for the same boundary
whatever happens, so concurrent runs, retries and crashes can never double-bill. Because
the invoice is a reconciliation (target − already billed), a run after downtime catches up
one invoice per missed boundary, and late usage or voided charges are settled on the next
invoice. This service only flushes: `portal.jobs.billing` owns the transactions (one per
invoice: the lock, the invoice, its lines, its e-mail and the package's next date commit
together).

Which periods an invoice reconciles (no time window): the current one (in advance), the one
that just ended (usage), every period that contains an instant of a line's history (start,
trial end, cancel, quantity change: a billed period keeps its price model, so revisiting it
only bills what its history changed), and every period named in the package's change log
(late usage, voided charges; see `portal.models.billing_changes`). After its final invoice a
cancelled package is billed again, on an "adjustment" invoice, whenever its log has rows.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, text
from sqlalchemy.orm import joinedload

from portal.billing.errors import ValidationError
from portal.billing.vocabulary import ACTIVE_PACKAGE_STATUSES, PackageStatus
from portal.extensions import db
from portal.models import BillingChange, Customer, Invoice, LineItem, Package
from portal.services.billing_context import RunContext
from portal.services.billing_inputs import consume_changes
from portal.services.billing_plan import history_periods, lifetime_periods, merge, periods_of, plan_boundary
from portal.services.invoices import write_invoice
from portal.services.mail import queue_issued_invoice_email
from portal.services.packages import end_package
from portal.services.package_periods import package_usage_period
from portal.services.usage_pulls import pulls_ready  # a pulled usage URL must answer first

log = logging.getLogger("meterbill.billing")
# A suspended package is billed too: its suspended days are prorated out, its usage billed.
BILLABLE_STATUSES = (*ACTIVE_PACKAGE_STATUSES, PackageStatus.SUSPENDED, PackageStatus.CANCELED,
                     PackageStatus.CANCELED_NONPAYMENT)


def _finalized(now: datetime):
    """A package whose final invoice is issued (cancelled before `now`, nothing scheduled)."""
    return and_(Package.next_invoice_at.is_(None), Package.cancel_at.is_not(None),
                Package.cancel_at < now)


def due_package_ids(now: datetime, shard: tuple[int, int] = (0, 1)) -> list[int]:
    """Ids of packages with an invoice due at or before `now` (suspended ones included), then
    of finalized packages whose change log has rows (late usage, voids after the final invoice).

    :param now: the run's instant.
    :param shard: (k, n): only packages whose id % n == k, so n workers split the work.
    """
    k, n = shard
    due = select(Package.id).where(Package.next_invoice_at <= now,
                                   Package.status.in_(BILLABLE_STATUSES), pulls_ready())
    changed = select(Package.id).where(
        _finalized(now), Package.status.in_(BILLABLE_STATUSES),
        exists().where(BillingChange.package_id == Package.id))
    if n > 1:
        due, changed = due.where(Package.id % n == k), changed.where(Package.id % n == k)
    ids = list(db.session.scalars(due.order_by(Package.next_invoice_at, Package.id)))
    ids += db.session.scalars(changed.order_by(Package.id))
    return ids


def invoice_next_boundary(package_id: int, now: datetime, ctx: RunContext) -> tuple[bool, int | None]:
    """Lock the package, write its next due invoice and advance it; flushes (the caller,
    `portal.jobs.billing`, commits: one transaction per invoice).

    :returns: (whether another boundary is already due, the new invoice's id or None);
        (False, None) when the package is not due any more or another run holds it.
    """
    package = _lock_due(package_id, now)
    if package is None:
        return False, None
    if package.next_invoice_at is None:
        invoice = _invoice_changes(package, now, ctx)
    else:
        invoice = _invoice_boundary(package, ctx)
    db.session.flush()
    invoice_id = invoice.id if invoice is not None else None
    still_due = package.next_invoice_at is not None and package.next_invoice_at <= now
    return still_due, invoice_id


def still_due(now: datetime):
    """The condition a package is billed under, checked again under its lock: billable,
    and due at a boundary whose pulled usage URLs answered, or finalized (its change log
    is checked by the caller's invoice)."""
    return and_(Package.status.in_(BILLABLE_STATUSES),
                or_(and_(Package.next_invoice_at <= now, pulls_ready()), _finalized(now)))


def _lock_due(package_id: int, now: datetime) -> Package | None:
    """The package, locked for this transaction, if it is still due: a bare row lock (`FOR
    UPDATE SKIP LOCKED` on PostgreSQL; on SQLite a write makes this transaction the single
    writer until commit), then everything the invoice needs in one joined query (a package
    has few lines, contacts, suspensions and quantity changes: the joined rows stay few)."""
    due = (Package.id == package_id, still_due(now))
    if db.engine.dialect.name == "postgresql":
        locked = db.session.scalar(select(Package.id).where(*due).with_for_update(skip_locked=True))
        if locked is None:
            return None
    else:
        db.session.execute(text("UPDATE packages SET id = id WHERE id = :id"), {"id": package_id})
    stmt = (select(Package).where(*due)
            .options(joinedload(Package.customer, innerjoin=True).joinedload(Customer.contacts),
                     joinedload(Package.suspensions),
                     joinedload(Package.line_items).joinedload(LineItem.item, innerjoin=True),
                     joinedload(Package.line_items).joinedload(LineItem.quantity_changes)))
    return db.session.execute(stmt.execution_options(populate_existing=True)).unique().scalar_one_or_none()


def _invoice_boundary(package: Package, ctx: RunContext) -> Invoice | None:
    """Invoice the boundary `next_invoice_at` (or the cancel instant) and advance."""
    instant = package.next_invoice_at
    final = package.cancel_at is not None and package.cancel_at <= instant
    if final:
        instant = package.cancel_at
        end_package(package)  # a scheduled cancel takes effect with its final invoice
    # The log's changes before the instant (all of them for the final invoice: its usage
    # period is the current one) are consumed in this invoice's transaction.
    plan = plan_boundary(package, instant, final, consume_changes(package.id, None if final else instant))
    # A cancel exactly at an already invoiced boundary: the final invoice is dated one
    # microsecond later (still unique per package, so concurrent runs still collide).
    dated = instant + timedelta(microseconds=1) if final and _invoiced_at(package, instant) else instant
    invoice = write_invoice(package, dated, final, plan.advance, plan.usage,
                            pre_period=plan.pre_period, post_period=plan.post_period, ctx=ctx)
    package.next_invoice_at = plan.next_at
    if invoice is not None:
        _queue_email(invoice, package, ctx)
    return invoice


def _invoiced_at(package: Package, instant: datetime) -> bool:
    return db.session.scalar(select(exists().where(
        Invoice.package_id == package.id, Invoice.boundary_at == instant)))


def _invoice_changes(package: Package, now: datetime, ctx: RunContext) -> Invoice | None:
    """After the final invoice: reconcile the periods the change log names (late usage,
    voided charges) on an "adjustment" invoice dated `now`."""
    last = package_usage_period(package, package.cancel_at).index
    changed = [p for p in periods_of(package, consume_changes(package.id, None), hold=True)
               if p.index <= last]
    if not changed:
        return None
    periods = merge([p for p in changed + history_periods(package) if 0 <= p.index <= last])
    usage = merge([p for p in changed + lifetime_periods(package) if p.index <= last])
    invoice = write_invoice(package, now, False, periods, usage, pre_period=None,
                            post_period=None, ctx=ctx, kind="adjustment")
    if invoice is not None:
        _queue_email(invoice, package, ctx)
    return invoice


def _queue_email(invoice: Invoice, package: Package, ctx: RunContext) -> None:
    """Queue the invoice e-mail in the invoice's own transaction (sent by the mail job)."""
    try:
        queue_issued_invoice_email(invoice, customer=package.customer, company_name=ctx.company_name,
                                   email_zero=ctx.email_zero_invoices)
    except ValidationError:
        log.info("Invoice %s: the customer has no billing e-mail; not sent", invoice.id)

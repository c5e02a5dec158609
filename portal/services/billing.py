"""The billing run: every due package gets its invoices, each in its own transaction.

Safety (DESIGN.md §7): a package is taken under a row lock (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; on SQLite a write at the start of the transaction makes it the single writer),
and the unique key (package_id, boundary_at) refuses a second invoice for the same boundary
whatever happens, so concurrent runs, retries and crashes can never double-bill. Because
the invoice is a reconciliation (target − already billed), a run after downtime catches up
one invoice per missed boundary, and late usage or voided charges are settled on the next
invoice. This service commits (one transaction per invoice): it is the transaction owner.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from portal.billing.errors import ValidationError
from portal.billing.periods import Period, boundary, period_at, period_containing
from portal.extensions import db
from portal.models import Customer, Invoice, LineItem, Package
from portal.services import merchant_tz
from portal.services.billing_context import RunContext
from portal.services.billing_inputs import changed_since, last_invoiced_at
from portal.services.invoices import write_invoice
from portal.services.mail import queue_issued_invoice_email
from portal.services.packages import end_package, package_anchor
from portal.services.package_periods import package_hold_period, package_usage_period
from portal.services.suspensions import suspension_instants, sync_suspension_states

log = logging.getLogger("meterbill.billing")
# A suspended package is billed too: its suspended days are prorated out, its usage billed.
BILLABLE_STATUSES = ("active-current", "active-trial", "active-overdue", "suspended-suspended",
                     "canceled-manual", "canceled-nonpayment")
# Boundaries billed for one package in one call; the rest waits for the next call or run.
MAX_BOUNDARIES_PER_CALL = 100
# Usage committed up to this long after a run started may have been missed by it.
LATE_MARGIN = timedelta(minutes=10)


@dataclass
class RunSummary:
    """What a run did."""

    packages: int = 0
    invoice_ids: list[int] = field(default_factory=list)
    failures: int = 0


def due_package_ids(now: datetime, shard: tuple[int, int] = (0, 1)) -> list[int]:
    """Ids of packages with an invoice due at or before `now` (suspended ones included).

    :param now: the run's instant.
    :param shard: (k, n): only packages whose id % n == k, so n workers split the work.
    """
    k, n = shard
    stmt = select(Package.id).where(Package.next_invoice_at <= now,
                                    Package.status.in_(BILLABLE_STATUSES))
    if n > 1:
        stmt = stmt.where(Package.id % n == k)
    ids = list(db.session.scalars(stmt.order_by(Package.next_invoice_at, Package.id)))
    # End the transaction before taking locks; the run owns its transactions, so whatever
    # the caller left pending is committed here rather than silently lost.
    db.session.commit()
    return ids


def run_billing(now: datetime, shard: tuple[int, int] = (0, 1)) -> RunSummary:
    """Bill every package due as of `now`, catching up every missed boundary.

    :param now: the run's instant (the scheduler passes the current time).
    :param shard: (k, n) to bill only the k-th of n shards (see `run_billing_parallel`).
    """
    summary = RunSummary()
    ctx = RunContext.load()
    sync_suspension_states(now)  # committed by due_package_ids
    for package_id in due_package_ids(now, shard):
        summary.packages += 1
        try:
            summary.invoice_ids += bill_due(package_id, now, ctx)
        except Exception:  # one broken package must not stop the others
            db.session.rollback()
            summary.failures += 1
            log.exception("Billing package %s failed", package_id)
    return summary


def bill_due(package_id: int, now: datetime, ctx: RunContext | None = None) -> list[int]:
    """The invoices of one package due as of `now`, at most MAX_BOUNDARIES_PER_CALL of them
    (a daily package restarted years back must not hold a request or a run for minutes;
    the next call or run carries on where this one stopped); returns their ids."""
    ctx = ctx or RunContext.load()
    invoice_ids = []
    for _ in range(MAX_BOUNDARIES_PER_CALL):
        still_due, invoice_id = bill_next_boundary(package_id, now, ctx)
        if invoice_id is not None:
            invoice_ids.append(invoice_id)
        if not still_due:
            break
    return invoice_ids


def bill_package_now(package: Package, now: datetime) -> list[Invoice]:
    """The API/portal action "invoice now": bill what is due as of `now`.

    Nothing is billed early: a package whose next boundary is in the future gets no
    invoice (its usage period has not ended).
    :param package: the package.
    :param now: the instant.
    """
    ids = bill_due(package.id, now, RunContext.load())
    return [db.session.get(Invoice, i) for i in ids]


def bill_next_boundary(package_id: int, now: datetime, ctx: RunContext) -> tuple[bool, int | None]:
    """Write the package's next due invoice and advance it, in one transaction.

    :returns: (whether another boundary is already due, the new invoice's id or None).
    """
    try:
        package = _lock_due(package_id, now)
        if package is None:
            db.session.rollback()
            return False, None
        invoice = _invoice_boundary(package, ctx)
        invoice_id = invoice.id if invoice is not None else None
        still_due = package.next_invoice_at is not None and package.next_invoice_at <= now
        db.session.commit()
        return still_due, invoice_id
    except IntegrityError:
        # Another process wrote this boundary's invoice first: nothing to do here.
        db.session.rollback()
        log.info("Package %s: boundary already invoiced by another run", package_id)
        return False, None


def _lock_due(package_id: int, now: datetime) -> Package | None:
    """The package, locked for this transaction, if it is still due."""
    stmt = (select(Package)
            .where(Package.id == package_id, Package.next_invoice_at <= now,
                   Package.status.in_(BILLABLE_STATUSES))
            # Everything the invoice needs, in three round trips instead of lazy loads.
            .options(joinedload(Package.customer, innerjoin=True).selectinload(Customer.contacts),
                     selectinload(Package.line_items).joinedload(LineItem.item, innerjoin=True),
                     selectinload(Package.line_items).selectinload(LineItem.quantity_changes)))
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Package, skip_locked=True)
    else:
        # SQLite: a write first makes this transaction the single writer until commit.
        db.session.execute(text("UPDATE packages SET id = id WHERE id = :id"), {"id": package_id})
    return db.session.scalar(stmt.execution_options(populate_existing=True))


def _invoice_boundary(package: Package, ctx: RunContext) -> Invoice | None:
    """Invoice the boundary `next_invoice_at` (or the cancel instant) and advance."""
    tz, anchor = merchant_tz(), package_anchor(package)
    instant = package.next_invoice_at
    final = package.cancel_at is not None and package.cancel_at <= instant
    if final:
        instant = package.cancel_at
        end_package(package)  # a scheduled cancel takes effect with its final invoice
    current = period_containing(anchor, package.paycycle, instant, tz)
    previous = period_at(anchor, package.paycycle, current.index - 1, tz) if current.index > 0 else None
    # Usage of a holduntil hold goes on the first invoice (and on a final one during the hold).
    hold = package_hold_period(package, until=instant) if current.index <= 0 else None
    # The previous period is revisited only when a line changed in it (a mid-period start,
    # cancel or quantity change): otherwise a catalog price change would re-price it.
    revisit = previous is not None and _changed_during(package, previous)
    advance = [previous, current] if revisit else [current]
    usage = [previous] if previous is not None else [hold] if hold is not None else []
    if current.index < 0:  # canceled during its hold: only the hold's usage is billed
        advance = []
    elif instant > current.start:  # a final invoice mid-period bills usage up to the cancel
        usage.append(Period(current.start, instant, current.index))
    late = _late_periods(package, anchor, (previous or current).start)
    invoice = write_invoice(package, instant, final, _merge(advance, late), _merge(usage, late),
                            pre_period=None if final else current,
                            post_period=usage[-1] if usage else None, ctx=ctx)
    package.next_invoice_at = _next_instant(package, anchor, current, final)
    if invoice is not None:
        _queue_email(invoice, package, ctx)
    return invoice


def _queue_email(invoice: Invoice, package: Package, ctx: RunContext) -> None:
    """Queue the invoice e-mail in the invoice's own transaction (sent by the mail job)."""
    try:
        queue_issued_invoice_email(invoice, customer=package.customer, company_name=ctx.company_name)
    except ValidationError:
        log.info("Invoice %s: the customer has no billing e-mail; not sent", invoice.id)


def _changed_during(package: Package, period: Period) -> bool:
    """Whether a line started, stopped or changed quantity inside the period."""
    def inside(instant):
        return instant is not None and period.start < instant < period.end
    return any(
        inside(line.subscribe_at) or inside(line.cancel_at)
        or any(inside(change.effective_at) for change in line.quantity_changes)
        for line in package.line_items
    ) or any(inside(instant) for instant in suspension_instants(package))


def _late_periods(package: Package, anchor, before: datetime) -> list[Period]:
    """Older periods whose usage arrived, or whose charges were voided, since the last run."""
    since = last_invoiced_at(package)
    instants = changed_since(package, since - LATE_MARGIN if since else None, before)
    periods = {p.start: p for p in (package_usage_period(package, i) for i in instants) if p}
    return list(periods.values())


def _merge(periods: list[Period], extra: list[Period]) -> tuple[Period, ...]:
    """Periods by start, the explicit ones winning (a truncated final period keeps its end)."""
    merged = {p.start: p for p in extra}
    merged.update({p.start: p for p in periods})
    return tuple(sorted(merged.values(), key=lambda p: p.start))


def _next_instant(package: Package, anchor, current: Period, final: bool) -> datetime | None:
    """The next boundary (or the cancel instant when it comes first); None after the final."""
    if final:
        return None
    following = boundary(anchor, package.paycycle, current.index + 1, merchant_tz())
    if package.cancel_at is not None and package.cancel_at < following:
        return package.cancel_at
    return following

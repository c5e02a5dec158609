"""What the billing core needs for a whole chunk of packages, read in a few statements.

The per-package path (`services/billing_inputs.py`) sends one statement per (line, period)
aggregate and one for the billed charges of each package; a chunk of packages due at the
same boundaries shares its usage windows, so one grouped statement per window, one for
every billed charge and one for the change log serve the chunk. Each result is exactly what
the per-package read gives (same SQL aggregates, same order of billed charges).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, and_, cast, delete, false, func, insert, literal, not_, null, or_, select, union_all

from portal.billing.invoicing import BilledCharge, LineSpec
from portal.billing.periods import Period
from portal.billing.pricing import PriceModel
from portal.billing.vocabulary import TransactionType
from portal.db_types import UTCDateTime
from portal.extensions import db
from portal.models import BillingChange, Package, Transaction, TransactionApplication, UsageRecord
from portal.services.billing_inputs import billed_charge, billed_rows, usage_bounds

# One wanted aggregate: the line, its usage type ("add", "max", "lat") and the period.
Wanted = tuple[LineSpec, str, Period]


def chunk_usage(wanted: Iterable[Wanted]) -> dict[tuple[int, datetime], Decimal]:
    """The aggregates `usage_aggregate` gives, keyed (line_item_id, period.start), with one
    statement per distinct (usage type, window) instead of one per (line, period).

    :param wanted: the (line, usage type, period) triples of the chunk.
    """
    result, groups = {}, defaultdict(list)
    for spec, usage_type, period in wanted:
        start, end = usage_bounds(spec, period)
        result[(spec.line_item_id, period.start)] = Decimal(0)  # no record: nothing used
        if start < end:
            groups[(usage_type, start, end)].append((spec.line_item_id, period.start))
    for (usage_type, start, end), keys in groups.items():
        by_line = defaultdict(list)
        for line_id, at in keys:
            by_line[line_id].append(at)
        for line_id, value in db.session.execute(_window_query(usage_type, list(by_line), start, end)):
            for at in by_line[line_id] if value is not None else ():
                result[(line_id, at)] = value
    return result


def _window_query(usage_type: str, line_ids: list[int], start: datetime, end: datetime):
    """(line_item_id, aggregate) of these lines' records with `from` in [start, end)."""
    window = and_(UsageRecord.line_item_id.in_(line_ids), UsageRecord.from_at >= start,
                  UsageRecord.from_at < end)
    if usage_type == "lat":
        # Latest by `from`; ties broken by arrival order (the id), as `usage_aggregate`.
        ranked = select(UsageRecord.line_item_id, UsageRecord.usage_value, func.row_number().over(
            partition_by=UsageRecord.line_item_id,
            order_by=(UsageRecord.from_at.desc(), UsageRecord.id.desc())).label("rank")).where(window).subquery()
        return select(ranked.c.line_item_id, ranked.c.usage_value).where(ranked.c.rank == 1)
    aggregate = {"add": func.sum, "max": func.max}[usage_type](UsageRecord.usage_value)
    return select(UsageRecord.line_item_id, aggregate).where(window).group_by(UsageRecord.line_item_id)


def chunk_billed(packages: list[Package], starts: set[datetime]) -> dict[int, tuple[BilledCharge, ...]]:
    """`billed_charges` of each package (every non-void charge of its lines in the periods
    starting at `starts`, and their setup fees, in billing order, in its currency), by
    package id, from one statement.

    :param packages: the packages, with their lines and customers loaded.
    :param starts: the starts of the periods the chunk's invoices reconcile.
    """
    owner = {line.id: package for package in packages for line in package.line_items}
    found: dict[int, list[BilledCharge]] = {package.id: [] for package in packages}
    models: dict[str, PriceModel] = {}
    if owner:
        for row in billed_rows(list(owner), starts):  # in billing order: each package's share keeps it
            package = owner[row.line_item_id]
            found[package.id].append(billed_charge(row, package.customer.currency, models))
    return {package_id: tuple(charges) for package_id, charges in found.items()}


# A consumed change-log row: (line_item_id or None, at).
Change = tuple[int | None, datetime]


def consume_chunk_changes(windows: dict[int, Period | None]) -> dict[int, list[Change]]:
    """Delete the change-log rows each package's invoice at its `next_invoice_at` consumes
    (those before it, as `billing_inputs.consume_changes`) in one statement, and return
    them by package id. The rows of the period that just ended (every on-time usage record
    of it logs one) come back as one row, their latest instant: the invoice reconciles
    that period whether it has one row or a thousand (`billing_plan.periods_of`), and the
    latest row is in it whenever any is (earlier ones may precede the package's start).

    :param windows: package id → the period that just ended (None: every row comes back).
    """
    found: dict[int, list[Change]] = {package_id: [] for package_id in windows}
    if not windows:
        return found
    postgresql = db.engine.dialect.name == "postgresql"
    # PostgreSQL joins the packages (DELETE ... USING); SQLite reads each one's date.
    before = Package.next_invoice_at if postgresql else (
        select(Package.next_invoice_at).where(Package.id == BillingChange.package_id).scalar_subquery())
    gone = delete(BillingChange).where(BillingChange.package_id.in_(list(windows)), BillingChange.at < before)
    if postgresql:
        gone = gone.where(Package.id == BillingChange.package_id)
    gone = gone.returning(BillingChange.package_id, BillingChange.line_item_id, BillingChange.at)
    if not postgresql:  # no DELETE in a WITH: collapsed here
        rows = db.session.execute(gone.execution_options(synchronize_session=False))
        latest: dict[int, datetime] = {}
        for package_id, line_id, at in rows:
            period = windows[package_id]
            if period is not None and period.start <= at < period.end:
                latest[package_id] = max(at, latest.get(package_id, at))
            else:
                found[package_id].append((line_id, at))
        rows = [(package_id, None, at) for package_id, at in latest.items()]
    else:
        rows = db.session.execute(_collapsed(gone.cte("gone"), windows))
    for package_id, line_id, at in rows:
        found[package_id].append((line_id, at))
    return found


def _collapsed(gone, windows: dict[int, Period | None]):
    """The deleted rows outside each package's window as they are, and one row (the latest)
    per package for those inside."""
    packages_by_window = defaultdict(list)  # the packages of a chunk share few windows
    for package_id, period in windows.items():
        if period is not None:
            packages_by_window[(period.start, period.end)].append(package_id)
    inside = or_(false(), *(and_(gone.c.package_id.in_(ids), gone.c.at >= literal(start, UTCDateTime()),
                                 gone.c.at < literal(end, UTCDateTime()))
                            for (start, end), ids in packages_by_window.items()))
    late = select(gone.c.package_id, gone.c.line_item_id, gone.c.at).where(not_(inside))
    latest = (select(gone.c.package_id, cast(null(), Integer), func.max(gone.c.at))
              .where(inside).group_by(gone.c.package_id))
    return union_all(late, latest)


def restore_changes(changes: dict[int, list[Change]]) -> None:
    """Put consumed rows back (a package the chunk consumed for and then left to the
    per-package path: its invoice consumes them there, reconciling the same periods).

    :param changes: package id → its consumed rows.
    """
    rows = [{"package_id": package_id, "line_item_id": line_id, "at": at}
            for package_id, found in changes.items() for line_id, at in found]
    if rows:
        db.session.execute(insert(BillingChange.__table__), rows)


def customers_with_credit(customer_ids: list[int]) -> set[int]:
    """The customers that may have credit to apply (`payments.available_credit`): a live
    payment or credit transaction not used up by its applications and the refunds naming
    it. Refunds naming no transaction are left out, so a customer may be named whose credit
    they took, never the other way round (such a customer goes the per-package way).

    :param customer_ids: the customers of the chunk.
    """
    if not customer_ids:
        return set()
    applied = (select(func.coalesce(func.sum(TransactionApplication.amount_minor), 0))
               .where(TransactionApplication.transaction_id == Transaction.id).scalar_subquery())
    refund = Transaction.__table__.alias("refund")
    refunded = (select(func.coalesce(func.sum(refund.c.amount_minor), 0))
                .where(refund.c.refund_of_id == Transaction.id,
                       refund.c.transaction_type == TransactionType.REFUND,
                       refund.c.voided_at.is_(None)).scalar_subquery())
    return set(db.session.scalars(select(Transaction.customer_id).distinct().where(
        Transaction.customer_id.in_(customer_ids),
        Transaction.transaction_type.in_((TransactionType.PAYMENT, TransactionType.CREDIT)),
        Transaction.voided_at.is_(None), Transaction.amount_minor > applied + refunded)))

"""What the pure invoice computation needs, read from the database for one package.

`portal.billing.invoicing.compute_invoice_lines` is a pure function of these inputs:
line specs, per-(line, period) usage aggregates, and the non-void charges already billed.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, select

from portal.billing.invoicing import BilledCharge, LineSpec, QuantityChange as CoreQuantity
from portal.billing.money import from_minor
from portal.billing.periods import Period
from portal.billing.pricing import PriceModel
from portal.extensions import db
from portal.models import Invoice, InvoiceLine, LineItem, Package, UsageRecord
from portal.services.suspensions import suspension_spans


def line_spec(line: LineItem, pricing: PriceModel) -> LineSpec:
    """The billing core's view of a package line.

    :param line: the line item (with its item and quantity history loaded).
    :param pricing: the price model in force on the line.
    """
    item = line.item
    trial_end = line.subscribe_at + timedelta(days=line.trial_days) if line.trial_days else None
    return LineSpec(
        line_item_id=line.id, item_id=item.id, name=line.descrip or item.name,
        units=item.units or "unit", units_plural=item.units_plural or item.units or "units",
        pricing=pricing, is_metered=item.is_metered,
        subscribe_at=line.subscribe_at, cancel_at=line.cancel_at, trial_end=trial_end,
        quantities=tuple(CoreQuantity(q.effective_at, q.quantity) for q in line.quantity_changes),
        pauses=suspension_spans(line.package),
    )


def _aggregate_column(usage_type: str):
    return {"add": func.sum, "max": func.max}[usage_type](UsageRecord.usage_value)


def _usage_window(spec: LineSpec, period: Period):
    """Records of the line in the period, outside its trial and before its cancel."""
    start = max(period.start, spec.trial_end) if spec.trial_end else period.start
    end = min(period.end, spec.cancel_at) if spec.cancel_at else period.end
    return and_(UsageRecord.line_item_id == spec.line_item_id,
                UsageRecord.from_at >= start, UsageRecord.from_at < end)


def usage_aggregate(spec: LineSpec, usage_type: str, period: Period) -> Decimal:
    """The period's aggregated usage of one line (add: sum, max: maximum, lat: latest).

    :param spec: the line.
    :param usage_type: the item's aggregation.
    :param period: the period (a cancelled package's last period ends at the cancel).
    """
    window = _usage_window(spec, period)
    if usage_type == "lat":
        # Latest by `from`; ties broken by arrival order (the id).
        stmt = (select(UsageRecord.usage_value).where(window)
                .order_by(UsageRecord.from_at.desc(), UsageRecord.id.desc()).limit(1))
    else:
        stmt = select(_aggregate_column(usage_type)).where(window)
    value = db.session.scalar(stmt)
    return Decimal(0) if value is None else value


def usage_by_period(lines: Iterable[LineItem], specs: dict[int, LineSpec],
                    periods: Iterable[Period]) -> dict[tuple[int, datetime], Decimal]:
    """Aggregates for every metered line and period, keyed (line_item_id, period.start)."""
    result = {}
    for period in periods:
        for line in lines:
            if line.item.is_metered:
                spec = specs[line.id]
                result[(line.id, period.start)] = usage_aggregate(spec, line.item.usage_type, period)
    return result


def billed_charges(line_ids: list[int], currency: str) -> tuple[BilledCharge, ...]:
    """Every non-void charge billed so far for these lines (the reconciliation's `billed`)."""
    if not line_ids:
        return ()
    rows = db.session.execute(
        select(InvoiceLine.line_item_id, InvoiceLine.period_start, InvoiceLine.kind,
               InvoiceLine.amount_minor, InvoiceLine.line_quantity)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.line_item_id.in_(line_ids), Invoice.status != "void-void")
    )
    return tuple(BilledCharge(r.line_item_id, r.period_start, r.kind,
                              from_minor(r.amount_minor, currency), r.line_quantity)
                 for r in rows)


def changed_since(package: Package, since: datetime | None, before: datetime) -> list[datetime]:
    """`from` instants of usage that arrived since `since` for periods before `before`,
    and period starts of charges released by voids since then: what late runs must revisit.

    :param package: the package.
    :param since: when the package was last invoiced (minus a margin); None = never.
    :param before: the start of the oldest period the run reconciles anyway.
    """
    if since is None:
        return []
    line_ids = [line.id for line in package.line_items]
    late_usage = select(UsageRecord.from_at).where(
        UsageRecord.line_item_id.in_(line_ids), UsageRecord.from_at < before,
        UsageRecord.created_at >= since).distinct()
    voided = select(InvoiceLine.period_start).join(Invoice).where(
        Invoice.package_id == package.id, Invoice.status == "void-void",
        Invoice.voided_at >= since, InvoiceLine.period_start.is_not(None)).distinct()
    return list(db.session.scalars(late_usage)) + list(db.session.scalars(voided))


def last_invoiced_at(package: Package) -> datetime | None:
    """When the package's latest invoice was written (None before its first)."""
    return db.session.scalar(
        select(func.max(Invoice.created_at)).where(Invoice.package_id == package.id)
    )


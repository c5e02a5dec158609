"""What the pure invoice computation needs, read from the database for one package.

`portal.billing.invoicing.compute_invoice_lines` is a pure function of these inputs:
line specs, per-(line, period) usage aggregates, and the non-void charges already billed
(with the price model each was computed with). `consume_changes` reads and deletes the
package's change log (`portal.models.billing_changes`).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, or_, select

from portal.billing.cycles import line_usage_periods
from portal.billing.invoicing import BilledCharge, LineSpec, QuantityChange as CoreQuantity
from portal.billing.money import from_minor
from portal.billing.periods import Period
from portal.billing.pricemodel import pricemodel_from_data
from portal.billing.pricing import PriceModel
from portal.billing.vocabulary import InvoiceStatus
from portal.extensions import db
from portal.models import BillingChange, Invoice, InvoiceLine, LineItem, UsageRecord
from portal.services.suspensions import suspension_spans


def line_spec(line: LineItem, pricing: PriceModel, anchor: date | None = None) -> LineSpec:
    """The billing core's view of a package line.

    A line ends at the earlier of its own and its package's cancel. It is billed on its own
    cycle (counted from ``anchor``) when its price model's paycycle differs from the package's.
    :param line: the line item (with its item, package and quantity history loaded).
    :param pricing: the price model in force on the line.
    :param anchor: the package's anchor date (None: never on an own cycle).
    """
    item, package = line.item, line.package
    trial_end = line.subscribe_at + timedelta(days=line.trial_days) if line.trial_days else None
    cancels = [i for i in (line.cancel_at, package.cancel_at) if i is not None]
    own = pricing.paycycle not in (None, package.paycycle) and anchor is not None
    return LineSpec(
        line_item_id=line.id, item_id=item.id, name=line.descrip or item.name,
        units=item.units or "unit", units_plural=item.units_plural or item.units or "units",
        pricing=pricing, is_metered=item.is_metered,
        subscribe_at=line.subscribe_at, cancel_at=min(cancels, default=None), trial_end=trial_end,
        quantities=tuple(CoreQuantity(q.effective_at, q.quantity) for q in line.quantity_changes),
        pauses=suspension_spans(line.package),
        cycle=(anchor, pricing.paycycle) if own else None,
        prorate_start=line.prorate_subscribe,
        # The line's own cancel may skip proration; the package's cancel always prorates.
        prorate_end=line.prorate_cancel or line.cancel_at is None
        or (package.cancel_at is not None and package.cancel_at < line.cancel_at),
    )


def _aggregate_column(usage_type: str):
    return {"add": func.sum, "max": func.max}[usage_type](UsageRecord.usage_value)


def usage_bounds(spec: LineSpec, period: Period) -> tuple[datetime, datetime]:
    """The [start, end) of the line's billed usage in the period: outside its trial and
    before its cancel (start >= end: nothing is billed)."""
    start = max(period.start, spec.trial_end) if spec.trial_end else period.start
    end = min(period.end, spec.cancel_at) if spec.cancel_at else period.end
    return start, end


def _usage_window(spec: LineSpec, period: Period):
    """Records of the line in the period, outside its trial and before its cancel."""
    start, end = usage_bounds(spec, period)
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
                    periods: Iterable[Period], instant: datetime,
                    tz: ZoneInfo) -> dict[tuple[int, datetime], Decimal]:
    """Aggregates for every metered line and each of its usage periods (its own cycle's for
    a line on its own paycycle), keyed (line_item_id, period.start)."""
    periods = list(periods)
    result = {}
    for line in lines:
        if line.item.is_metered:
            spec = specs[line.id]
            for period in line_usage_periods(spec, periods, instant, tz):
                result[(line.id, period.start)] = usage_aggregate(spec, line.item.usage_type, period)
    return result


def billed_charges(line_ids: list[int], currency: str,
                   starts: set[datetime] | None = None) -> tuple[BilledCharge, ...]:
    """Every non-void charge billed so far for these lines (in the periods starting at
    `starts`, and every setup fee, when given), in billing order, each with the price model
    it was computed with (the reconciliation's `billed`)."""
    if not line_ids:
        return ()
    models: dict[str, PriceModel] = {}
    return tuple(billed_charge(r, currency, models) for r in billed_rows(line_ids, starts))


def billed_rows(line_ids: list[int], starts: set[datetime] | None = None):
    """The rows of `billed_charges` for these lines (of one package or of many), in billing order.

    :param line_ids: line item ids.
    :param starts: only the charges of periods starting at these instants, and every setup
        fee (`cycles.reconciled_starts`: what an invoice can reconcile), so that the rows
        read do not grow with the lines' history; None: every charge.
    """
    query = (select(InvoiceLine.line_item_id, InvoiceLine.period_start, InvoiceLine.kind,
                    InvoiceLine.amount_minor, InvoiceLine.line_quantity, InvoiceLine.pricing)
             .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
             .where(InvoiceLine.line_item_id.in_(line_ids), Invoice.status != InvoiceStatus.VOID)
             .order_by(Invoice.id, InvoiceLine.position))
    if starts is not None:
        query = query.where(or_(InvoiceLine.kind == "setup", InvoiceLine.period_start.in_(sorted(starts))))
    return db.session.execute(query)


def billed_charge(row, currency: str, models: dict[str, PriceModel]) -> BilledCharge:
    """One row of `billed_rows` as the core takes it.

    :param row: the row.
    :param currency: the package's currency.
    :param models: the price models parsed so far, by their stored JSON (filled in).
    """
    return BilledCharge(row.line_item_id, row.period_start, row.kind,
                        from_minor(row.amount_minor, currency), row.line_quantity,
                        _model(row.pricing, models))


def _model(data: dict | None, models: dict[str, PriceModel]) -> PriceModel | None:
    """A stored price model, parsed once per distinct model."""
    if data is None:
        return None
    key = json.dumps(data, sort_keys=True)
    if key not in models:
        models[key] = pricemodel_from_data(data)
    return models[key]


def consume_changes(package_id: int, before: datetime | None) -> list[datetime]:
    """Delete the package's logged changes (those before `before`; all when None) and
    return their instants. Runs in the invoice's transaction: a change committed after this
    statement is not deleted and waits for the next invoice.

    :param package_id: the package.
    :param before: keep changes at or after this instant (the period not yet billed).
    """
    stmt = delete(BillingChange).where(BillingChange.package_id == package_id)
    if before is not None:
        stmt = stmt.where(BillingChange.at < before)
    stmt = stmt.returning(BillingChange.at).execution_options(synchronize_session=False)
    return list(db.session.scalars(stmt))

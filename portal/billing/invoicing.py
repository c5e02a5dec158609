"""The invoice as a pure function, modelled as RECONCILIATION (docs/billing-rules.md §7).

For every charge key (line_item_id, period_start, kind) the caller asks about, the target
amount (rounded half-up per line) is compared with what non-void invoices already billed
for that key, and a line is emitted for the difference. Whatever the order and timing of
usage arrivals, runs and voids, after a run the billed sum per key equals its target: billing
is order independent by construction.

Kinds: ``setup`` (once per line; keyed by line only, its period_start is ignored when
matching), ``base`` and ``quantity`` (in advance, prorated by days, see
`portal.billing.proration`), ``usage`` (in arrears, metered lines only).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext

from portal.billing import descriptions as text
from portal.billing.charges import (
    KINDS, BilledCharge, DraftLine, InvoiceRequest, LineSpec, QuantityChange, Totals,
)
from portal.billing.cycles import line_advance_periods, line_usage_periods
from portal.billing.errors import ValidationError
from portal.billing.money import EXACT, format_decimal, minor_units, quantize_money
from portal.billing.periods import Period
from portal.billing.pricing import PriceModel, TierCharge, price_quantity, tier_breakdown
from portal.billing.proration import (
    Proration, billable_start, lifetime_overlaps, prorate, prorated_charge,
)

__all__ = [
    "KINDS", "BilledCharge", "DraftLine", "InvoiceRequest", "LineSpec", "QuantityChange",
    "Totals", "compute_invoice_lines", "due_date", "invoice_totals", "prorated_minimum",
]

_Key = tuple[int, datetime | None, str]
_Models = dict[tuple[int, datetime], PriceModel]
# Models whose line shows a tier breakdown (a flat fee has none, uni's rate says it all).
_TIERED = ("tie", "vol", "stp", "pkg")


@dataclass(frozen=True)
class _Target:
    """What a key should amount to in total, and how to describe it."""

    line: LineSpec
    kind: str
    period: Period
    amount: Decimal
    quantity: Decimal
    rate: Decimal | None
    descrip: str
    note: str
    show_when_zero: bool
    tiers: tuple[TierCharge, ...] = ()


def compute_invoice_lines(req: InvoiceRequest) -> list[DraftLine]:
    """The lines of an invoice: for each requested key, target minus already billed.

    Order: advance lines first (per advance period by start, per line: setup, base,
    quantity), then usage lines per usage period by start, per line.

    A key never billed before yields a line even at 0 (usage, base and quantity of a line
    alive in the period: the invoice shows "0 minutes"); after that only non-zero
    differences, as adjustments naming their period. A period outside a line's lifetime
    targets 0, so anything billed for it is credited back. A base key exists only for a line
    with a base (``fla``, or ``base`` ≠ 0); a quantity key only for a non-metered, non-flat
    line. Prices are the line's current ``pricing``: reconciling an old period again after a
    price change re-prices it.

    Usage during a trial must be left out of ``req.usage`` by the caller; the minimum applies
    only when the line is billable (after its trial, before its cancel) in the period.

    :param req: the invoice request (lines, periods, usage aggregates, billed charges).
    :returns: the draft lines, each rounded to the currency's minor unit.
    :raises ValidationError: unknown currency.
    """
    minor_units(req.currency)
    billed, models = _billed_index(req.billed), _models(req.billed)
    targets = _advance_targets(req, models) + _usage_targets(req, models)
    drafts = (_settle(t, billed.get(_key(t.line.line_item_id, t.period.start, t.kind)), req)
              for t in targets)
    return [draft for draft in drafts if draft is not None]


def _key(line_item_id: int, period_start: datetime, kind: str) -> _Key:
    # A setup fee is owed once per line, whichever period it was first billed with.
    return line_item_id, None if kind == "setup" else period_start, kind


def _billed_index(billed: tuple[BilledCharge, ...]) -> dict[_Key, tuple[Decimal, Decimal]]:
    index: dict[_Key, tuple[Decimal, Decimal]] = {}
    for charge in billed:
        key = _key(charge.line_item_id, charge.period_start, charge.kind)
        amount, quantity = index.get(key, (Decimal(0), Decimal(0)))
        index[key] = (amount + charge.amount, quantity + charge.quantity)
    return index


def _models(billed: tuple[BilledCharge, ...]) -> _Models:
    """The price model each billed (line, period) keeps: that of its first known charge."""
    models: _Models = {}
    for charge in billed:
        if charge.pricing is not None:
            models.setdefault((charge.line_item_id, charge.period_start), charge.pricing)
    return models


def _priced(line: LineSpec, period: Period, models: _Models) -> LineSpec:
    """The line as priced for this period: with the model the period keeps, if billed."""
    kept = models.get((line.line_item_id, period.start))
    return line if kept is None or kept == line.pricing else replace(line, pricing=kept)


def _settle(
    target: _Target, billed: tuple[Decimal, Decimal] | None, req: InvoiceRequest
) -> DraftLine | None:
    line, period = target.line, target.period
    if billed is None:
        if target.amount == 0 and not target.show_when_zero:
            return None
        return DraftLine(line.line_item_id, line.item_id, target.kind, period, target.quantity,
                         target.rate, target.amount, target.descrip, False, target.tiers,
                         line.pricing)
    difference = target.amount - billed[0]
    if difference == 0:
        return None
    label = text.period_label(period, req.tz)
    descrip = text.adjustment_text(line, target.kind, difference, label, target.note)
    return DraftLine(line.line_item_id, line.item_id, target.kind, period,
                     target.quantity - billed[1], None, difference, descrip, True, (),
                     line.pricing)


def _advance_targets(req: InvoiceRequest, models: _Models) -> list[_Target]:
    keyed = []  # (period start, line position, targets): sorted by period, then line
    for position, line in enumerate(req.lines):
        periods = line_advance_periods(line, req.advance_periods, req.tz)
        setup_period = _setup_period(line, periods)
        for period in periods:
            keyed.append((period.start, position,
                          _line_advance(req, _priced(line, period, models), period,
                                        setup_period == period)))
    keyed.sort(key=lambda entry: entry[:2])
    return _with_discounts(req, [target for _, _, targets in keyed for target in targets])


def _with_discounts(req: InvoiceRequest, targets: list[_Target]) -> list[_Target]:
    """A percent discount line's base is minus its percent of the other lines' base and
    quantity charges of the same period, prorated by the discount line's own days."""
    if all(t.line.pricing.percent is None for t in targets):
        return targets
    totals: dict[tuple, Decimal] = {}
    for t in targets:
        if t.line.pricing.percent is None and t.kind in ("base", "quantity"):
            key = (t.period.start, t.period.end)
            totals[key] = totals.get(key, Decimal(0)) + t.amount
    return [_discount(req, t, totals.get((t.period.start, t.period.end), Decimal(0)))
            if t.line.pricing.percent is not None and t.kind == "base" else t for t in targets]


def _discount(req: InvoiceRequest, target: _Target, total: Decimal) -> _Target:
    line, period, percent = target.line, target.period, target.line.pricing.percent
    proration = prorate(line, period, req.tz)
    with localcontext(EXACT):
        amount = -prorated_charge(proration, lambda q: total * percent / 100 * q)
    label, note = text.period_label(period, req.tz), text.proration_note(line, proration)
    return replace(target, amount=quantize_money(amount, req.currency), rate=None,
                   descrip=f"{line.name}: {format_decimal(percent)}% discount, {label}{note}")


def _line_advance(req: InvoiceRequest, line: LineSpec, period: Period,
                  with_setup: bool) -> list[_Target]:
    targets = [_setup_target(req, line, period)] if with_setup else []
    proration = prorate(line, period, req.tz)
    if line.pricing.pricemodel == "fla" or line.pricing.base != 0:
        targets.append(_base_target(req, line, period, proration))
    if not line.is_metered and line.pricing.pricemodel != "fla":
        targets.append(_quantity_target(req, line, period, proration))
    return targets


def _setup_period(line: LineSpec, periods: list[Period]) -> Period | None:
    """The period a setup fee is reconciled with: the first one the line is billable in,
    else (never billable, e.g. still in trial) the first one it exists in, else none."""
    starts = billable_start(line)
    billable = [p for p in periods if starts < p.end]
    existing = [p for p in periods if line.subscribe_at < p.end]
    return (billable or existing or [None])[0]


def _start(period: Period) -> datetime:
    return period.start


def _setup_target(req: InvoiceRequest, line: LineSpec, period: Period) -> _Target:
    # Owed once the line is billable (after any trial), unless cancelled before that.
    starts = billable_start(line)
    owed = starts < period.end and (line.cancel_at is None or starts < line.cancel_at)
    amount = quantize_money(line.pricing.setup, req.currency) if owed else Decimal(0)
    return _Target(line, "setup", period, amount, Decimal(1 if owed else 0), line.pricing.setup,
                   text.setup_text(line), "", False)


def _base_target(
    req: InvoiceRequest, line: LineSpec, period: Period, proration: Proration
) -> _Target:
    pm = line.pricing
    per_quantity = pm.pricemodel == "fla"
    amount = prorated_charge(proration, lambda q: pm.base * q if per_quantity else pm.base)
    shown = proration.quantity if per_quantity else Decimal(1 if proration.segments else 0)
    label, note = text.period_label(period, req.tz), text.proration_note(line, proration)
    return _Target(line, "base", period, quantize_money(amount, req.currency), shown, pm.base,
                   text.base_text(line, shown if per_quantity else Decimal(1), label, note),
                   note, lifetime_overlaps(line, period))


def _quantity_target(
    req: InvoiceRequest, line: LineSpec, period: Period, proration: Proration
) -> _Target:
    pm = line.pricing
    amount = prorated_charge(proration, lambda q: price_quantity(pm, q))
    quantity = proration.quantity
    tiers = tier_breakdown(pm, quantity) if proration.is_full and pm.pricemodel in _TIERED else ()
    label, note = text.period_label(period, req.tz), text.proration_note(line, proration)
    return _Target(line, "quantity", period, quantize_money(amount, req.currency), quantity,
                   _unit_rate(line), text.quantity_line_text(line, quantity, label, note),
                   note, lifetime_overlaps(line, period), tiers)


def _usage_targets(req: InvoiceRequest, models: _Models) -> list[_Target]:
    instant = req.instant or max((p.end for p in req.usage_periods), default=None)
    keyed = [
        (period.start, position, _usage_target(req, _priced(line, period, models), period))
        for position, line in enumerate(req.lines) if line.is_metered
        for period in line_usage_periods(line, req.usage_periods, instant, req.tz)
    ]
    keyed.sort(key=lambda entry: entry[:2])
    return [target for _, _, target in keyed]


def _usage_target(req: InvoiceRequest, line: LineSpec, period: Period) -> _Target:
    pm = line.pricing
    quantity = req.usage.get((line.line_item_id, period.start), Decimal(0))
    price = price_quantity(pm, quantity)
    minimum = prorated_minimum(line, period, req.tz)
    charge = price if minimum is None else max(price, minimum)
    minimum_applied = charge != price
    note = " (minimum charge)" if minimum_applied else ""
    tiers = tier_breakdown(pm, quantity) if pm.pricemodel in _TIERED else ()
    label = text.period_label(period, req.tz)
    return _Target(line, "usage", period, quantize_money(charge, req.currency), quantity,
                   None if minimum_applied else _unit_rate(line),
                   text.quantity_line_text(line, quantity, label, note), note,
                   lifetime_overlaps(line, period), tiers)


def prorated_minimum(line: LineSpec, period: Period, tz) -> Decimal | None:
    """The usage minimum owed for a period: ``minimum`` × billable days / period days (exact).

    None when the line has no minimum or is not billable in the period (e.g. a full trial).

    :param line: the line (its price model as priced for the period).
    :param period: the full usage period (a final period is cut by the line's cancel).
    :param tz: the merchant time zone (days are local calendar days).
    """
    minimum = line.pricing.minimum
    if minimum is None:
        return None
    proration = prorate(line, period, tz)
    if not proration.segments:
        return None
    return prorated_charge(proration, lambda _quantity: minimum)


def _unit_rate(line: LineSpec) -> Decimal | None:
    # Only a single-rate model has one rate that explains the amount (quantity × rate).
    return line.pricing.tiers[0].amount if line.pricing.pricemodel == "uni" else None


def invoice_totals(lines: Iterable[DraftLine], tax_rate: Decimal, currency: str) -> Totals:
    """Sums of an invoice: its rounded lines, plus tax rounded once on the subtotal.

    :param lines: the invoice's lines (amounts already rounded).
    :param tax_rate: e.g. ``Decimal("0.0825")`` for 8.25 %.
    :param currency: ISO 4217 code.
    :raises ValidationError: negative tax rate or unknown currency.
    """
    if tax_rate < 0:
        raise ValidationError("tax_rate", "must not be negative")
    lines = tuple(lines)
    usage = sum((line.amount for line in lines if line.kind == "usage"), Decimal(0))
    others = sum((line.amount for line in lines if line.kind != "usage"), Decimal(0))
    sum_usage, sum_base = quantize_money(usage, currency), quantize_money(others, currency)
    subtotal = sum_base + sum_usage
    taxes = quantize_money(subtotal * tax_rate, currency)
    return Totals(sum_base, sum_usage, subtotal, taxes, subtotal + taxes)


def due_date(invoice_date: date, terms_days: int) -> date:
    """The date payment is due.

    :param invoice_date: the invoice date.
    :param terms_days: payment terms in days (0 = due on receipt).
    :raises ValidationError: negative or non-integer terms.
    """
    if isinstance(terms_days, bool) or not isinstance(terms_days, int) or terms_days < 0:
        raise ValidationError("terms_days", "must be a whole number of days, 0 or more")
    return invoice_date + timedelta(days=terms_days)

"""The data invoicing works on: what a line is, what was billed, what to bill (frozen dataclasses).

`portal.billing.invoicing` re-exports every name here; import them from there.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from portal.billing.periods import Period
from portal.billing.pricing import PriceModel, TierCharge

# The kinds of charge, in the order an invoice lists them for one line.
KINDS = ("setup", "base", "quantity", "usage")


@dataclass(frozen=True)
class QuantityChange:
    """From ``effective_at`` on, the line's quantity is ``quantity`` (drives day proration)."""

    effective_at: datetime
    quantity: Decimal


@dataclass(frozen=True)
class LineSpec:
    """A package line item as billing needs it; ``quantities`` is sorted by effective_at.

    The first quantity applies from the line's subscription (even if its effective_at is
    later); an empty history means quantity 1. ``pauses`` are the package's suspensions as
    (start, end or None = open) instants: their days are not charged in advance (usage is).
    ``cycle`` is (anchor date, paycycle) when the line is billed on its own cycle (its item's
    paycycle differs from the package's); None bills it on the package's periods.
    ``prorate_start``/``prorate_end`` False charge the whole period the line starts or ends
    in (ChargeOver's subscribe_prorate / cancel_prorate on an upgrade).
    """

    line_item_id: int
    item_id: int
    name: str
    units: str
    units_plural: str
    pricing: PriceModel
    is_metered: bool
    subscribe_at: datetime
    cancel_at: datetime | None
    trial_end: datetime | None
    quantities: tuple[QuantityChange, ...]
    cycle: tuple[date, str] | None = None
    pauses: tuple[tuple[datetime, datetime | None], ...] = ()
    prorate_start: bool = True
    prorate_end: bool = True


@dataclass(frozen=True)
class BilledCharge:
    """A charge already on a non-void invoice: the sum of these per key is what was billed.

    ``pricing`` is the price model the charge was computed with (None: unknown, e.g. a
    charge stored before models were kept); the first known one of a (line, period) is the
    model that period keeps.
    """

    line_item_id: int
    period_start: datetime
    kind: str
    amount: Decimal
    quantity: Decimal
    pricing: PriceModel | None = None


@dataclass(frozen=True)
class DraftLine:
    """An invoice line to write: the (line item, period, kind) it settles and its rounded amount.

    ``amount`` is already rounded to the currency's minor unit; adjustments may be negative.
    """

    line_item_id: int
    item_id: int
    kind: str
    period: Period
    quantity: Decimal
    rate: Decimal | None
    amount: Decimal
    descrip: str
    is_adjustment: bool
    tiers: tuple[TierCharge, ...] = ()
    # The model the line was priced with (stored with the charge; not part of its identity).
    pricing: PriceModel | None = field(default=None, compare=False)


@dataclass(frozen=True)
class InvoiceRequest:
    """Everything one invoice is a function of.

    ``advance_periods``: periods whose setup/base/quantity charges are reconciled.
    ``usage_periods``: periods whose usage charges are reconciled (a cancelled package's last
    period ends at the cancel instant but keeps its start, so its key is unchanged).
    ``usage``: aggregated quantity per (line_item_id, period.start); a missing key is 0.
    ``billed``: the non-void charges already billed (a void invoice's charges left out), in
    billing order (the first charge of a (line, period) fixes its price model): at least
    every charge of the requested keys' periods and every setup fee; others are ignored.
    ``instant``: the invoice's instant; a line on its own cycle has its usage billed for the
    own periods that ended by then (None: the latest end among ``usage_periods``).
    """

    currency: str
    tz: ZoneInfo
    lines: tuple[LineSpec, ...]
    advance_periods: tuple[Period, ...]
    usage_periods: tuple[Period, ...]
    usage: Mapping[tuple[int, datetime], Decimal]
    billed: tuple[BilledCharge, ...]
    instant: datetime | None = None


@dataclass(frozen=True)
class Totals:
    """An invoice's sums, each rounded to the currency's minor unit."""

    sum_base: Decimal
    sum_usage: Decimal
    subtotal: Decimal
    taxes: Decimal
    total: Decimal

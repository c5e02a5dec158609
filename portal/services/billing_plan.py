"""Which periods one invoice of a package reconciles, and its next boundary (pure over the
loaded package; no statement is sent).

Shared by the per-package path (`services/billing.py`) and the chunked one
(`services/billing_chunk.py`), so both bill exactly the same periods. The rules (current
period in advance, the one that just ended for usage, periods of a line's history, periods
named in the change log, the hold before period 0, a final invoice mid-period) are
described in `services/billing.py`'s docstring and docs/billing-rules.md §7.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.billing.cycles import history_instants, lifetime_instants
from portal.billing.periods import Period, boundary, period_at, period_containing
from portal.billing.pricing import PriceModel
from portal.models import LineItem, Package
from portal.services import merchant_tz
from portal.services.billing_inputs import line_spec
from portal.services.package_periods import package_hold_period, package_usage_period
from portal.services.packages import package_anchor

_NO_PRICE = PriceModel("fla")


@dataclass(frozen=True)
class BoundaryPlan:
    """What the invoice at one boundary reconciles and shows, and where the package goes next."""

    advance: tuple[Period, ...]
    usage: tuple[Period, ...]
    pre_period: Period | None
    post_period: Period | None
    next_at: datetime | None


def plan_boundary(package: Package, instant: datetime, final: bool,
                  changed: list[datetime]) -> BoundaryPlan:
    """The periods of the invoice at `instant` (the boundary, or the cancel instant).

    :param package: the package with its lines loaded (for a final invoice: already ended).
    :param instant: the boundary or, for a final invoice, the cancel instant.
    :param final: whether this is the package's final invoice.
    :param changed: the instants of the change-log rows consumed by this invoice.
    """
    anchor = package_anchor(package)
    current = period_containing(anchor, package.paycycle, instant, merchant_tz())
    previous = (period_at(anchor, package.paycycle, current.index - 1, merchant_tz())
                if current.index > 0 else None)
    # Usage of a holduntil hold goes on the first invoice (and on a final one during the hold).
    hold = package_hold_period(package, until=instant) if current.index <= 0 else None
    usage_end = current.index + 1 if final else current.index  # periods whose usage is owed
    advance = [current] + [p for p in periods_of(package, changed) + history_periods(package)
                           if p.index <= current.index]
    usage = [p for p in periods_of(package, changed, hold=True) + lifetime_periods(package)
             if p.index < usage_end]
    if previous is not None:
        usage.append(previous)
    elif hold is not None:
        usage.append(hold)
    if current.index < 0:  # canceled during its hold: only the hold's usage is billed
        advance = []
    elif final and instant > current.start:  # a final invoice mid-period bills usage up to the cancel
        usage.append(current)
    post = (Period(current.start, instant, current.index) if final and instant > current.start
            and current.index >= 0 else previous or hold)
    return BoundaryPlan(merge(advance), merge(usage), None if final else current, post,
                        _next_instant(package, anchor, current, final))


def boundary_span(package: Package, instant: datetime) -> tuple[Period | None, datetime]:
    """For a (non-final) invoice at `instant`: the package period before the one containing
    it (None for the first invoice), and the package's next boundary.

    :param package: the package.
    :param instant: the boundary.
    """
    anchor = package_anchor(package)
    current = period_containing(anchor, package.paycycle, instant, merchant_tz())
    previous = (period_at(anchor, package.paycycle, current.index - 1, merchant_tz())
                if current.index > 0 else None)
    return previous, _next_instant(package, anchor, current, False)


def periods_of(package: Package, instants, hold: bool = False) -> list[Period]:
    """The distinct package periods containing these instants, in order: the hold before
    period 0 (a usage period only) when `hold`, none before the package's start."""
    found: list[Period] = []
    for instant in sorted(set(instants)):
        # The change log names many instants of few periods: each period is found once
        # (a period search walks the boundaries; 200 usage rows must not mean 200 walks).
        if found and found[-1].start <= instant < found[-1].end:
            continue
        period = package_usage_period(package, instant)
        if period is not None:
            found.append(period)
    return [p for p in found if hold or p.index >= 0]


def history_periods(package: Package) -> list[Period]:
    """Periods whose in-advance charges a line's history changes (see the module docstring)."""
    return periods_of(package, {i for line in package.line_items
                                for i in _line_history(line, history_instants)})


def lifetime_periods(package: Package) -> list[Period]:
    """Periods whose usage charges a line's lifetime changes (start, trial end, cancel),
    the hold before period 0 included."""
    return periods_of(package, {i for line in package.line_items
                                for i in _line_history(line, lifetime_instants)}, hold=True)


def _line_history(line: LineItem, instants_of) -> list[datetime]:
    return instants_of(line_spec(line, _NO_PRICE))  # the price plays no part in its history


def merge(periods: list[Period]) -> tuple[Period, ...]:
    """Distinct periods by start, in order."""
    return tuple(sorted({p.start: p for p in periods}.values(), key=lambda p: p.start))


def _next_instant(package: Package, anchor, current: Period, final: bool) -> datetime | None:
    """The next boundary (or the cancel instant when it comes first); None after the final."""
    if final:
        return None
    following = boundary(anchor, package.paycycle, current.index + 1, merchant_tz())
    if package.cancel_at is not None and package.cancel_at < following:
        return package.cancel_at
    return following
